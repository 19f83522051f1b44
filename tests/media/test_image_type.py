"""The header check of every uploaded image (`image_type.read_image_header`):
sizes, decompression bombs, and headers Pillow would read for seconds on the
event loop, refused from their structure before Pillow sees them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostile import samples
from photochanger.errors import PayloadTooLarge, UnsupportedMediaType
from photochanger.media.image_type import (
    MAX_EXIF_SEGMENTS,
    MAX_HEADER_SEGMENTS,
    MAX_STRAY_BYTES,
    read_image_header,
)
from support import make_image


def both_ways(data: bytes, tmp_path: Path) -> list[bytes | Path]:
    """The photo in memory and spooled to a file, as uploads come."""
    path = tmp_path / "upload"
    path.write_bytes(data)
    return [data, path]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (samples.empty_segments_jpeg, f"more than {MAX_HEADER_SEGMENTS} segments"),
        (samples.split_exif_jpeg, f"split over more than {MAX_EXIF_SEGMENTS} segments"),
        (samples.empty_chunks_png, f"more than {MAX_HEADER_SEGMENTS} chunks"),
    ],
)
def test_a_header_pillow_would_spend_seconds_on_is_refused(
    make: object, message: str, tmp_path: Path
) -> None:
    """Before: 15 s (empty segments), 0.6 s (split EXIF), 10 s (empty chunks)
    of Pillow's Python on the event loop per 20 MB upload."""
    data = make()  # type: ignore[operator]
    mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    for contents in both_ways(data, tmp_path):
        with pytest.raises(UnsupportedMediaType, match=message):
            read_image_header(mime, contents)


def test_markers_without_a_length_count_as_segments() -> None:
    restarts = b"\xff\xd0" * (MAX_HEADER_SEGMENTS + 1)
    with pytest.raises(UnsupportedMediaType, match="segments"):
        read_image_header("image/jpeg", samples.with_segments(samples.photo(), [restarts]))


def test_junk_between_jpeg_segments_is_refused_past_its_limit() -> None:
    photo = samples.photo()
    tolerated = photo[:20] + bytes(100) + photo[20:]  # after APP0, as some encoders pad
    assert read_image_header("image/jpeg", tolerated).width == 160
    with pytest.raises(UnsupportedMediaType, match="junk"):
        read_image_header("image/jpeg", photo[:20] + bytes(MAX_STRAY_BYTES + 1) + photo[20:])


def test_large_real_metadata_is_read(tmp_path: Path) -> None:
    """A depth map in 64 extended-XMP segments and an EXIF of 5000 tags are
    what phones and cameras write: read as usual."""
    for data in (samples.depth_map_jpeg(), samples.huge_exif_jpeg()):
        for contents in both_ways(data, tmp_path):
            header = read_image_header("image/jpeg", contents)
            assert (header.width, header.height) == (160, 120)


def test_a_png_a_jpeg_and_a_webp_are_read() -> None:
    for fmt, mime in (("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")):
        assert read_image_header(mime, make_image(fmt, (64, 48))).mime == mime


def test_decompression_bombs_are_413() -> None:
    """A 30000×30000 PNG of a hundred kilobytes (past Pillow's own refusal),
    and one of 144 MP (past ours): SPEC §3.2's 413 is for a payload over its
    limit, and these are PNGs by their bytes, only too large once decoded."""
    with pytest.raises(PayloadTooLarge, match="too many pixels"):
        read_image_header("image/png", samples.bomb_png())
    with pytest.raises(PayloadTooLarge, match="144 MP; the limit is 100 MP"):
        read_image_header("image/png", samples.bomb_png(12_000))
