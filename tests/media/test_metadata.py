"""Metadata removal on the container (SPEC §10 "guests' privacy"): what goes,
what stays, pixels untouched when the photo is upright, malformed files refused."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ingest.photos_with_metadata import guest_exif, guest_photo, leaks, mark_corner
from photochanger.media.downscale import for_remote
from photochanger.media.metadata import (
    UnreadablePhoto,
    blank_metadata_in_place,
    without_metadata,
)


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_an_upright_photo_loses_its_metadata_and_keeps_its_pixels(fmt: str) -> None:
    photo = guest_photo(fmt)
    cleaned = without_metadata(photo)
    assert leaks(photo)
    assert leaks(cleaned) == []
    assert len(cleaned) < len(photo)
    assert np.array_equal(pixels(cleaned), pixels(photo))  # not re-encoded


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [(3, "bottom-right"), (6, "top-right"), (8, "bottom-left"), (2, "top-right")],
)
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_turned_photo_is_made_upright(fmt: str, orientation: int, corner: str) -> None:
    cleaned = without_metadata(guest_photo(fmt, (400, 300), orientation))
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.format == fmt
        assert image.size == ((300, 400) if orientation in (6, 8) else (400, 300))
    assert mark_corner(cleaned) == corner
    assert leaks(cleaned) == []


def test_a_clean_photo_comes_back_as_the_same_object() -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(out, "JPEG")
    photo = out.getvalue()
    assert without_metadata(photo) is photo


def test_jpeg_keeps_its_colour_profile_and_drops_what_follows_its_end() -> None:
    out = io.BytesIO()
    icc = b"\0" * 128 + b"a made-up profile the decoder never reads"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", icc_profile=icc)
    polyglot = out.getvalue() + b"<script>alert('GPS 55.7N')</script>"
    cleaned = without_metadata(polyglot)
    assert cleaned.endswith(b"\xff\xd9")
    assert b"<script>" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.info["icc_profile"] == icc


def test_a_jpeg_app_segment_between_progressive_scans_is_dropped() -> None:
    out = io.BytesIO()
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(out, "JPEG", progressive=True)
    data = out.getvalue()
    second_scan = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    xmp = b"http://ns.adobe.com/xap/1.0/\0<x:GPSLatitude>55</x:GPSLatitude>"
    segment = b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp
    sneaky = data[:second_scan] + segment + data[second_scan:]
    cleaned = without_metadata(sneaky)
    assert b"GPSLatitude" not in cleaned
    assert np.array_equal(pixels(cleaned), pixels(data))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_png_keeps_transparency_and_drops_text_after_iend() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 255, 128)).save(out, "PNG")
    data = out.getvalue()
    idat = data.index(b"IDAT") - 4
    private = png_chunk(b"tIME", b"\x07\xea\x0c\x07\x12\x00\x00") + png_chunk(
        b"zTXt", b"Author\0\0" + zlib.compress(b"Ivan")
    )
    sneaky = data[:idat] + private + data[idat:] + png_chunk(b"tEXt", b"GPS\x0055.7N")
    cleaned = without_metadata(sneaky)
    assert cleaned == data
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.getpixel((3, 3)) == (0, 0, 255, 128)


def test_webp_clears_the_flags_of_what_it_drops() -> None:
    cleaned = without_metadata(guest_photo("WEBP"))
    assert b"EXIF" not in cleaned
    vp8x = cleaned.index(b"VP8X")
    assert cleaned[vp8x + 8] & 0x0C == 0
    assert struct.unpack_from("<I", cleaned, 4)[0] == len(cleaned) - 8


@pytest.mark.parametrize(
    "broken",
    [
        b"\xff\xd8\xff\xe1\xff\xff" + b"\0" * 10,  # a segment longer than the file
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR",  # a chunk cut short
        b"RIFF\x20\0\0\0WEBPVP8X\x40\0\0\0",
        b"GIF89a...",
    ],
)
def test_a_malformed_file_is_refused(broken: bytes) -> None:
    with pytest.raises(UnreadablePhoto):
        without_metadata(broken)


def test_for_remote_keeps_a_small_photo_as_it_is_but_clean() -> None:
    photo = guest_photo("PNG", (400, 300))
    sent = for_remote(photo, 4.0)
    assert (sent.mime, sent.width, sent.height) == ("image/png", 400, 300)
    assert np.array_equal(pixels(sent.data), pixels(photo))
    assert leaks(sent.data) == []


def test_for_remote_keeps_transparency_as_png() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (3000, 2000), (0, 255, 0, 100)).save(out, "PNG")
    sent = for_remote(out.getvalue(), 1.0)
    assert sent.mime == "image/png"
    assert sent.width * sent.height <= 1_000_000
    with Image.open(io.BytesIO(sent.data)) as image:
        assert image.mode == "RGBA"
        assert image.getpixel((10, 10))[3] == 100


def test_a_turned_mpo_comes_back_an_upright_jpeg() -> None:
    """Many cameras write a JPEG with an MPF preview, which Pillow calls MPO."""
    with Image.open(io.BytesIO(guest_photo("JPEG"))) as source:
        image = source.convert("RGB")
    out = io.BytesIO()
    preview = image.resize((100, 75))
    image.save(out, "MPO", save_all=True, append_images=[preview], exif=guest_exif(6))
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    cleaned = without_metadata(out.getvalue())
    with Image.open(io.BytesIO(cleaned)) as turned:
        assert (turned.format, turned.size) == ("JPEG", (300, 400))
    assert mark_corner(cleaned) == "top-right"
    assert leaks(cleaned) == []


def test_a_jpeg_a_decoder_reads_but_the_parser_does_not_is_encoded_again_clean() -> None:
    photo = guest_photo("JPEG")
    tables = photo.index(b"\xff\xdb")
    padded = photo[:tables] + b"\x00\x00" + photo[tables:]  # junk between two segments
    cleaned = without_metadata(padded)
    assert leaks(cleaned) == []
    assert np.abs(pixels(cleaned).astype(int) - pixels(photo).astype(int)).mean() < 4


def test_a_short_vp8x_chunk_does_not_crash_the_cleaner() -> None:
    """An empty VP8X chunk: its flags byte would lie past the chunk's end."""
    broken = b"RIFF\x0c\0\0\0WEBPVP8X\0\0\0\0"
    try:
        cleaned = without_metadata(broken)
    except UnreadablePhoto:
        return  # refused in words: fine
    assert cleaned == broken  # nothing it could remove


