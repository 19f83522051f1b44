"""The `local` provider's `enhance` operation: auto levels and light sharpening."""

from __future__ import annotations

import io
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError
from skimage import data

from photochanger.providers.local.enhance import EnhanceSettings, enhance
from photochanger.providers.local.imaging import UndecodableImage
from support import decoded, encoded

MIMES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def flat_astronaut() -> np.ndarray:
    """A real photo with its tones squeezed into 70..180, as a hazy booth shot."""
    photo = data.astronaut().astype(np.float32)
    return (70 + photo * (110 / 255)).astype(np.uint8)


def sharpness(rgb: np.ndarray) -> float:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def test_defaults_and_schema() -> None:
    settings = EnhanceSettings()
    assert settings.auto_levels is True
    assert settings.sharpen == 0.3
    assert settings.jpeg_quality == 92
    schema = EnhanceSettings.model_json_schema()
    for field in schema["properties"].values():
        assert field["title"]
        assert field["description"]


@pytest.mark.parametrize(
    "bad",
    [{"sharpen": 1.5}, {"sharpen": -0.1}, {"jpeg_quality": 40}, {"sharpness": 0.3}],
    ids=["too-sharp", "negative", "low-quality", "unknown-key"],
)
def test_bad_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EnhanceSettings(**bad)


@pytest.mark.parametrize("fmt", list(MIMES))
def test_format_and_size_are_kept(fmt: str) -> None:
    photo = cv2.resize(flat_astronaut(), (300, 200))
    result, mime = enhance(encoded(photo, fmt, quality=95), EnhanceSettings())
    assert mime == MIMES[fmt]
    with Image.open(io.BytesIO(result)) as image:
        assert image.format == fmt
        assert image.size == (300, 200)


def test_auto_levels_stretch_a_flat_photo_without_shifting_hues() -> None:
    photo = flat_astronaut()
    result = decoded(enhance(encoded(photo), EnhanceSettings(sharpen=0))[0])
    grey = cv2.cvtColor(result, cv2.COLOR_RGB2GRAY)
    assert np.percentile(grey, 1) < 30
    assert np.percentile(grey, 99) > 225
    # One curve for all three channels: the orange suit stays orange.
    suit_before = photo[300:400, 50:150].reshape(-1, 3).mean(axis=0)
    suit_after = result[300:400, 50:150].reshape(-1, 3).mean(axis=0)
    assert suit_after[0] > suit_after[1] > suit_after[2]
    assert suit_before[0] > suit_before[1] > suit_before[2]


def test_a_dark_room_is_lifted_only_so_far() -> None:
    dark = (data.astronaut().astype(np.float32) * 0.35).astype(np.uint8)  # max 89
    result = decoded(enhance(encoded(dark), EnhanceSettings(sharpen=0))[0])
    # Stretched by at most 255/160: a night stays a night and its noise stays down.
    assert result.max() <= int(dark.max() * 255 / 160) + 2
    assert result.mean() > dark.mean()


def test_sharpening_adds_local_contrast() -> None:
    photo = data.astronaut()
    soft = decoded(enhance(encoded(photo), EnhanceSettings(auto_levels=False, sharpen=0))[0])
    sharp = decoded(enhance(encoded(photo), EnhanceSettings(auto_levels=False, sharpen=0.6))[0])
    assert np.array_equal(soft, photo)  # nothing asked, nothing done (PNG is lossless)
    assert sharpness(sharp) > 1.3 * sharpness(photo)
    # Light sharpening, not a different picture.
    assert np.abs(sharp.astype(int) - photo).mean() < 8


def test_exif_orientation_is_applied() -> None:
    photo = cv2.resize(flat_astronaut(), (300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    data_with_exif = encoded(photo, "JPEG", quality=95, exif=exif.tobytes())
    with Image.open(io.BytesIO(enhance(data_with_exif, EnhanceSettings())[0])) as image:
        assert image.size == (200, 300)


def test_undecodable_input_raises() -> None:
    with pytest.raises(UndecodableImage):
        enhance(b"definitely not a photo", EnhanceSettings())
