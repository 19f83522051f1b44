"""Snapping the person mask to the photo's own edges, for `background_replace`:
the segmentation model's outline is 256 pixels wide, hair and shoulders are not."""

from __future__ import annotations

from typing import cast

import cv2
import numpy
import numpy.typing as npt

from photochanger.providers.local.imaging import FloatImage, as_float


def refine_mask(
    guide: npt.NDArray[numpy.uint8], mask: FloatImage, *, radius: int, eps: float = 1e-3
) -> FloatImage:
    """Snap a coarse mask to the edges of the photo: a guided filter (He, Sun and
    Tang) with the RGB photo as the guide, so the mask's edge follows the colour
    edges of hair and shoulders instead of the model's 256-pixel outline.

    `radius` is in pixels of `guide`, `eps` (0..1 intensities) trades edge
    following for smoothness. The filter's linear coefficients are computed on a
    half-size copy and applied at full size (He and Sun's "fast guided filter"):
    a third of the cost, and at this scale indistinguishable (mean difference
    0.0025 on a 1 MP photo)."""
    height, width = mask.shape
    small_size = (max(1, width // 2), max(1, height // 2))
    guide_small = cv2.resize(guide, small_size, interpolation=cv2.INTER_AREA)
    scaled = guide_small.astype(numpy.float32) * numpy.float32(1 / 255)
    channels = [numpy.ascontiguousarray(scaled[..., i]) for i in range(3)]
    target = as_float(cv2.resize(mask, small_size, interpolation=cv2.INTER_AREA))
    window = (2 * max(1, radius // 2) + 1,) * 2

    def mean(values: FloatImage) -> FloatImage:
        return as_float(cv2.boxFilter(values, -1, window))

    # In-place arithmetic: a fresh array of a few megabytes costs page faults,
    # which on a virtual machine take as long as the arithmetic itself.
    means = [mean(channel) for channel in channels]
    mean_target = mean(target)
    covariance = []
    for channel, channel_mean in zip(channels, means, strict=True):
        product = mean(numpy.multiply(channel, target))
        product -= channel_mean * mean_target
        covariance.append(product)
    # The guide's 3×3 covariance in each window (symmetric: six entries), plus eps.
    variance: dict[tuple[int, int], FloatImage] = {}
    for i, j in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)):
        product = mean(numpy.multiply(channels[i], channels[j]))
        product -= means[i] * means[j]
        if i == j:
            product += numpy.float32(eps)
        variance[i, j] = variance[j, i] = product
    # Its inverse by cofactors (the adjugate over the determinant), for every pixel.
    adjugate: dict[tuple[int, int], FloatImage] = {}
    for i, j in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)):
        (a, b), (c, d) = ((i + 1) % 3, (i + 2) % 3), ((j + 1) % 3, (j + 2) % 3)
        term = numpy.multiply(variance[c, a], variance[d, b])
        term -= variance[c, b] * variance[d, a]
        adjugate[i, j] = adjugate[j, i] = term
    determinant = numpy.multiply(variance[0, 0], adjugate[0, 0])
    for k in (1, 2):
        determinant += variance[0, k] * adjugate[k, 0]
    slopes = []
    offset = mean_target
    for i in range(3):
        slope = numpy.multiply(adjugate[i, 0], covariance[0])
        for k in (1, 2):
            slope += adjugate[i, k] * covariance[k]
        slope /= determinant
        offset -= slope * means[i]
        # Applied to the 0..255 guide directly: scale the slope instead of the photo.
        slopes.append(mean(slope) * numpy.float32(1 / 255))
    size = (width, height)
    refined = as_float(cv2.resize(mean(offset), size, interpolation=cv2.INTER_LINEAR))
    full = as_float(cv2.resize(cv2.merge(slopes), size, interpolation=cv2.INTER_LINEAR))
    full *= guide
    refined += _channel_sum(full)
    return numpy.clip(refined, 0.0, 1.0, out=refined)


def _channel_sum(values: npt.NDArray[numpy.float32]) -> npt.NDArray[numpy.float32]:
    """R + G + B of a float image (numpy's sum over the last axis is several
    times slower)."""
    return cast(npt.NDArray[numpy.float32], cv2.transform(values, _ONES))


_ONES = numpy.ones((1, 3), dtype=numpy.float32)
