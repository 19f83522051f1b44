"""`local` / `background_replace`: keep the guests, put a new background behind
them (SPEC §4.2) — the slot's template image, a lit studio backdrop, a solid
colour, or a blur of the photo's own background.

How, and where the time goes (a 12 MP JPEG on one core of the development VM,
about 0.4 s in all; 0.5 s at 24 MP — bench/local_model.py):

1. Decode (libjpeg-turbo), upright by EXIF: ~90 ms.
2. A working copy of about a megapixel (integer downscale, area-averaged). All the
   thinking happens there: the person mask (`PersonSegmenter`), its refinement
   to the photo's edges (a guided filter), the guests' true edge colours (blur
   fusion foreground estimation, so hair does not keep a fringe of the old wall),
   light wrap and colour match. The results are an alpha mask and a colour
   correction, both smooth at this scale: ~20 ms to shrink, ~30 ms to segment,
   ~45 ms for the mask, ~25 ms for the correction.
3. At full resolution only per-pixel work, and only where it matters: the photo
   is cut into tiles of about 256×256; a tile of pure background keeps the new
   background, a tile inside a guest is copied from the photo, and only tiles on
   an edge upscale the mask and correction (exactly as one big bilinear resize
   would) and blend. No full-resolution float image is ever made: ~15 ms for
   the new background, ~55 ms to composite.
4. Encode in the photo's format at its size: ~35 ms for a JPEG.
"""

from __future__ import annotations

import functools
import io
import math
from typing import TYPE_CHECKING, Literal, cast

import cv2
import numpy
import numpy.typing as npt
from PIL import Image
from pydantic import Field

from photochanger.providers.base import OperationSettings
from photochanger.providers.local.backdrop import studio_backdrop
from photochanger.providers.local.imaging import RGBImage, decode, encode
from photochanger.providers.local.segmentation import PersonSegmenter, refine_mask

if TYPE_CHECKING:
    from cv2.typing import MatLike

Background = Literal["template", "studio", "color", "blur"]
FloatImage = npt.NDArray[numpy.float32]

_HEX_COLOUR = r"^#[0-9A-Fa-f]{6}$"

# The working copy's size, and the full-resolution tile size.
_WORK_PIXELS = 1_000_000
_TILE = 256
# Mask refinement, in fractions of the working copy's diagonal, and the mask
# confidence that becomes fully transparent (low) and fully opaque (high): a little
# above the middle, because a fringe of old background hurts more than a hair less.
_REFINE_RADIUS = 0.01
_REFINE_EPS = 1e-3
_MASK_LOW, _MASK_HIGH = 0.45, 0.8
# A photo whose mask never reaches this has nobody in it.
_PERSON_FOUND = 0.5
# Blur fusion radii (Forte and Pitié's two passes), fractions of the diagonal.
_FUSION_WIDE, _FUSION_NARROW = 0.06, 0.005
# The edge correction is computed at about this size.
_CORRECTION_PIXELS = 250_000
# Light wrap reaches this far into the guests (Gaussian sigma, fraction of diagonal).
_WRAP_REACH = 0.012
# The blur background: sigma at blur_strength 1, as a fraction of the diagonal.
_BLUR_MAX = 0.05
# Templates shrunk more than this are area-averaged.
_AREA_BELOW = 0.7
# Colour match never moves a channel by more than this factor.
_MATCH_LIMIT = 0.05
_LUMA = numpy.array([0.299, 0.587, 0.114], dtype=numpy.float32)
# Alpha values treated as fully transparent / opaque when skipping tiles.
_CLEAR, _SOLID = 0.5 / 255, 1 - 0.5 / 255


