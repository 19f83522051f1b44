"""`local` / `stylize`: a non-AI artistic filter — cartoon, pencil sketch or colour
grade (SPEC §4.2). Pure functions of bytes and settings.

Speed is part of the job: a guest is waiting at the booth. The expensive,
neighbourhood-based filters run on a copy of about one megapixel — their output
is smooth at that scale anyway — and what runs at full resolution is per-pixel
work (table look-ups, weighted sums, a division), a resize or one small blur.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import cv2
import numpy
import numpy.typing as npt

from photochanger.providers.local.imaging import RGBImage, decode, encode
from photochanger.providers.local.settings import Grade, StylizeSettings

if TYPE_CHECKING:
    from cv2.typing import MatLike

FloatArray = npt.NDArray[numpy.float32]

# The size the neighbourhood filters work at. Their parameters are tuned for it,
# so a 1 MP and a 12 MP photo get the same look.
_WORK_PIXELS = 1_000_000


def stylize(data: bytes, settings: StylizeSettings) -> tuple[bytes, str]:
    """Apply the filter to an encoded photo; returns the result, encoded in the
    photo's own format at its own (upright) size, and its mime.

    Raises `UndecodableImage` for bytes that are not a complete JPEG/PNG/WebP."""
    rgb, fmt = decode(data)
    if settings.strength > 0:
        styled = _EFFECTS[settings.style](rgb, settings)
        if settings.strength < 1:
            blend = cv2.addWeighted(styled, settings.strength, rgb, 1 - settings.strength, 0)
            styled = cast(RGBImage, blend)
        rgb = styled
    return encode(rgb, fmt, jpeg_quality=settings.jpeg_quality)


# -- cartoon -------------------------------------------------------------------------


def cartoon(rgb: RGBImage) -> RGBImage:
    """Flat, posterised colour with dark ink outlines.

    Edge-preserving smoothing (repeated small bilateral filters) removes texture
    but keeps the contours of a face; luminance is then quantised into a few
    bands with soft steps, so shading reads as cel shading instead of banding;
    outlines come from a difference of Gaussians on the smoothed grey (XDoG),
    which draws clean lines along real contours and ignores fine texture."""
    height, width = rgb.shape[:2]
    small = _downscale(rgb, _WORK_PIXELS)
    smooth = cv2.medianBlur(small, 3)
    for _ in range(4):
        smooth = cv2.bilateralFilter(smooth, 5, 45, 5)

    lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2Lab).astype(numpy.float32)
    # A light blur first, so band borders follow smooth contours, not skin texture.
    lightness = cv2.GaussianBlur(lab[..., 0], (0, 0), 1.5) * (100 / 255)
    lab[..., 0] = _soft_quantise(lightness, levels=6, sharpness=0.35) * (255 / 100)
    # Cartoons are more saturated than photos: push a and b away from neutral.
    lab[..., 1:] = (lab[..., 1:] - 128) * 1.25 + 128
    flat = cv2.cvtColor(numpy.clip(lab, 0, 255).astype(numpy.uint8), cv2.COLOR_Lab2RGB)

    grey = cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY).astype(numpy.float32) / 255
    ink = _xdog(grey, sigma=1.6, k=1.6, tau=0.991, epsilon=0.0, phi=40.0)
    # Faint strokes (texture, not contours) go back to paper white.
    ink = numpy.minimum(ink * 1.15, 1.0)
    inked = (flat.astype(numpy.float32) * ink[..., None]).astype(numpy.uint8)
    return cast(RGBImage, cv2.resize(inked, (width, height), interpolation=cv2.INTER_CUBIC))


def _soft_quantise(lightness: FloatArray, *, levels: int, sharpness: float) -> FloatArray:
    """Winnemöller-style soft quantisation of L* (0..100) into `levels` bands."""
    step = 100 / levels
    nearest = numpy.round(lightness / step) * step
    return nearest + (step / 2) * numpy.tanh(sharpness * (lightness - nearest))  # type: ignore[no-any-return]


def _xdog(
    grey: FloatArray, *, sigma: float, k: float, tau: float, epsilon: float, phi: float
) -> FloatArray:
    """Extended difference of Gaussians: 1 on flat areas, falling smoothly to 0 on
    lines, so outlines are anti-aliased rather than jagged."""
    fine = cv2.GaussianBlur(grey, (0, 0), sigma)
    coarse = cv2.GaussianBlur(grey, (0, 0), sigma * k)
    difference = fine - tau * coarse
    lines = 1 + numpy.tanh(phi * (difference - epsilon))
    return numpy.where(difference >= epsilon, 1.0, lines).astype(numpy.float32)


# -- pencil ----------------------------------------------------------------------------


def pencil(rgb: RGBImage) -> RGBImage:
    """A graphite sketch on slightly warm paper.

    The classic colour dodge of the grey image by its own blur: flat areas go to
    white and only local darkening — contours — stays. The wide blur is taken on
    a small copy and scaled up (it is smooth anyway), so full resolution only
    costs a light denoise blur, one division and table look-ups; a soft share of
    the blurred tone is multiplied in as shading, so dark hair and clothes read as
    shaded areas, not blank paper."""
    height, width = rgb.shape[:2]
    size = math.sqrt(height * width)  # sizes below are fractions of this
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = _downscale(grey, _WORK_PIXELS // 4)
    small_scale = math.sqrt(small.size / grey.size)
    blurred_small = cv2.GaussianBlur(small, (0, 0), _PENCIL_STROKE * size * small_scale)
    blurred = cv2.resize(blurred_small, (width, height), interpolation=cv2.INTER_LINEAR)
    # Smooth away sensor noise, which the dodge would otherwise turn into grit.
    grey = cv2.GaussianBlur(grey, (0, 0), max(0.6, _PENCIL_GRAIN * size))
    # The offset keeps the ratio calm in dark areas, where a small difference between
    # two small numbers would otherwise come out as speckle (16 bits: no clipping).
    numerator = numpy.asarray(grey, dtype=numpy.uint16) + numpy.uint16(_PENCIL_OFFSET)
    denominator = numpy.asarray(blurred, dtype=numpy.uint16) + numpy.uint16(_PENCIL_OFFSET)
    sketch = cv2.divide(numerator, denominator, scale=256, dtype=cv2.CV_8U)
    sketch = cv2.LUT(sketch, _PENCIL_LINES)
    shade = cv2.LUT(blurred, _PENCIL_SHADE)
    drawing = cv2.multiply(sketch, shade, scale=1 / 255)
    return cast(RGBImage, cv2.merge([cv2.LUT(drawing, _PAPER[channel]) for channel in range(3)]))


# The dodge blur (stroke width) and the denoise blur, as fractions of sqrt(pixels).
_PENCIL_STROKE = 0.006
_PENCIL_GRAIN = 0.0007
_PENCIL_OFFSET = 24
# Every 8-bit input level as 0..1: the x axis of each tone curve below.
_RAMP = numpy.arange(256, dtype=numpy.float32) / 255
# Darken the dodge result so strokes read as graphite, not a faint trace.
_PENCIL_LINES = (numpy.clip(_RAMP, 0, 1) ** 2.2 * 255).round().astype(numpy.uint8)
# 35 % of the local tone as shading; white stays white.
_PENCIL_SHADE = ((1 - 0.35 * (1 - _RAMP)) * 255).round().astype(numpy.uint8)
# Paper is faintly warm; graphite is neutral, so tint the highlights only.
_PAPER = [
    (_RAMP * numpy.float32(tint) * 255).round().astype(numpy.uint8) for tint in (1.0, 0.985, 0.955)
]


# -- colour grade --------------------------------------------------------------------


def color_grade(rgb: RGBImage, grade: Grade) -> RGBImage:
    """A photographic look: per-channel tone curves (one table look-up per pixel)
    and a saturation change (one weighted sum with the grey image)."""
    return _GRADES[grade](rgb)


def _grade_natural(rgb: RGBImage) -> RGBImage:
    black, white = _levels(rgb, clip=0.005, max_black=24, min_white=220)
    curve = _s_curve(_stretch(_RAMP, black, white), 0.25)
    return _saturate(_apply_curves(rgb, curve, curve, curve), 1.12)


def _grade_warm(rgb: RGBImage) -> RGBImage:
    base = _s_curve(_RAMP, 0.2)
    red = _gamma(base, 0.88)
    green = _gamma(base, 0.97)
    blue = _gamma(base, 1.18) * 0.96
    return _saturate(_apply_curves(rgb, red, green, blue), 1.06)


def _grade_cool(rgb: RGBImage) -> RGBImage:
    base = _s_curve(_RAMP, 0.2)
    red = _gamma(base, 1.2) * 0.97
    green = _gamma(base, 1.02)
    blue = _gamma(base, 0.85)
    return _saturate(_apply_curves(rgb, red, green, blue), 1.02)


def _grade_vintage(rgb: RGBImage) -> RGBImage:
    base = _s_curve(_RAMP, 0.3)
    # Faded: blacks lifted, whites lowered, a warm-yellow cast in the highlights.
    red = 0.10 + 0.87 * _gamma(base, 0.92)
    green = 0.08 + 0.85 * base
    blue = 0.07 + 0.72 * _gamma(base, 1.05)
    return _apply_curves(_saturate(rgb, 0.7), red, green, blue)


def _grade_noir(rgb: RGBImage) -> RGBImage:
    # A red-leaning mix, like a yellow filter on black-and-white film: kind to skin.
    grey = cv2.transform(rgb, numpy.array([[0.45, 0.42, 0.13]], dtype=numpy.float32))
    black, white = _levels(grey, clip=0.01, max_black=60, min_white=180)
    curve = _s_curve(_stretch(_RAMP, black, white), 0.7)
    grey = cv2.LUT(grey, _to_table(curve))
    return cast(RGBImage, cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB))


_GRADES: dict[str, Callable[[RGBImage], RGBImage]] = {
    "natural": _grade_natural,
    "warm": _grade_warm,
    "cool": _grade_cool,
    "vintage": _grade_vintage,
    "noir": _grade_noir,
}


def _levels(image: MatLike, *, clip: float, max_black: int, min_white: int) -> tuple[int, int]:
    """Black and white points at the `clip` quantiles of the grey histogram
    (sampled on every 4th pixel), bounded so a dark or bright scene stays so."""
    sample = image[::4, ::4]
    if sample.ndim == 3:
        sample = cv2.cvtColor(numpy.ascontiguousarray(sample), cv2.COLOR_RGB2GRAY)
    histogram = numpy.bincount(sample.ravel(), minlength=256).cumsum()
    total = histogram[-1]
    black = int(numpy.searchsorted(histogram, total * clip))
    white = int(numpy.searchsorted(histogram, total * (1 - clip)))
    black, white = min(black, max_black), max(white, min_white)
    return black, max(white, black + 1)


def _stretch(curve: FloatArray, black: int, white: int) -> FloatArray:
    return numpy.clip((curve - black / 255) / ((white - black) / 255), 0, 1)


def _s_curve(curve: FloatArray, amount: float) -> FloatArray:
    """Blend towards smoothstep: more contrast in the mid-tones, soft ends."""
    clipped = numpy.clip(curve, 0, 1)
    smooth = clipped * clipped * (3 - 2 * clipped)
    return (1 - amount) * clipped + amount * smooth


def _gamma(curve: FloatArray, gamma: float) -> FloatArray:
    return numpy.clip(curve, 0, 1) ** gamma


def _to_table(curve: FloatArray) -> npt.NDArray[numpy.uint8]:
    return numpy.clip(curve * 255 + 0.5, 0, 255).astype(numpy.uint8)


def _apply_curves(rgb: RGBImage, red: FloatArray, green: FloatArray, blue: FloatArray) -> RGBImage:
    table = numpy.stack([_to_table(red), _to_table(green), _to_table(blue)], axis=-1)
    return cast(RGBImage, cv2.LUT(rgb, table.reshape(1, 256, 3)))


def _saturate(rgb: RGBImage, amount: float) -> RGBImage:
    grey = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cast(RGBImage, cv2.addWeighted(rgb, amount, grey, 1 - amount, 0))


# -- shared ----------------------------------------------------------------------------


def _downscale(image: MatLike, max_pixels: int) -> MatLike:
    """A copy of at most about `max_pixels`, area-averaged (no aliasing)."""
    height, width = image.shape[:2]
    if height * width <= max_pixels:
        return image
    scale = math.sqrt(max_pixels / (height * width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


_EFFECTS: dict[str, Callable[[RGBImage, StylizeSettings], RGBImage]] = {
    "cartoon": lambda rgb, _settings: cartoon(rgb),
    "pencil": lambda rgb, _settings: pencil(rgb),
    "color_grade": lambda rgb, settings: color_grade(rgb, settings.grade),
}
