"""The `local` provider's `stylize` operation: cartoon, pencil and colour grades."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from photochanger.providers.local.imaging import UndecodableImage
from photochanger.providers.local.stylize import StylizeSettings, stylize
from support import encoded

WIDTH, HEIGHT = 400, 300
FACE_CENTRE, FACE_AXES = (200, 130), (60, 80)
EFFECTS = [
    {"style": "cartoon"},
    {"style": "pencil"},
    *(
        {"style": "color_grade", "grade": grade}
        for grade in ("natural", "warm", "cool", "vintage", "noir")
    ),
]
MIMES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def effect_id(settings: dict[str, str]) -> str:
    return settings.get("grade", settings["style"])


def scene(seed: int = 0) -> np.ndarray:
    """A booth-like photo: a graded backdrop, dark shoulders and a face-like ellipse
    with eyes and a mouth, plus skin texture and sensor noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    image = np.empty((HEIGHT, WIDTH, 3), dtype=np.float32)
    image[...] = np.stack([90 + 60 * y / HEIGHT, 120 + 50 * y / HEIGHT, 190 - 40 * x / WIDTH], -1)
    shoulders = ((x - 200) / 170) ** 2 + ((y - 330) / 110) ** 2 < 1
    image[shoulders] = (40, 45, 70)
    (cx, cy), (ax, ay) = FACE_CENTRE, FACE_AXES
    face = ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 < 1
    shade = 1 - 0.25 * (x - cx) / ax  # light from the left
    image[face] = np.stack([225 * shade, 180 * shade, 150 * shade], -1)[face]
    image[face] += rng.normal(0, 8, (int(face.sum()), 3))  # skin texture
    for eye_x in (cx - 25, cx + 25):
        image[((x - eye_x) / 10) ** 2 + ((y - (cy - 15)) / 6) ** 2 < 1] = (40, 30, 30)
    image[((x - cx) / 25) ** 2 + ((y - (cy + 35)) / 7) ** 2 < 1] = (170, 60, 70)
    image += rng.normal(0, 3, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def face_mask(shrink: float = 1.0) -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    (cx, cy), (ax, ay) = FACE_CENTRE, FACE_AXES
    return ((x - cx) / (ax * shrink)) ** 2 + ((y - cy) / (ay * shrink)) ** 2 < 1  # type: ignore[no-any-return]


def run(rgb: np.ndarray, fmt: str = "PNG", **settings: Any) -> tuple[np.ndarray, str, str]:
    data, mime = stylize(encoded(rgb, fmt), StylizeSettings(**settings))
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB")), image.format or "", mime


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def texture(rgb: np.ndarray) -> float:
    """Mean difference between horizontal neighbours: high for grain, low for flat paint."""
    return float(np.abs(np.diff(rgb.astype(np.int16), axis=1)).mean())


def red_blue_ratio(rgb: np.ndarray) -> float:
    return float(rgb[..., 0].mean() / rgb[..., 2].mean())


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("settings", EFFECTS, ids=effect_id)
def test_output_keeps_size_and_format(fmt: str, settings: dict[str, str]) -> None:
    result, result_format, mime = run(scene(), fmt, **settings)
    assert result.shape == (HEIGHT, WIDTH, 3)
    assert result_format == fmt
    assert mime == MIMES[fmt]


def test_exif_orientation_gives_an_upright_result() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, displayed portrait
    data = encoded(scene(), "JPEG", quality=90, exif=exif.tobytes())
    result, mime = stylize(data, StylizeSettings(style="cartoon"))
    assert mime == "image/jpeg"
    with Image.open(io.BytesIO(result)) as image:
        assert image.size == (HEIGHT, WIDTH)


@pytest.mark.parametrize("settings", EFFECTS, ids=effect_id)
def test_the_effect_changes_the_photo(settings: dict[str, str]) -> None:
    source = scene()
    result, _, _ = run(source, **settings)
    assert mean_abs_diff(result, source) > 6


@pytest.mark.parametrize("settings", EFFECTS, ids=effect_id)
def test_strength_blends_with_the_original(settings: dict[str, str]) -> None:
    source = scene()
    untouched, _, _ = run(source, strength=0, **settings)
    half, _, _ = run(source, strength=0.5, **settings)
    full, _, _ = run(source, strength=1, **settings)
    assert np.array_equal(untouched, source)  # PNG: lossless, so exactly the original
    assert 0 < mean_abs_diff(half, source) < mean_abs_diff(full, source)


def test_strength_zero_jpeg_is_nearly_the_original() -> None:
    source = scene()
    untouched, _, _ = run(source, "JPEG", style="cartoon", strength=0, jpeg_quality=95)
    assert mean_abs_diff(untouched, source) < 4  # only the JPEG round trips


def test_cartoon_flattens_texture_and_draws_outlines() -> None:
    source = scene()
    result, _, _ = run(source, style="cartoon")
    # Skin texture is smoothed away: far less pixel-to-pixel variation on the forehead.
    cx, cy = FACE_CENTRE
    forehead = (slice(cy - 55, cy - 30), slice(cx - 25, cx + 25))
    assert texture(result[forehead]) < 0.3 * texture(source[forehead])
    # Ink along the face's contour: its darkest pixels are far darker than the
    # darker side of the same contour in the photo.
    rim = face_mask(1.08) & ~face_mask(0.92)
    assert (
        np.percentile(result[rim].mean(axis=1), 10)
        < np.percentile(source[rim].mean(axis=1), 10) - 40
    )


def test_cartoon_keeps_the_colours_of_the_person() -> None:
    source = scene()
    result, _, _ = run(source, style="cartoon")
    inner = face_mask(0.7)
    source_skin = source[inner].mean(axis=0)
    result_skin = result[inner].mean(axis=0)
    assert np.abs(result_skin - source_skin).max() < 40
    assert result_skin[0] > result_skin[2]  # skin stays warm, not grey or blue


def test_pencil_is_a_near_grey_drawing() -> None:
    result, _, _ = run(scene(), style="pencil")
    spread = result.max(axis=2).astype(int) - result.min(axis=2)
    assert spread.max() <= 14  # at most a faint paper tint
    # A sketch is mostly paper, with dark strokes.
    grey = result.mean(axis=2)
    assert np.median(grey) > 200
    assert grey.min() < 100


def test_noir_is_black_and_white_with_strong_contrast() -> None:
    source = scene()
    result, _, _ = run(source, style="color_grade", grade="noir")
    assert np.array_equal(result[..., 0], result[..., 1])
    assert np.array_equal(result[..., 1], result[..., 2])
    assert result[..., 0].std() > source.mean(axis=2).std()


def test_warm_and_cool_shift_the_colour_balance() -> None:
    source = scene()
    warm, _, _ = run(source, style="color_grade", grade="warm")
    cool, _, _ = run(source, style="color_grade", grade="cool")
    assert red_blue_ratio(warm) > red_blue_ratio(source) * 1.05
    assert red_blue_ratio(cool) < red_blue_ratio(source) * 0.95


def test_vintage_fades_the_blacks_and_mutes_colour() -> None:
    source = scene()
    source[:40, :40] = 0
    result, _, _ = run(source, style="color_grade", grade="vintage")
    assert result[:40, :40].min() >= 12

    def saturation(rgb: np.ndarray) -> float:
        return float((rgb.max(axis=2).astype(int) - rgb.min(axis=2)).mean())

    assert saturation(result) < saturation(source)


def test_natural_stretches_a_flat_photo() -> None:
    flat = (scene().astype(np.float32) * 0.5 + 64).astype(np.uint8)  # washed out
    result, _, _ = run(flat, style="color_grade", grade="natural")
    assert result.mean(axis=2).std() > 1.3 * flat.mean(axis=2).std()


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (17, 9)])
@pytest.mark.parametrize("settings", EFFECTS, ids=effect_id)
def test_tiny_images_work(size: tuple[int, int], settings: dict[str, str]) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    result, _, _ = run(rgb, **settings)
    assert result.shape == (size[1], size[0], 3)


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a nonsense", encoded(scene(), "JPEG")[:5000]],
    ids=["empty", "garbage", "truncated-jpeg"],
)
def test_undecodable_input_raises(data: bytes) -> None:
    with pytest.raises(UndecodableImage):
        stylize(data, StylizeSettings())


