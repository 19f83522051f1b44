"""The studio backdrop made by code: lit paper, not a flat fill and not a file."""

from __future__ import annotations

import numpy as np
import pytest

from photochanger.providers.local.studio_backdrop import STUDIO_GREY, studio_backdrop


def luminance(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


@pytest.mark.parametrize(("width", "height"), [(1, 1), (7, 3), (640, 427), (427, 640), (4000, 100)])
def test_any_size_comes_back_as_rgb(width: int, height: int) -> None:
    backdrop = studio_backdrop(width, height)
    assert backdrop.shape == (height, width, 3)
    assert backdrop.dtype == np.uint8
    assert backdrop.flags.writeable  # callers composite into it


def test_an_empty_size_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        studio_backdrop(0, 10)


def test_lit_behind_the_subject_and_darker_in_the_corners() -> None:
    backdrop = luminance(studio_backdrop(900, 600))
    behind = backdrop[230:270, 430:470].mean()  # the default light: centre, just above middle
    corners = [backdrop[:30, :30], backdrop[:30, -30:], backdrop[-30:, :30], backdrop[-30:, -30:]]
    for corner in corners:
        assert behind > corner.mean() + 25
    assert backdrop[:60].mean() > backdrop[-60:].mean()  # the floor is a touch darker


def test_the_light_follows_the_subject() -> None:
    left = luminance(studio_backdrop(900, 600, light_at=(0.25, 0.42)))
    right = luminance(studio_backdrop(900, 600, light_at=(0.75, 0.42)))
    assert left[:, :300].mean() > right[:, :300].mean() + 10
    assert right[:, -300:].mean() > left[:, -300:].mean() + 10
    centred = luminance(studio_backdrop(900, 600))
    assert np.abs(centred - centred[:, ::-1]).max() <= 2  # symmetric when centred


def test_the_paper_takes_the_colour_asked_for() -> None:
    grey = studio_backdrop(300, 200).reshape(-1, 3).mean(axis=0)
    assert abs(grey[2] - grey[0]) < 15  # neutral (the default is a cool mid-grey)
    assert STUDIO_GREY[0] <= STUDIO_GREY[2]
    blue = studio_backdrop(300, 200, (40, 70, 140)).reshape(-1, 3).mean(axis=0)
    assert blue[2] > blue[1] > blue[0]


def test_smooth_enough_to_print_without_bands_or_seams() -> None:
    backdrop = studio_backdrop(3000, 2000).astype(np.int16)
    assert np.abs(np.diff(backdrop, axis=0)).max() <= 2
    assert np.abs(np.diff(backdrop, axis=1)).max() <= 2
    # A gradient, not a flat fill: many distinct levels.
    assert len(np.unique(backdrop[..., 1])) > 40
