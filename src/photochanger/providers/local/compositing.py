"""Putting the guests on the new background for `background_replace`: the edge
correction worked out on a small copy (the old background's colour taken out of
the guests' edges, the new background's light wrapped onto them), and the
full-resolution blend, tile by tile."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import cv2
import numpy
import numpy.typing as npt

from photochanger.providers.local.imaging import (
    FloatImage,
    RGBImage,
    as_float,
    diagonal,
    shrink,
)

if TYPE_CHECKING:
    from photochanger.providers.local.settings import BackgroundReplaceSettings

# The full-resolution tile size.
_TILE = 256
# Blur fusion radii (Forte and Pitié's two passes), fractions of the diagonal.
_FUSION_WIDE, _FUSION_NARROW = 0.06, 0.005
# The edge correction is computed at about this size.
_CORRECTION_PIXELS = 250_000
# Light wrap reaches this far into the guests (Gaussian sigma, fraction of diagonal).
_WRAP_REACH = 0.012
# Alpha values treated as fully transparent / opaque when skipping tiles.
_CLEAR, _SOLID = 0.5 / 255, 1 - 0.5 / 255


def edge_correction(
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
    In-place arithmetic, for the reason given in `background._alpha`."""
    if not settings.refine_edges and settings.light_wrap <= 0:
        return None
    factor = max(1, round(math.sqrt(work.shape[0] * work.shape[1] / _CORRECTION_PIXELS)))
    small = shrink(work, factor)
    opacity = alpha if factor == 1 else _shrink_mask(alpha, factor)
    opacity3 = _three(opacity)
    clear3 = numpy.subtract(numpy.float32(1), opacity3)
    image = small.astype(numpy.float32)
    image *= (gain / 255).astype(numpy.float32).reshape(1, 1, 3)
    foreground = image
    if settings.refine_edges:
        reach = diagonal(small)
        wide = max(3, round(_FUSION_WIDE * reach))
        narrow = max(3, round(_FUSION_NARROW * reach))
        foreground, old_background = _blur_fusion(
            image, image, image, opacity, opacity3, clear3, wide
        )
        foreground, _ = _blur_fusion(
            image, foreground, old_background, opacity, opacity3, clear3, narrow
        )
    else:
        foreground = image.copy()
    if settings.light_wrap > 0:
        _light_wrap(foreground, shrink(canvas, factor), opacity, settings.light_wrap)
    foreground -= image
    foreground *= opacity3
    foreground *= numpy.float32(255)
    return foreground, factor


def _shrink_mask(mask: FloatImage, factor: int) -> FloatImage:
    height, width = mask.shape[0] // factor, mask.shape[1] // factor
    whole = mask[: height * factor, : width * factor]
    return as_float(cv2.resize(whole, (width, height), interpolation=cv2.INTER_AREA))


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
    share = _three(as_float(cv2.blur(alpha, window)))
    mean_foreground = as_float(cv2.blur(numpy.multiply(foreground, opacity3), window))
    mean_foreground /= share + numpy.float32(1e-5)
    mean_background = as_float(cv2.blur(numpy.multiply(background, clear3), window))
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
    sigma = _WRAP_REACH * diagonal(alpha)
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
    return as_float(cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR))


def _three(mask: FloatImage) -> FloatImage:
    """A one-channel float image as three equal channels (numpy broadcasting
    over a last axis of 3 is several times slower than same-shape arithmetic)."""
    return as_float(cv2.merge([mask, mask, mask]))


# -- full resolution -------------------------------------------------------------------


def composite(
    photo: RGBImage,
    canvas: RGBImage,
    alpha: FloatImage,
    correction: tuple[FloatImage, int] | None,
    gain: FloatImage | None,
    factor: int,
) -> None:
    """Blend the photo over `canvas` (in place), tile by tile: both are in BGR
    order, the correction and the colour `gain` (made from the RGB working copy)
    in RGB. `alpha` is at 1/`factor` of the photo's size, the correction at a
    further 1/its factor. Each edge tile upscales its part of both with a
    one-pixel margin, which gives exactly the pixels one bilinear resize of the
    whole would.

    A tile inside the guests takes the gain through a look-up table; an edge
    tile folds it into its blend weights instead (α·gain per channel, made once
    at working size): a 3-channel `cv2.LUT` costs as much as the blend itself."""
    height, width = photo.shape[:2]
    work_height, work_width = alpha.shape
    border = cv2.BORDER_REPLICATE
    alpha_padded = as_float(cv2.copyMakeBorder(alpha, 1, 1, 1, 1, border))
    table: npt.NDArray[numpy.uint8] | None = None
    weighted_padded: FloatImage | None = None
    if gain is not None:
        bgr_gain = gain[::-1]
        levels = numpy.arange(256, dtype=numpy.float32)[:, None] * bgr_gain[None, :]
        table = numpy.clip(levels + 0.5, 0, 255).astype(numpy.uint8).reshape(1, 256, 3)
        weighted_padded = as_float(
            cv2.merge([alpha_padded * numpy.float32(channel) for channel in bgr_gain])
        )
    extra_factor = 1
    extra_padded: FloatImage | None = None
    if correction is not None:
        extra, extra_factor = correction
        extra = numpy.ascontiguousarray(extra[..., ::-1])
        extra_padded = as_float(cv2.copyMakeBorder(extra, 1, 1, 1, 1, border))
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
            extra_patch = None
            if extra_padded is not None:
                row, column, span = top // extra_factor, left // extra_factor, step // extra_factor
                extra_patch = extra_padded[row : row + span + 2, column : column + span + 2]
                if float(numpy.abs(extra_patch).max()) < 0.5:
                    extra_patch = None
            if opacity.min() >= _SOLID and extra_patch is None:
                canvas[y0:y1, x0:x1] = cv2.LUT(region, table) if table is not None else region
                continue
            size = (y1 - y0, x1 - x0)
            weight = _upscaled(opacity, factor, *size)
            behind = canvas[y0:y1, x0:x1]
            lift = None
            if extra_patch is not None:
                lift = _upscaled(extra_patch, factor * extra_factor, *size)
            if weighted_padded is None:
                blended = cv2.blendLinear(region, behind, weight, 1 - weight)
                if lift is not None:
                    blended = cv2.add(blended, lift, dtype=cv2.CV_8U)
                canvas[y0:y1, x0:x1] = blended
                continue
            # photo · α·gain + canvas · (1 − α) (+ lift), rounded once
            weighted = weighted_padded[top : top + step + 2, left : left + step + 2]
            scaled = _upscaled(weighted, factor, *size)
            guests = as_float(cv2.multiply(region, scaled, dtype=cv2.CV_32F))
            clear = numpy.subtract(numpy.float32(1), weight)
            rest = cv2.multiply(behind, _three(clear), dtype=cv2.CV_32F)
            if lift is not None:
                guests += lift
            canvas[y0:y1, x0:x1] = cv2.add(guests, rest, dtype=cv2.CV_8U)


def _upscaled(patch: FloatImage, factor: int, height: int, width: int) -> FloatImage:
    """The height×width pixels a bilinear upscale by `factor` gives for a patch
    whose first row and column are the margin."""
    size = (patch.shape[1] * factor, patch.shape[0] * factor)
    upscaled = cv2.resize(patch, size, interpolation=cv2.INTER_LINEAR)
    return as_float(upscaled[factor : factor + height, factor : factor + width])