class BackgroundReplaceSettings(OperationSettings):
    """Settings of the `background_replace` operation."""

    background: Background = Field(
        default="studio",
        title="Background",
        description="template: the slot's template image with role 'background', scaled to "
        "cover the photo and centred (never stretched; a slot without one gets the studio "
        "backdrop); studio: a lit grey studio paper backdrop; color: a solid colour; "
        "blur: the photo's own background, blurred.",
    )
    color: str = Field(
        default="#2E5E8C",
        pattern=_HEX_COLOUR,
        title="Colour",
        description="The background colour for 'color', as #RRGGBB.",
    )
    studio_color: str = Field(
        default="#80848A",
        pattern=_HEX_COLOUR,
        title="Studio paper colour",
        description="The paper colour of the studio backdrop, as #RRGGBB; the light and "
        "vignette are added to it.",
    )
    blur_strength: float = Field(
        default=0.5,
        ge=0.05,
        le=1.0,
        allow_inf_nan=False,
        title="Blur strength",
        description="How blurred the background is for 'blur': 1 is a blur of 5 % of the "
        "photo's diagonal, 0.5 (default) a strong portrait-lens look.",
    )
    edge_softness: float = Field(
        default=1.0,
        ge=0.0,
        le=10.0,
        allow_inf_nan=False,
        title="Edge softness",
        description="Feathering of the guests' outline, in pixels of a 1-megapixel photo "
        "(scaled with the photo, so every size looks the same). 0 is the sharpest.",
    )
    refine_edges: bool = Field(
        default=True,
        title="Refine edges",
        description="Snap the outline to the photo's own edges (hair, shoulders) and remove "
        "the old background's colour from them. Off only to see the raw model.",
    )
    light_wrap: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        title="Light wrap",
        description="How much of the new background's light spills onto the guests' "
        "edges, so they sit in the scene instead of on top of it. 0 is off.",
    )
    color_match: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        title="Colour match",
        description="Shift the guests' colour balance towards the new background's light, "
        "by this share of the difference between old and new background (at most 5 % per "
        "colour; brightness is kept). 0 is off.",
    )
    jpeg_quality: int = Field(
        default=92,
        ge=50,
        le=100,
        title="JPEG/WebP quality",
        description="Quality of the result when the photo is a JPEG or WebP (PNG stays lossless).",
    )


def background_replace(
    data: bytes,
    settings: BackgroundReplaceSettings,
    segmenter: PersonSegmenter,
    background: bytes | None = None,
) -> tuple[bytes, str]:
    """Replace the background of an encoded photo; returns the result, encoded in
    the photo's own format at its own (upright) size, and its mime.

    `background` is the slot's encoded template image (used when
    `settings.background` is "template"). A photo in which the model finds
    nobody comes back unchanged: an empty backdrop is never what a guest wants.

    Raises `UndecodableImage` when the photo or the template cannot be decoded."""
    photo, fmt = decode(data)
    height, width = photo.shape[:2]
    factor = _work_factor(width, height)
    work = _shrink(photo, factor)

    coarse = segmenter.person_mask(work)
    if float(coarse.max()) < _PERSON_FOUND:
        return encode(photo, fmt, jpeg_quality=settings.jpeg_quality)
    alpha = _alpha(work, coarse, settings)

    canvas, canvas_work = _new_background(settings, background, photo, work, alpha, factor)
    table, gain = _colour_match(work, canvas_work, alpha, settings.color_match)
    correction = _edge_correction(work, canvas_work, alpha, gain, settings)
    _composite(photo, canvas, alpha, correction, table, factor)
    del photo, work  # free the decoded photo before encoding (24 MP: 72 MB)
    return encode(canvas, fmt, jpeg_quality=settings.jpeg_quality)


# -- the working copy ------------------------------------------------------------------


def _work_factor(width: int, height: int) -> int:
    """The integer downscale to about `_WORK_PIXELS` (integer, so the area
    average takes OpenCV's fast path and tiles map exactly onto the copy)."""
    return max(1, round(math.sqrt(width * height / _WORK_PIXELS)))


def _shrink(image: RGBImage, factor: int) -> RGBImage:
    if factor == 1:
        return image
    height, width = image.shape[0] // factor, image.shape[1] // factor
    whole = image[: height * factor, : width * factor]
    return cast(RGBImage, cv2.resize(whole, (width, height), interpolation=cv2.INTER_AREA))


def _diagonal(image: npt.NDArray[numpy.generic]) -> float:
    return math.hypot(image.shape[0], image.shape[1])


# -- the mask --------------------------------------------------------------------------


