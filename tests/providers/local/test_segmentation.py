"""The `local` provider's person segmentation, on real photos of people that ship
inside installed packages (scikit-image's astronaut, matplotlib's Grace Hopper)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image
from skimage import data

from photochanger.providers.local import segmentation
from photochanger.providers.local.mask_refinement import refine_mask
from photochanger.providers.local.segmentation import (
    ModelNotInstalled,
    PersonSegmenter,
    model_path,
    square_tiles,
)

# Boxes (top, bottom, left, right) in the 512×512 astronaut: inside her face, and
# on the plain wall above the shuttle model, well away from her.
ASTRONAUT_FACE = (80, 160, 180, 250)
ASTRONAUT_WALL = (0, 60, 300, 420)


def astronaut() -> np.ndarray:
    return np.ascontiguousarray(data.astronaut())


def hopper() -> np.ndarray:
    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
        return np.asarray(image.convert("RGB"))


def box_mean(mask: np.ndarray, box: tuple[int, int, int, int]) -> float:
    top, bottom, left, right = box
    return float(mask[top:bottom, left:right].mean())


@pytest.fixture(scope="module")
def segmenter() -> Iterator[PersonSegmenter]:
    started = PersonSegmenter(pool_size=2)
    started.start()
    yield started
    started.close()


@pytest.mark.parametrize("model", ["general", "landscape"])
def test_the_models_ship_inside_the_mediapipe_wheel(model: str) -> None:
    path = model_path(model)  # type: ignore[arg-type]
    assert path.is_file()
    assert path.suffix == ".tflite"
    assert "mediapipe" in path.parts
    assert "site-packages" in path.parts or "dist-packages" in path.parts


def test_a_missing_model_is_a_clear_error_not_a_download(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(segmentation.MODEL_FILES, "general", "not_there.tflite")
    with pytest.raises(ModelNotInstalled, match="never downloaded"):
        PersonSegmenter().start()


def test_importing_the_module_does_not_import_mediapipe() -> None:
    code = (
        "import sys, photochanger.providers.local.segmentation\nprint('mediapipe' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_mask_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="start"):
        PersonSegmenter().person_mask(astronaut())


def test_start_keeps_mediapipes_native_log_lines_off_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    quiet = PersonSegmenter()
    quiet.start()
    quiet.close()
    err = capfd.readouterr().err
    assert "XNNPACK" not in err
    assert "absl::InitializeLog" not in err
    assert "I0000" not in err
    assert "W0000" not in err


def test_the_astronaut_is_found_and_the_wall_is_not(segmenter: PersonSegmenter) -> None:
    photo = astronaut()
    mask = segmenter.person_mask(photo)
    assert mask.shape == photo.shape[:2]
    assert mask.dtype == np.float32
    assert float(mask.min()) >= 0.0
    assert float(mask.max()) <= 1.0
    assert box_mean(mask, ASTRONAUT_FACE) > 0.95
    assert box_mean(mask, ASTRONAUT_WALL) < 0.05


def test_the_mask_comes_back_at_the_size_it_was_given(segmenter: PersonSegmenter) -> None:
    photo = cv2.resize(hopper(), (700, 410))  # not the model's shape, not square
    mask = segmenter.person_mask(photo)
    assert mask.shape == (410, 700)


def test_a_dark_room_is_still_segmented(segmenter: PersonSegmenter) -> None:
    rng = np.random.default_rng(0)
    dark = astronaut().astype(np.float32) * 0.2 + rng.normal(0, 4, (512, 512, 3))
    mask = segmenter.person_mask(np.clip(dark, 0, 255).astype(np.uint8))
    assert box_mean(mask, ASTRONAUT_FACE) > 0.9
    assert box_mean(mask, ASTRONAUT_WALL) < 0.1


def test_everyone_in_a_wide_group_is_found(segmenter: PersonSegmenter) -> None:
    # Three photos of people side by side, 3:1 — squeezed into one 256×256 input
    # the outer people would be thin slivers; tiling keeps them.
    people = [cv2.resize(hopper(), (439, 512)), astronaut(), astronaut()[:, ::-1]]
    group = np.ascontiguousarray(np.hstack(people))
    mask = segmenter.person_mask(group)
    hopper_face = (200, 300, 160, 280)
    top, bottom, left, right = ASTRONAUT_FACE
    second = (top, bottom, 439 + left, 439 + right)
    third = (top, bottom, 439 + 512 + 512 - right, 439 + 512 + 512 - left)
    for face in (hopper_face, second, third):
        assert box_mean(mask, face) > 0.9, face


def test_concurrent_calls_share_the_pool_safely(segmenter: PersonSegmenter) -> None:
    photos = [astronaut(), hopper(), astronaut()[::-1].copy(), hopper()[:, ::-1].copy()]
    expected = [segmenter.person_mask(photo) for photo in photos]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(segmenter.person_mask, photos * 3))
    for index, result in enumerate(results):
        np.testing.assert_allclose(result, expected[index % 4], atol=1e-5)


@pytest.mark.parametrize(
    ("width", "height", "count"),
    [(512, 512, 1), (560, 512, 1), (600, 400, 3), (1600, 900, 3), (1463, 512, 4), (400, 600, 3)],
)
def test_square_tiles_cover_the_photo(width: int, height: int, count: int) -> None:
    tiles = square_tiles(width, height)
    assert len(tiles) == count
    covered = np.zeros((height, width), dtype=bool)
    for x, y, tile_width, tile_height in tiles:
        assert x >= 0
        assert y >= 0
        assert x + tile_width <= width
        assert y + tile_height <= height
        if count > 1:
            assert tile_width == tile_height == min(width, height)
        covered[y : y + tile_height, x : x + tile_width] = True
    assert covered.all()


def test_refine_mask_snaps_a_blurry_mask_to_the_photos_edge() -> None:
    # A sharp colour edge at x = 100; the coarse mask's soft edge is centred a few
    # pixels off it, as a 256-pixel model's would be.
    height, width, edge = 120, 200, 100
    guide = np.zeros((height, width, 3), dtype=np.uint8)
    guide[:, :edge] = (200, 120, 90)
    guide[:, edge:] = (60, 90, 160)
    guide = np.clip(guide + np.random.default_rng(1).normal(0, 3, guide.shape), 0, 255)
    guide = guide.astype(np.uint8)
    x = np.arange(width, dtype=np.float32)
    ramp = 1 / (1 + np.exp((x - (edge + 4)) / 4))
    coarse = np.broadcast_to(ramp, (height, width)).astype(np.float32)
    refined = refine_mask(guide, coarse, radius=8)
    assert refined.shape == coarse.shape
    assert refined.dtype == np.float32
    middle = slice(20, 100)
    # The coarse mask changes by at most 0.07 between neighbours; the refined one
    # makes one big step, exactly at the colour edge.
    row = refined[middle].mean(axis=0)
    jumps = np.abs(np.diff(row))
    assert int(np.argmax(jumps)) == edge - 1
    assert float(jumps.max()) > 4 * float(np.abs(np.diff(coarse[0])).max())
    assert float(row[: edge - 20].min()) > 0.95
    assert float(row[edge + 25 :].max()) < 0.05
