"""Decoding and encoding of booth photos for the `local` provider."""

from __future__ import annotations

import io
import struct

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile, ImageOps
from skimage.data import astronaut

from photochanger.providers.local.imaging import MIME_BY_FORMAT, UndecodableImage, decode, encode
from support import encoded

FORMATS = ["JPEG", "PNG", "WEBP"]


def photo(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """Smooth gradients plus a little noise: compresses like a photo, not like a flat fill."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    channels = [40 + 180 * x + 0 * y, 60 + 150 * y + 0 * x, 200 - 120 * x * y]
    image = np.stack(channels, axis=-1) + rng.normal(0, 4, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def matrix_profile(name: str, primaries: list[tuple[float, float, float]]) -> bytes:
    """A minimal ICC v2 RGB profile: D50 primaries and a gamma-2.2 curve per channel."""

    def fixed(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + fixed(x) + fixed(y) + fixed(z)

    text = name.encode() + b"\0"
    description = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 78
    gamma = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags = [
        (b"desc", description),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        *(
            (tag, xyz(*primary))
            for tag, primary in zip((b"rXYZ", b"gXYZ", b"bXYZ"), primaries, strict=True)
        ),
        *((tag, gamma) for tag in (b"rTRC", b"gTRC", b"bTRC")),
        (b"cprt", b"text\0\0\0\0none\0\0\0\0"),
    ]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)  # tags start on 4-byte boundaries
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"none"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + b"\0" * 4
        + fixed(0.9642)
        + fixed(1.0)
        + fixed(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


DISPLAY_P3 = [(0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841)]
SRGB = [(0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7139)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_decode_returns_rgb_array_and_format(fmt: str) -> None:
    source = photo()
    rgb, decoded_format = decode(encoded(source, fmt, quality=95))
    assert decoded_format == fmt
    assert rgb.shape == (240, 320, 3)
    assert rgb.dtype == np.uint8
    assert np.abs(rgb.astype(int) - source).mean() < 5  # JPEG and WebP are lossy


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("orientation", [1, 6])
def test_bgr_decode_and_encode_are_the_same_pixels_in_opencvs_order(
    fmt: str, orientation: int
) -> None:
    # background_replace keeps the photo in BGR from decoder to encoder.
    image = Image.fromarray(photo())
    exif = image.getexif()
    exif[0x0112] = orientation
    data = encoded(image, fmt, quality=95, exif=exif.tobytes())
    rgb, _ = decode(data)
    bgr, _ = decode(data, bgr=True)
    assert np.array_equal(bgr, rgb[..., ::-1])
    assert encode(bgr, fmt, bgr=True) == encode(rgb, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_encode_round_trips_with_the_format_mime(fmt: str) -> None:
    source = photo()
    data, mime = encode(source, fmt)
    assert mime == MIME_BY_FORMAT[fmt]
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == fmt
        assert image.size == (320, 240)
        assert image.mode == "RGB"
    if fmt == "PNG":
        assert np.array_equal(decode(data)[0], source)


def test_jpeg_quality_trades_size_for_fidelity() -> None:
    source = photo(seed=1)
    low, _ = encode(source, "JPEG", jpeg_quality=50)
    high, _ = encode(source, "JPEG", jpeg_quality=100)
    assert len(low) < len(high)


def test_encode_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="GIF"):
        encode(photo(), "GIF")


def test_exif_orientation_is_applied() -> None:
    # Stored landscape with a red top-left corner; orientation 6 means "rotate 90°
    # clockwise to display", so the photo is portrait with the red corner top-right.
    stored = np.zeros((40, 60, 3), dtype=np.uint8)
    stored[:10, :10] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encoded(stored, "JPEG", quality=95, exif=exif.tobytes())

    rgb, _ = decode(data)

    assert rgb.shape == (60, 40, 3)
    assert rgb[2, -3, 0] > 200
    assert rgb[2, -3, 1] < 60
    assert rgb[2, 2, 0] < 60


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_fast_jpeg_decoder_turns_photos_like_pillow(orientation: int) -> None:
    # imaging.decode decodes plain JPEGs with OpenCV and turns them by EXIF itself;
    # every orientation must come out as Pillow's exif_transpose shows it.
    stored = cv2.resize(np.ascontiguousarray(astronaut()), (96, 64))
    exif = Image.Exif()
    exif[0x0112] = orientation
    jpeg = encoded(stored, "JPEG", quality=95, exif=exif.tobytes())
    rgb, fmt = decode(jpeg)
    with Image.open(io.BytesIO(jpeg)) as image:
        image.load()
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    assert fmt == "JPEG"
    assert rgb.shape == expected.shape
    assert np.abs(rgb.astype(int) - expected).max() <= 2


def test_transparency_is_composited_on_white() -> None:
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[:, :4] = (0, 0, 255, 255)  # opaque blue left half, transparent right half
    rgb, fmt = decode(encoded(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert fmt == "PNG"
    assert rgb.shape == (8, 8, 3)
    assert tuple(rgb[0, 0]) == (0, 0, 255)
    assert tuple(rgb[0, -1]) == (255, 255, 255)


def test_a_wide_gamut_photo_is_converted_to_srgb() -> None:
    # The same numbers mean a more saturated red in Display P3 than in sRGB.
    red = np.full((8, 8, 3), (200, 60, 60), dtype=np.uint8)
    rgb, _ = decode(encoded(red, "PNG", icc_profile=matrix_profile("Display P3", DISPLAY_P3)))
    assert rgb[0, 0, 0] > 210
    assert rgb[0, 0, 1] < 50


@pytest.mark.parametrize(
    "icc_profile",
    [
        ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        matrix_profile("Camera standard", SRGB),  # sRGB under another name
        b"not a profile",
    ],
    ids=["srgb", "srgb-renamed", "broken"],
)
def test_srgb_and_unreadable_profiles_leave_pixels_alone(icc_profile: bytes) -> None:
    source = photo()
    rgb, _ = decode(encoded(source, "PNG", icc_profile=icc_profile))
    assert np.array_equal(rgb, source)


def test_greyscale_becomes_three_equal_channels() -> None:
    grey = Image.fromarray(photo()[..., 0])
    rgb, _ = decode(encoded(grey, "PNG"))
    assert rgb.shape == (240, 320, 3)
    assert np.array_equal(rgb[..., 0], rgb[..., 1])
    assert np.array_equal(rgb[..., 1], rgb[..., 2])


def test_sixteen_bit_greyscale_is_scaled_not_clipped() -> None:
    ramp = np.linspace(0, 65535, 256, dtype=np.uint16).reshape(16, 16)
    rgb, _ = decode(encoded(Image.fromarray(ramp), "PNG"))
    assert rgb[0, 0, 0] == 0
    assert rgb[-1, -1, 0] == 255
    assert 100 < rgb[8, 0, 0] < 160  # mid-grey, not clipped to white


def test_max_pixels_draft_decodes_a_large_jpeg_smaller() -> None:
    data = encoded(photo(1600, 1200), "JPEG", quality=90)
    rgb, fmt = decode(data, max_pixels=200_000)
    assert fmt == "JPEG"
    height, width = rgb.shape[:2]
    # DCT scaling halves the size as often as it can without going below the target.
    assert (width, height) == (800, 600)
    assert width * height >= 200_000


def test_max_pixels_leaves_small_and_non_jpeg_images_alone() -> None:
    assert decode(encoded(photo(), "JPEG"), max_pixels=10_000_000)[0].shape == (240, 320, 3)
    assert decode(encoded(photo(1600, 1200), "PNG"), max_pixels=200_000)[0].shape == (
        1200,
        1600,
        3,
    )


def test_truncated_images_are_not_grey_filled() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    for fmt in FORMATS:
        data = encoded(photo(640, 480), fmt)
        with pytest.raises(UndecodableImage):
            decode(data[: len(data) // 2])


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        b"\xff\xd8\xff\xe0" + b"\x00" * 64,  # a JPEG signature and nothing else
        encoded(photo(16, 16), "GIF"),  # a real image, but not a format we accept
    ],
    ids=["empty", "text", "jpeg-header-only", "gif"],
)
def test_undecodable_bytes_raise_a_safe_error(data: bytes) -> None:
    with pytest.raises(UndecodableImage) as caught:
        decode(data)
    assert isinstance(caught.value, ValueError)
    assert len(str(caught.value)) < 80
    assert "\\x" not in str(caught.value)