def _alpha(work: RGBImage, coarse: FloatImage, settings: BackgroundReplaceSettings) -> FloatImage:
    """The final opacity at working size: refined, contrast-shaped, feathered."""
    mask = coarse
    if settings.refine_edges:
        radius = max(2, round(_REFINE_RADIUS * _diagonal(work)))
        mask = refine_mask(work, coarse, radius=radius, eps=_REFINE_EPS)
    # In place from here: a fresh megapixel array costs page faults, which on a
    # virtual machine take as long as the arithmetic.
    alpha = numpy.subtract(mask, numpy.float32(_MASK_LOW))
    alpha *= numpy.float32(1 / (_MASK_HIGH - _MASK_LOW))
    numpy.clip(alpha, 0, 1, out=alpha)
    # smoothstep, a² (3 − 2a): no kink where the ramp clips
    square = numpy.square(alpha)
    alpha *= numpy.float32(-2)
    alpha += numpy.float32(3)
    alpha *= square
    if settings.edge_softness > 0:
        megapixels = work.shape[0] * work.shape[1] / 1e6
        sigma = settings.edge_softness * math.sqrt(megapixels)
        cv2.GaussianBlur(alpha, (0, 0), sigma, dst=alpha)
    return alpha


# -- the new background ----------------------------------------------------------------


def _new_background(
    settings: BackgroundReplaceSettings,
    template: bytes | None,
    photo: RGBImage,
    work: RGBImage,
    alpha: FloatImage,
    factor: int,
) -> tuple[RGBImage, RGBImage]:
    """The background at full size (a new, writable array: the result is
    composited into it) and at working size."""
    height, width = photo.shape[:2]
    work_height, work_width = work.shape[:2]
    kind = settings.background
    if kind == "template" and template is not None:
        fitted, fitted_work = _fitted_template(template, width, height, factor)
        return fitted.copy(), fitted_work
    if kind == "color":
        colour = _rgb(settings.color)
        full = numpy.empty((height, width, 3), dtype=numpy.uint8)
        full[...] = colour
        return full, numpy.full((work_height, work_width, 3), colour, dtype=numpy.uint8)
    if kind == "blur":
        low = _blurred_background(work, alpha, settings.blur_strength)
        return _resized(low, width, height), _resized(low, work_width, work_height)
    # studio, and template without a template image
    light_at = (_centre_x(alpha), 0.42)
    colour = _rgb(settings.studio_color)
    return (
        studio_backdrop(width, height, colour, light_at=light_at),
        studio_backdrop(work_width, work_height, colour, light_at=light_at),
    )


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour[1:], 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def _centre_x(alpha: FloatImage) -> float:
    """Where the guests stand, as a fraction of the width (the studio light goes
    behind them)."""
    columns = alpha.sum(axis=0)
    total = float(columns.sum())
    if total <= 0:
        return 0.5
    positions = (numpy.arange(alpha.shape[1], dtype=numpy.float32) + 0.5) / alpha.shape[1]
    return float((columns * positions).sum() / total)


def _blurred_background(work: RGBImage, alpha: FloatImage, strength: float) -> RGBImage:
    """The photo's background, blurred, without the guests bleeding into it: a
    normalised convolution that only averages background pixels (where the
    guests stood, the nearby background flows in). Computed on a copy small
    enough that the blur is about 8 pixels wide, since the result is smooth."""
    sigma_work = strength * _BLUR_MAX * _diagonal(work)
    scale = min(1.0, 8.0 / max(sigma_work, 1e-6))
    height, width = work.shape[:2]
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    small = _as_float(cv2.resize(work, size, interpolation=cv2.INTER_AREA))
    background = 1 - _as_float(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA))
    weight = background * background
    sigma = sigma_work * size[0] / width
    total = _as_float(cv2.GaussianBlur(small * weight[..., None], (0, 0), sigma))
    coverage = _as_float(cv2.GaussianBlur(weight, (0, 0), sigma))
    # Where no background is near (a guest filling the frame), a plain blur.
    plain = _as_float(cv2.GaussianBlur(small, (0, 0), sigma))
    floor = numpy.float32(1e-3)
    blurred = (total + floor * plain) / (coverage + floor)[..., None]
    return cast(RGBImage, numpy.clip(blurred + 0.5, 0, 255).astype(numpy.uint8))


