"""A studio paper backdrop made by code: the `local` provider's default background,
so a fresh install puts guests in a studio without shipping or downloading a file.

What makes grey paper look lit rather than flat: a broad, soft pool of light
behind the subject (a background light aimed at the paper), the paper falling off
towards the corners (vignette), and a slight darkening towards the floor where the
paper curves away from the light. All of it is smooth, so it is computed on a map
about 160 pixels wide and scaled up in one resize: the cost is that resize (a few
milliseconds at 12 MP), whatever the photo's size.
"""

from __future__ import annotations

import math
from typing import cast

import cv2
import numpy
import numpy.typing as npt

RGBImage = npt.NDArray[numpy.uint8]

STUDIO_GREY = (128, 132, 138)
"""A neutral, very slightly cool mid-grey: the classic portrait paper."""

_MAP_WIDTH = 160
# How much brighter the pool of light is than the paper's base tone, and its size
# as a fraction of the half-diagonal.
_LIGHT_GAIN = 0.42
_LIGHT_SIZE = 0.55
# Darkening of the farthest corners, and of the bottom edge against the top.
_VIGNETTE = 0.45
_FLOOR = 0.10
# The light is a little whiter than the paper (8 of 255 added to each channel).
_LIGHT_WHITENESS = 8.0


def studio_backdrop(
    width: int,
    height: int,
    color: tuple[int, int, int] = STUDIO_GREY,
    *,
    light_at: tuple[float, float] = (0.5, 0.42),
) -> RGBImage:
    """An (height, width, 3) RGB backdrop: paper of `color`, lit from behind the
    subject at `light_at` (fractions of width and height; the default is just
    above the middle, behind a head and shoulders)."""
    if width < 1 or height < 1:
        raise ValueError("the backdrop needs a positive size")
    small = _lit_paper(width, height, color, light_at)
    return cast(RGBImage, cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR))


def _lit_paper(
    width: int, height: int, color: tuple[int, int, int], light_at: tuple[float, float]
) -> RGBImage:
    map_width = min(width, _MAP_WIDTH)
    map_height = max(1, min(height, round(map_width * height / width)))
    aspect = width / height
    half_diagonal = 0.5 * math.hypot(aspect, 1.0)
    # Pixel centres as fractions of the photo, x stretched so circles stay round.
    x = (numpy.arange(map_width, dtype=numpy.float32) + 0.5) / map_width
    y = (numpy.arange(map_height, dtype=numpy.float32) + 0.5) / map_height
    x, y = x[None, :], y[:, None]

    light_x, light_y = light_at
    from_light = numpy.hypot((x - light_x) * aspect, y - light_y) / half_diagonal
    pool = numpy.exp(-((from_light / _LIGHT_SIZE) ** 2))
    from_centre = numpy.hypot((x - 0.5) * aspect, y - 0.5) / half_diagonal
    vignette = 1 - _VIGNETTE * numpy.clip(from_centre, 0, 1) ** 2.2
    floor = 1 - _FLOOR * (y - 0.5)
    light = (1 - _LIGHT_GAIN / 2 + _LIGHT_GAIN * pool) * vignette * floor

    paper = light[..., None] * numpy.asarray(color, dtype=numpy.float32)
    paper += (_LIGHT_WHITENESS * pool)[..., None]
    return cast(RGBImage, numpy.clip(paper + 0.5, 0, 255).astype(numpy.uint8))
