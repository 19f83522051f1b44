"""`local` / `background_replace`: keep the guests, put a new background behind
them (SPEC §4.2) — the slot's template image, a lit studio backdrop, a solid
colour, or a blur of the photo's own background.

How, and where the time goes (a 12 MP JPEG on one core of the development VM, in a
worker whose allocator keeps freed memory — `worker_memory` — about 0.24-0.28 s in
all; 0.38-0.45 s at 24 MP — bench/local_model.py):

1. Decode (libjpeg-turbo), upright by EXIF, in BGR: ~40 ms. The photo stays in the
   decoder's channel order to the encoder: everything done to it at full size is
   per channel, and two swaps of 12 MP cost more than the whole blend.
2. A working copy of about a megapixel (an integer downscale: halved while it
   can be, the rest bilinear — `_working_copy` — and turned RGB). All the
   thinking happens there: the person mask (`PersonSegmenter`), its refinement
   to the photo's edges (a guided filter), the guests' true edge colours (blur
   fusion foreground estimation, so hair does not keep a fringe of the old
   wall), light wrap and colour match. The results are an alpha mask and a
   colour correction, both smooth at this scale: ~7 ms to shrink, ~30 ms to
   segment, ~30 ms for the mask, ~35 ms for the correction.
3. At full resolution only per-pixel work, and only where it matters: the photo
   is cut into tiles of about 256×256; a tile of pure background keeps the new
   background, a tile inside a guest is copied from the photo, and only tiles on
   an edge upscale the mask and correction (exactly as one big bilinear resize
   would) and blend, the colour match folded into the blend weights. No
   full-resolution float image is ever made: ~10 ms for the new background,
   ~48 ms to composite.
4. Encode in the photo's format at its size: ~30 ms for a JPEG.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import cv2
import numpy

from photochanger.providers.local.compositing import composite, edge_correction
from photochanger.providers.local.imaging import (
    FloatImage,
    RGBImage,
    decode,
    diagonal,
    encode,
)
from photochanger.providers.local.mask_refinement import refine_mask
from photochanger.providers.local.new_background import new_background
from photochanger.providers.local.segmentation import PersonSegmenter
from photochanger.providers.local.settings import BackgroundReplaceSettings

if TYPE_CHECKING:
    from cv2.typing import MatLike

# The working copy's size.
_WORK_PIXELS = 1_000_000
# Mask refinement, in fractions of the working copy's diagonal, and the mask
# confidence that becomes fully transparent (low) and fully opaque (high): a little
# above the middle, because a fringe of old background hurts more than a hair less.
_REFINE_RADIUS = 0.01
_REFINE_EPS = 1e-3
_MASK_LOW, _MASK_HIGH = 0.45, 0.8
# A photo whose mask never reaches this has nobody in it.
_PERSON_FOUND = 0.5
# Colour match never moves a channel by more than this factor, nor the guests'
# lighter skin (the 90th percentile of each channel over their skin) by more than
# this many levels: a face is the first thing anyone looks at, and ten levels
# towards a magenta wall read as a blush.
_MATCH_LIMIT = 0.05
_SKIN_SHIFT = 3.0
# Skin, in YCrCb (Chai and Ngan's box, which holds across skin tones), and the
# fewest samples of it that count as a face.
_SKIN_CR, _SKIN_CB, _SKIN_LUMA = (133, 173), (77, 127), 40
_SKIN_SAMPLES = 20
_SKIN_PERCENTILE = 90
_LUMA = numpy.array([0.299, 0.587, 0.114], dtype=numpy.float32)


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
    # At full size only per-channel work is done, so the photo stays in the
    # decoder's BGR order all the way to the encoder (two swaps of 12 MP saved);
    # the working copy is RGB, as the model and the colour maths expect.
    photo, fmt = decode(data, bgr=True)
    height, width = photo.shape[:2]
    factor = _work_factor(width, height)
    work = _working_copy(photo, factor)

    coarse = segmenter.person_mask(work)
    if float(coarse.max()) < _PERSON_FOUND:
        return encode(photo, fmt, jpeg_quality=settings.jpeg_quality, bgr=True)
    alpha = _alpha(work, coarse, settings)

    canvas, canvas_work = new_background(settings, background, photo, work, alpha, factor)
    gain = _colour_match(work, canvas_work, alpha, settings.color_match)
    neutral = numpy.ones(3, dtype=numpy.float32)
    correction = edge_correction(
        work, canvas_work, alpha, neutral if gain is None else gain, settings
    )
    composite(photo, canvas, alpha, correction, gain, factor)
    del photo, work  # free the decoded photo before encoding (24 MP: 72 MB)
    return encode(canvas, fmt, jpeg_quality=settings.jpeg_quality, bgr=True)


# -- the working copy ------------------------------------------------------------------


def _work_factor(width: int, height: int) -> int:
    """The integer downscale to about `_WORK_PIXELS` (integer, so the area
    average takes OpenCV's fast path and tiles map exactly onto the copy)."""
    return max(1, round(math.sqrt(width * height / _WORK_PIXELS)))


def _working_copy(photo: RGBImage, factor: int) -> RGBImage:
    """The BGR photo shrunk by `factor` (exactly `shrink`'s size), in RGB.

    Not one area average: OpenCV's is fast only for a factor of 2 (4 ms at
    12 MP, against 19 ms for a factor of 3), so the photo is halved while at
    least that much is left, and the rest (under 2) is a bilinear resize of an
    image already averaged enough not to alias. At most a level or two from the
    exact average (mean 0.3 at 12 MP), well under the photo's own noise."""
    height, width = photo.shape[0] // factor, photo.shape[1] // factor
    image: MatLike = photo[: height * factor, : width * factor]
    left = float(factor)
    while left >= 2:
        half = (image.shape[1] // 2, image.shape[0] // 2)
        image = cv2.resize(image, half, interpolation=cv2.INTER_AREA)
        left /= 2
    if image.shape[:2] != (height, width):
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    return cast(RGBImage, cv2.cvtColor(image, cv2.COLOR_BGR2RGB))


# -- the mask --------------------------------------------------------------------------


def _alpha(work: RGBImage, coarse: FloatImage, settings: BackgroundReplaceSettings) -> FloatImage:
    """The final opacity at working size: refined, contrast-shaped, feathered."""
    mask = coarse
    if settings.refine_edges:
        radius = max(2, round(_REFINE_RADIUS * diagonal(work)))
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


# -- making the guests belong ----------------------------------------------------------


def _colour_match(
    work: RGBImage, canvas: RGBImage, alpha: FloatImage, amount: float
) -> FloatImage | None:
    """Per-channel gains (RGB) that move the guests' colour balance from the old
    background's light towards the new one's, keeping brightness; None when
    there is nothing to change.

    The gains are one for the whole photo (cheap per pixel), so
    where the guests show skin the whole shift is scaled down until their skin
    moves by at most `_SKIN_SHIFT` levels: a neutral backdrop still takes out
    the old wall's cast (within that), a saturated one no longer tints faces."""
    # Every 4th pixel of every 4th row is plenty for two mean colours.
    opacity, photo, backdrop = alpha[::4, ::4], work[::4, ::4], canvas[::4, ::4]
    old_mask = opacity < 0.05
    if amount <= 0 or int(old_mask.sum()) < 0.02 * opacity.size:
        return None
    old = photo[old_mask].mean(axis=0).astype(numpy.float32) + 1
    new = backdrop[opacity < 0.5].mean(axis=0).astype(numpy.float32) + 1
    cast_old, cast_new = old / float(old @ _LUMA), new / float(new @ _LUMA)
    gain = (cast_new / cast_old) ** amount
    gain = numpy.clip(gain / float(gain @ _LUMA), 1 - _MATCH_LIMIT, 1 + _MATCH_LIMIT)
    skin = _skin_tone(photo[opacity > 0.9])
    if skin is not None:
        shift = float(numpy.abs(skin * (gain - 1)).max())
        if shift > _SKIN_SHIFT:
            gain = 1 + (gain - 1) * numpy.float32(_SKIN_SHIFT / shift)
    if numpy.abs(gain - 1).max() < 0.005:
        return None
    return cast(FloatImage, gain.astype(numpy.float32))


def _skin_tone(pixels: RGBImage) -> FloatImage | None:
    """The lighter skin among (N, 3) pixels (per channel, the `_SKIN_PERCENTILE`
    of the skin-coloured ones: a shift scales with the level), or None when
    there are too few to be a face."""
    values = pixels.astype(numpy.float32)
    red, blue = values[:, 0], values[:, 2]
    luma = values @ _LUMA
    # Chroma as JPEG's YCrCb defines it.
    chroma_red = (red - luma) * numpy.float32(0.713) + 128
    chroma_blue = (blue - luma) * numpy.float32(0.564) + 128
    skin = (
        (luma > _SKIN_LUMA)
        & (chroma_red >= _SKIN_CR[0])
        & (chroma_red <= _SKIN_CR[1])
        & (chroma_blue >= _SKIN_CB[0])
        & (chroma_blue <= _SKIN_CB[1])
    )
    if int(skin.sum()) < _SKIN_SAMPLES:
        return None
    tone = numpy.percentile(values[skin], _SKIN_PERCENTILE, axis=0)
    return cast(FloatImage, tone.astype(numpy.float32))
