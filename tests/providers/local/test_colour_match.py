"""`background_replace`'s colour match, on real portraits (scikit-image's astronaut,
matplotlib's Grace Hopper): it moves the guests' colour balance towards the new
background's light, but never paints their faces the backdrop's colour."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image
from skimage import data

from photochanger.providers.local.background_replace import (
    BackgroundReplaceSettings,
    background_replace,
)
from photochanger.providers.local.segmentation import PersonSegmenter
from support import decoded, encoded

Box = tuple[int, int, int, int]  # top, bottom, left, right

# Inside each face (the same boxes as test_background_replace.py).
ASTRONAUT_FACE: Box = (80, 160, 180, 250)
HOPPER_FACE: Box = (220, 320, 200, 300)
MAGENTA, GREEN = "#FF00FF", "#00C000"
NEUTRAL_GREY, WARM_BEIGE = "#80848A", "#D8B890"


def astronaut() -> np.ndarray:
    return np.ascontiguousarray(data.astronaut())


def hopper() -> np.ndarray:
    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
        return np.asarray(image.convert("RGB"))


PORTRAITS = {"astronaut": (astronaut, ASTRONAUT_FACE), "hopper": (hopper, HOPPER_FACE)}


@pytest.fixture(scope="module")
def segmenter() -> Iterator[PersonSegmenter]:
    started = PersonSegmenter()
    started.start()
    yield started
    started.close()


def face_colour(
    segmenter: PersonSegmenter, portrait: str, backdrop: str, color_match: float
) -> np.ndarray:
    """The mean RGB of the face box in the result on a solid `backdrop`."""
    make, (top, bottom, left, right) = PORTRAITS[portrait]
    settings = BackgroundReplaceSettings(
        background="color", color=backdrop, color_match=color_match
    )
    result, _ = background_replace(encoded(make()), settings, segmenter)
    face = decoded(result)[top:bottom, left:right].astype(np.float32)
    return face.reshape(-1, 3).mean(axis=0)


def original_face_colour(portrait: str) -> np.ndarray:
    make, (top, bottom, left, right) = PORTRAITS[portrait]
    return make()[top:bottom, left:right].astype(np.float32).reshape(-1, 3).mean(axis=0)


@pytest.mark.parametrize("portrait", list(PORTRAITS))
@pytest.mark.parametrize("backdrop", [MAGENTA, GREEN])
def test_a_saturated_backdrop_does_not_tint_the_face(
    segmenter: PersonSegmenter, portrait: str, backdrop: str
) -> None:
    # At most 0.05 gain per channel used to move a face on magenta by +11 R,
    # -10 G, +9 B: a visible blush.
    matched = face_colour(segmenter, portrait, backdrop, color_match=0.3)
    unmatched = face_colour(segmenter, portrait, backdrop, color_match=0.0)
    by_colour_match = np.abs(matched - unmatched)
    assert by_colour_match.max() <= 3.5, by_colour_match
    # All told (light wrap included), the face stays within a few levels.
    overall = np.abs(matched - original_face_colour(portrait))
    assert overall.max() <= 5.0, overall


def test_the_strongest_colour_match_still_spares_the_face(segmenter: PersonSegmenter) -> None:
    matched = face_colour(segmenter, "astronaut", MAGENTA, color_match=1.0)
    unmatched = face_colour(segmenter, "astronaut", MAGENTA, color_match=0.0)
    assert np.abs(matched - unmatched).max() <= 3.5


@pytest.mark.parametrize("backdrop", [NEUTRAL_GREY, WARM_BEIGE])
def test_a_neutral_or_warm_backdrop_still_matches_the_light(
    segmenter: PersonSegmenter, backdrop: str
) -> None:
    # The astronaut stands in front of a cool, bluish room: on grey paper her
    # skin loses some of that blue, on beige it warms up. Measurable, so the
    # bound above cannot be met by switching colour match off.
    matched = face_colour(segmenter, "astronaut", backdrop, color_match=0.3)
    unmatched = face_colour(segmenter, "astronaut", backdrop, color_match=0.0)
    change = matched - unmatched
    assert np.abs(change).max() >= 1.5, change
    warmer = (change[0] - change[2]) if backdrop == WARM_BEIGE else None
    if warmer is not None:
        assert warmer > 1.5, change