def test_for_remote_scales_16_bit_grey_and_drops_a_cmyk_profile() -> None:
    grey = Image.fromarray(np.full((1200, 1600), 30000, dtype=np.uint16))
    out = io.BytesIO()
    grey.save(out, "PNG")
    sent = for_remote(out.getvalue(), 1.0)
    value = pixels(sent.data)[5, 5]
    assert abs(int(value[0]) - round(30000 * 255 / 65535)) <= 1  # not clipped to white

    cmyk = Image.new("CMYK", (1600, 1200), (0, 0, 0, 0))
    out = io.BytesIO()
    cmyk.save(out, "JPEG", icc_profile=b"\0" * 128 + b"a CMYK profile")
    sent = for_remote(out.getvalue(), 1.0)
    with Image.open(io.BytesIO(sent.data)) as image:
        assert image.mode == "RGB"
        assert "icc_profile" not in image.info


def test_a_spooled_jpeg_is_cleaned_in_its_own_file(tmp_path: Path) -> None:
    """Segments left out become zero-filled comments of the same length and
    what follows the image is cut: no metadata, the same pixels, no new file."""
    photo = guest_photo("JPEG") + b"<script>trailing payload</script>"
    spooled = tmp_path / "upload"
    spooled.write_bytes(photo)
    inode = spooled.stat().st_ino

    assert blank_metadata_in_place(spooled)

    cleaned = spooled.read_bytes()
    assert spooled.stat().st_ino == inode
    assert cleaned.endswith(b"\xff\xd9")
    assert leaks(cleaned) == []
    assert b"<script>" not in cleaned
    assert np.array_equal(pixels(cleaned), pixels(photo))
    assert leaks(without_metadata(cleaned)) == []


@pytest.mark.parametrize(
    "photo",
    [guest_photo("JPEG", orientation=6), guest_photo("PNG"), b"\xff\xd8\xff\xe1\xff\xff"],
    ids=["turned", "png", "broken"],
)
def test_what_the_file_cannot_clean_in_place_is_left_untouched(
    tmp_path: Path, photo: bytes
) -> None:
    spooled = tmp_path / "upload"
    spooled.write_bytes(photo)
    assert not blank_metadata_in_place(spooled)
    assert spooled.read_bytes() == photo