@functools.lru_cache(maxsize=1)
def _fitted_template(
    data: bytes, width: int, height: int, factor: int
) -> tuple[RGBImage, RGBImage]:
    """The template decoded and fitted to the photo, at full and working size,
    read-only. Remembered for the last template and size: a booth sends photo
    after photo of the same size to the same slot, and decoding and scaling a
    12 MP template costs about 80 ms a photo, copying the fitted one 15 ms. The
    key is the template's bytes themselves (their hash is computed once per
    bytes object; a hit compares them), so a changed template is never stale.
    Costs one fitted template of memory (72 MB at 24 MP)."""
    full = _cover(_decode_template(data, width, height), width, height)
    work = _shrink(full, factor)
    full.flags.writeable = False
    work.flags.writeable = False
    return full, work


def _decode_template(data: bytes, width: int, height: int) -> RGBImage:
    """Decode the template no larger than the cover fit needs (a JPEG is scaled
    down in the decoder)."""
    needed: int | None = None
    try:
        with Image.open(io.BytesIO(data)) as probe:
            template_width, template_height = probe.size
            if probe.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                template_width, template_height = template_height, template_width
        scale = max(width / template_width, height / template_height)
        needed = math.ceil(template_width * template_height * scale * scale)
    except (OSError, ValueError, ZeroDivisionError, Image.DecompressionBombError):
        needed = None  # let decode() report what is wrong with it
    image, _ = decode(data, max_pixels=needed)
    return image


def _cover(image: RGBImage, width: int, height: int) -> RGBImage:
    """Scale to cover width×height and crop the middle: the template's aspect
    ratio is kept (a circle stays a circle). Returns a writable array the
    result can be composited into."""
    source_height, source_width = image.shape[:2]
    scale = max(width / source_width, height / source_height)
    crop_width = min(source_width, max(1, round(width / scale)))
    crop_height = min(source_height, max(1, round(height / scale)))
    left = (source_width - crop_width) // 2
    top = (source_height - crop_height) // 2
    crop = image[top : top + crop_height, left : left + crop_width]
    if crop.shape[:2] == (height, width):
        return crop if crop.flags.writeable else crop.copy()
    # Area averaging where it matters (it is several times slower than bilinear
    # at a non-integer ratio); a mild reduction aliases no more than bilinear.
    interpolation = cv2.INTER_AREA if scale < _AREA_BELOW else cv2.INTER_LINEAR
    return cast(RGBImage, cv2.resize(crop, (width, height), interpolation=interpolation))


# -- making the guests belong ----------------------------------------------------------


def _colour_match(
    work: RGBImage, canvas: RGBImage, alpha: FloatImage, amount: float
) -> tuple[npt.NDArray[numpy.uint8] | None, FloatImage]:
    """Per-channel gains that move the guests' colour balance from the old
    background's light towards the new one's, keeping brightness; as a table
    for cv2.LUT (None when there is nothing to change) and as the gains."""
    neutral = numpy.ones(3, dtype=numpy.float32)
    # Every 4th pixel of every 4th row is plenty for two mean colours.
    opacity, photo, backdrop = alpha[::4, ::4], work[::4, ::4], canvas[::4, ::4]
    old_mask = opacity < 0.05
    if amount <= 0 or int(old_mask.sum()) < 0.02 * opacity.size:
        return None, neutral
    old = photo[old_mask].mean(axis=0).astype(numpy.float32) + 1
    new = backdrop[opacity < 0.5].mean(axis=0).astype(numpy.float32) + 1
    cast_old, cast_new = old / float(old @ _LUMA), new / float(new @ _LUMA)
    gain = (cast_new / cast_old) ** amount
    gain = numpy.clip(gain / float(gain @ _LUMA), 1 - _MATCH_LIMIT, 1 + _MATCH_LIMIT)
    if numpy.abs(gain - 1).max() < 0.005:
        return None, neutral
    levels = numpy.arange(256, dtype=numpy.float32)[:, None] * gain[None, :]
    table = numpy.clip(levels + 0.5, 0, 255).astype(numpy.uint8).reshape(1, 256, 3)
    return table, gain.astype(numpy.float32)


