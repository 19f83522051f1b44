"""The new backgrounds `background_replace` puts behind the guests (SPEC §4.2): the
slot's template image fitted to the photo, the lit studio backdrop, a solid colour,
or a blur of the photo's own background — each at full size and at the working
copy's size."""

from __future__ import annotations

import functools
import io
import math
from typing import TYPE_CHECKING, cast

import cv2
import numpy
from PIL import Image

from photochanger.providers.local.imaging import (
    FloatImage,
    RGBImage,
    as_float,
    decode,
    diagonal,
    shrink,
)
from photochanger.providers.local.studio_backdrop import studio_backdrop

if TYPE_CHECKING:
    from photochanger.providers.local.settings import BackgroundReplaceSettings

# The blur background: sigma at blur_strength 1, as a fraction of the diagonal.
_BLUR_MAX = 0.05
# Templates shrunk more than this are area-averaged.
_AREA_BELOW = 0.7


def new_background(
    settings: BackgroundReplaceSettings,
    template: bytes | None,
    photo: RGBImage,
    work: RGBImage,
    alpha: FloatImage,
    factor: int,
) -> tuple[RGBImage, RGBImage]:
    """The background at full size, in OpenCV's BGR order like the photo it is
    composited with (a new, writable array: the result is composited into it),
    and at working size in RGB, like the working copy."""
    height, width = photo.shape[:2]
    work_height, work_width = work.shape[:2]
    kind = settings.background
    if kind == "template" and template is not None:
        fitted, fitted_work = _fitted_template(template, width, height, factor)
        return fitted.copy(), fitted_work
    if kind == "color":
        colour = _rgb(settings.color)
        full = numpy.empty((height, width, 3), dtype=numpy.uint8)
        full[...] = colour[::-1]
        return full, numpy.full((work_height, work_width, 3), colour, dtype=numpy.uint8)
    if kind == "blur":
        low = _blurred_background(work, alpha, settings.blur_strength)
        low_bgr = cast(RGBImage, cv2.cvtColor(low, cv2.COLOR_RGB2BGR))
        return _resized(low_bgr, width, height), _resized(low, work_width, work_height)
    # studio, and template without a template image
    light_at = (_centre_x(alpha), 0.42)
    red, green, blue = _rgb(settings.studio_color)
    # The paper is lit channel by channel: in BGR it is the paper of (b, g, r).
    return (
        studio_backdrop(width, height, (blue, green, red), light_at=light_at),
        studio_backdrop(work_width, work_height, (red, green, blue), light_at=light_at),
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
    sigma_work = strength * _BLUR_MAX * diagonal(work)
    scale = min(1.0, 8.0 / max(sigma_work, 1e-6))
    height, width = work.shape[:2]
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    small = as_float(cv2.resize(work, size, interpolation=cv2.INTER_AREA))
    background = 1 - as_float(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA))
    weight = background * background
    sigma = sigma_work * size[0] / width
    total = as_float(cv2.GaussianBlur(small * weight[..., None], (0, 0), sigma))
    coverage = as_float(cv2.GaussianBlur(weight, (0, 0), sigma))
    # Where no background is near (a guest filling the frame), a plain blur.
    plain = as_float(cv2.GaussianBlur(small, (0, 0), sigma))
    floor = numpy.float32(1e-3)
    blurred = (total + floor * plain) / (coverage + floor)[..., None]
    return cast(RGBImage, numpy.clip(blurred + 0.5, 0, 255).astype(numpy.uint8))


@functools.lru_cache(maxsize=1)
def _fitted_template(
    data: bytes, width: int, height: int, factor: int
) -> tuple[RGBImage, RGBImage]:
    """The template decoded and fitted to the photo, at full size (BGR) and
    working size (RGB), read-only. Remembered for the last template and size: a booth sends photo
    after photo of the same size to the same slot, and decoding and scaling a
    12 MP template costs about 80 ms a photo, copying the fitted one 15 ms. The
    key is the template's bytes themselves (their hash is computed once per
    bytes object; a hit compares them), so a changed template is never stale.
    Costs one fitted template of memory (72 MB at 24 MP)."""
    full = _cover(_decode_template(data, width, height), width, height)
    work = cast(RGBImage, cv2.cvtColor(shrink(full, factor), cv2.COLOR_BGR2RGB))
    full.flags.writeable = False
    work.flags.writeable = False
    return full, work


def _decode_template(data: bytes, width: int, height: int) -> RGBImage:
    """Decode the template, BGR, no larger than the cover fit needs (a JPEG is
    scaled down in the decoder)."""
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
    image, _ = decode(data, max_pixels=needed, bgr=True)
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


def _resized(image: RGBImage, width: int, height: int) -> RGBImage:
    return cast(RGBImage, cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR))