def test_settings_defaults() -> None:
    settings = StylizeSettings()
    assert (settings.style, settings.grade, settings.strength, settings.jpeg_quality) == (
        "cartoon",
        "warm",
        1.0,
        92,
    )


@pytest.mark.parametrize(
    "values",
    [
        {"colour": "red"},
        {"style": "oil"},
        {"grade": "sepia"},
        {"strength": -0.1},
        {"strength": 1.5},
        {"strength": math.nan},
        {"jpeg_quality": 49},
        {"jpeg_quality": 101},
    ],
)
def test_settings_reject_unknown_keys_and_out_of_range_values(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        StylizeSettings(**values)


def test_settings_schema_describes_a_form() -> None:
    schema = StylizeSettings.model_json_schema()
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert set(properties) == {"style", "grade", "strength", "jpeg_quality"}
    for field in properties.values():
        assert field["title"]
        assert field["description"]
    assert properties["style"]["enum"] == ["cartoon", "pencil", "color_grade"]
    assert properties["grade"]["enum"] == ["natural", "warm", "cool", "vintage", "noir"]
    assert (properties["strength"]["minimum"], properties["strength"]["maximum"]) == (0, 1)
    assert (properties["jpeg_quality"]["minimum"], properties["jpeg_quality"]["maximum"]) == (
        50,
        100,
    )