def _edge_correction(
    work: RGBImage,
    canvas: RGBImage,
    alpha: FloatImage,
    gain: FloatImage,
    settings: BackgroundReplaceSettings,
) -> tuple[FloatImage, int] | None:
    """What to add to the guests' pixels (0..255 units, already multiplied by
    alpha): the old background's colour taken out of the edge pixels, and the
    new background's light wrapped onto them; with its downscale factor from the
    working copy. None when both are off.

    Computed at a quarter of a megapixel: the correction is smooth at that
    scale, and the photo's own detail is not part of it (it stays in the photo).
    In-place arithmetic, for the reason given in `_alpha`."""
    if not settings.refine_edges and settings.light_wrap <= 0:
        return None
    factor = max(1, round(math.sqrt(work.shape[0] * work.shape[1] / _CORRECTION_PIXELS)))
    small = _shrink(work, factor)
    opacity = alpha if factor == 1 else _shrink_mask(alpha, factor)
    opacity3 = _three(opacity)
    clear3 = numpy.subtract(numpy.float32(1), opacity3)
    image = small.astype(numpy.float32)
    image *= (gain / 255).astype(numpy.float32).reshape(1, 1, 3)
    foreground = image
    if settings.refine_edges:
        diagonal = _diagonal(small)
        wide = max(3, round(_FUSION_WIDE * diagonal))
        narrow = max(3, round(_FUSION_NARROW * diagonal))
        foreground, old_background = _blur_fusion(
            image, image, image, opacity, opacity3, clear3, wide
        )
        foreground, _ = _blur_fusion(
            image, foreground, old_background, opacity, opacity3, clear3, narrow
        )
    else:
        foreground = image.copy()
    if settings.light_wrap > 0:
        _light_wrap(foreground, _shrink(canvas, factor), opacity, settings.light_wrap)
    foreground -= image
    foreground *= opacity3
    foreground *= numpy.float32(255)
    return foreground, factor


def _shrink_mask(mask: FloatImage, factor: int) -> FloatImage:
    height, width = mask.shape[0] // factor, mask.shape[1] // factor
    whole = mask[: height * factor, : width * factor]
    return _as_float(cv2.resize(whole, (width, height), interpolation=cv2.INTER_AREA))


def _blur_fusion(
    image: FloatImage,
    foreground: FloatImage,
    background: FloatImage,
    alpha: FloatImage,
    opacity3: FloatImage,
    clear3: FloatImage,
    size: int,
) -> tuple[FloatImage, FloatImage]:
    """One pass of Forte and Pitié's "approximate fast foreground colour
    estimation" (2021): local means of foreground and background, then the
    foreground that explains the pixel under the compositing equation,
    F = F̄ + α (I − α F̄ − (1 − α) B̄). `opacity3` and `clear3` are α and 1 − α
    in three channels. Returns new arrays (F, B̄)."""
    window = (size, size)
    share = _three(_as_float(cv2.blur(alpha, window)))
    mean_foreground = _as_float(cv2.blur(numpy.multiply(foreground, opacity3), window))
    mean_foreground /= share + numpy.float32(1e-5)
    mean_background = _as_float(cv2.blur(numpy.multiply(background, clear3), window))
    numpy.subtract(numpy.float32(1 + 1e-5), share, out=share)
    mean_background /= share
    residual = numpy.subtract(image, numpy.multiply(opacity3, mean_foreground, out=share))
    residual -= numpy.multiply(clear3, mean_background, out=share)
    residual *= opacity3
    mean_foreground += residual
    numpy.clip(mean_foreground, 0, 1, out=mean_foreground)
    return mean_foreground, mean_background


def _light_wrap(foreground: FloatImage, canvas: RGBImage, alpha: FloatImage, amount: float) -> None:
    """Screen the new background's nearby light onto the guests' inner edge, in
    place: a bright backdrop glows a little around them, a dark one adds nothing."""
    sigma = _WRAP_REACH * _diagonal(alpha)
    around = numpy.subtract(numpy.float32(1), alpha)
    # How much wrap: inside the guests, near their edge ...
    strength = numpy.subtract(numpy.float32(1), _smooth(alpha, sigma))
    strength *= alpha
    strength *= numpy.float32(2 * amount)
    numpy.clip(strength, 0, 1, out=strength)
    # ... of the background's light around there (its mean where it shows).
    coverage = _smooth(around, sigma)
    coverage += numpy.float32(1e-3)
    strength /= coverage
    light = _smooth(canvas.astype(numpy.float32) * _three(around), sigma)
    light *= _three(strength)
    light *= numpy.float32(1 / 255)
    # screen: F + light (1 − F)
    headroom = numpy.subtract(numpy.float32(1), foreground)
    light *= headroom
    foreground += light


def _smooth(values: FloatImage, sigma: float) -> FloatImage:
    """A wide Gaussian blur, taken on a copy small enough that sigma is 2 pixels."""
    height, width = values.shape[:2]
    scale = min(1.0, 2.0 / sigma)
    size = (max(4, round(width * scale)), max(4, round(height * scale)))
    small = cv2.resize(values, size, interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), sigma * size[0] / width)
    return _as_float(cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR))


def _three(mask: FloatImage) -> FloatImage:
    """A one-channel float image as three equal channels (numpy broadcasting
    over a last axis of 3 is several times slower than same-shape arithmetic)."""
    return _as_float(cv2.merge([mask, mask, mask]))


def _as_float(image: MatLike) -> FloatImage:
    return cast(FloatImage, image)


def _resized(image: RGBImage, width: int, height: int) -> RGBImage:
    return cast(RGBImage, cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR))


# -- full resolution -------------------------------------------------------------------


def _composite(
    photo: RGBImage,
    canvas: RGBImage,
    alpha: FloatImage,
    correction: tuple[FloatImage, int] | None,
    table: npt.NDArray[numpy.uint8] | None,
    factor: int,
) -> None:
    """Blend the photo over `canvas` (in place), tile by tile: `alpha` is at
    1/`factor` of the photo's size, the correction at a further 1/its factor.
    Each edge tile upscales its part of both with a one-pixel margin, which
    gives exactly the pixels one bilinear resize of the whole would."""
    height, width = photo.shape[:2]
    work_height, work_width = alpha.shape
    border = cv2.BORDER_REPLICATE
    alpha_padded = _as_float(cv2.copyMakeBorder(alpha, 1, 1, 1, 1, border))
    extra_factor = 1
    extra_padded: FloatImage | None = None
    if correction is not None:
        extra, extra_factor = correction
        extra_padded = _as_float(cv2.copyMakeBorder(extra, 1, 1, 1, 1, border))
    # Tiles start on whole pixels of both the mask and the correction.
    step = extra_factor * max(1, round(_TILE / (factor * extra_factor)))
    for top in range(0, work_height, step):
        y0, y1 = top * factor, height if top + step >= work_height else (top + step) * factor
        for left in range(0, work_width, step):
            x0, x1 = left * factor, width if left + step >= work_width else (left + step) * factor
            opacity = alpha_padded[top : top + step + 2, left : left + step + 2]
            if opacity.max() <= _CLEAR:
                continue  # background: the canvas already has it
            region = photo[y0:y1, x0:x1]
            guests = cv2.LUT(region, table) if table is not None else region
            extra_patch = None
            if extra_padded is not None:
                row, column, span = top // extra_factor, left // extra_factor, step // extra_factor
                extra_patch = extra_padded[row : row + span + 2, column : column + span + 2]
                if float(numpy.abs(extra_patch).max()) < 0.5:
                    extra_patch = None
            if opacity.min() >= _SOLID and extra_patch is None:
                canvas[y0:y1, x0:x1] = guests
                continue
            weight = _upscaled(opacity, factor, y1 - y0, x1 - x0)
            blended = cv2.blendLinear(guests, canvas[y0:y1, x0:x1], weight, 1 - weight)
            if extra_patch is not None:
                lift = _upscaled(extra_patch, factor * extra_factor, y1 - y0, x1 - x0)
                blended = cv2.add(blended, lift, dtype=cv2.CV_8U)
            canvas[y0:y1, x0:x1] = blended


def _upscaled(patch: FloatImage, factor: int, height: int, width: int) -> FloatImage:
    """The height×width pixels a bilinear upscale by `factor` gives for a patch
    whose first row and column are the margin."""
    size = (patch.shape[1] * factor, patch.shape[0] * factor)
    upscaled = cv2.resize(patch, size, interpolation=cv2.INTER_LINEAR)
    return _as_float(upscaled[factor : factor + height, factor : factor + width])
