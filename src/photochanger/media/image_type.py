"""Image type from the file's first bytes (the part's Content-Type is only a
hint), and the header check every uploaded image passes.

The header check runs on the event loop, and Pillow reads a header in Python,
segment by segment: a 20 MB JPEG of empty APP segments took it 15 s, a PNG of
empty chunks 10 s, a JPEG with its EXIF split over 300 segments 0.6 s (Pillow
joins them, copying the whole each time), with every other request waiting
(tests/hostile). So the container's structure is walked first, by its segment
and chunk headers alone, and such a header is refused (415) before Pillow sees
it: more than `MAX_HEADER_SEGMENTS` segments or chunks before the image data,
EXIF in more than `MAX_EXIF_SEGMENTS` segments, or long junk between segments."""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from photochanger.errors import PayloadTooLarge, UnsupportedMediaType

SNIFF_BYTES = 16

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

MAX_IMAGE_MEGAPIXELS = 100
MAX_HEADER_SEGMENTS = 1000
"""JPEG segments or PNG chunks before the image data. A camera writes about
twenty; a phone's depth map in extended XMP adds some sixty."""
MAX_EXIF_SEGMENTS = 4
"""The Exif standard puts EXIF in one APP1 segment."""
MAX_STRAY_BYTES = 4096
"""Fill or junk bytes between JPEG segments, which Pillow skips one by one."""
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def sniff_image_mime(head: bytes) -> str | None:
    """`image/jpeg`, `image/png`, `image/webp`, or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class ImageHeader:
    mime: str
    width: int
    height: int


def read_image_header(mime: str | None, contents: bytes | Path) -> ImageHeader:
    """415 unless the bytes (`mime` sniffed from them) are a JPEG, PNG or WebP
    whose header Pillow can read, and read quickly; 413 past
    `MAX_IMAGE_MEGAPIXELS` (a decompression bomb is a PNG by its bytes, only
    too large once decoded)."""
    if mime is None:
        raise UnsupportedMediaType("the file is not a JPEG, PNG or WebP image")
    try:
        with _opened(contents) as source, warnings.catch_warnings():
            _check_structure(mime, source)
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            source.seek(0)
            with Image.open(source, formats=[_PIL_FORMATS[mime]]) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        raise PayloadTooLarge(
            f"the image has too many pixels; the limit is {MAX_IMAGE_MEGAPIXELS} MP"
        ) from None
    except (OSError, SyntaxError, ValueError):
        raise UnsupportedMediaType("the file's image header cannot be read") from None
    if width * height > MAX_IMAGE_MEGAPIXELS * 1_000_000:
        raise PayloadTooLarge(
            f"the image is {width * height / 1e6:.0f} MP; the limit is {MAX_IMAGE_MEGAPIXELS} MP"
        )
    return ImageHeader(mime=mime, width=width, height=height)


def _opened(contents: bytes | Path) -> BinaryIO:
    return io.BytesIO(contents) if isinstance(contents, bytes) else open(contents, "rb")


def _check_structure(mime: str, source: BinaryIO) -> None:
    """415 for a header Pillow would spend seconds on; anything else that is
    wrong with it is left for Pillow to find."""
    if mime == "image/jpeg":
        _check_jpeg_header(source)
    elif mime == "image/png":
        _check_png_header(source)


_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def _check_jpeg_header(source: BinaryIO) -> None:
    source.seek(2)
    segments = exif = stray = 0
    while True:
        head = source.read(2)
        if len(head) < 2:
            return
        if head[0] != 0xFF or head[1] in (0xFF, 0x00):  # junk, fill, escaped 0xFF
            stray += 1
            if stray > MAX_STRAY_BYTES:
                raise UnsupportedMediaType("the JPEG has junk between its segments")
            source.seek(-1, io.SEEK_CUR)
            continue
        marker = head[1]
        if marker in (0xDA, 0xD9):  # the image data (or the end) is reached
            return
        segments += 1
        if segments > MAX_HEADER_SEGMENTS:
            raise UnsupportedMediaType(
                f"the JPEG has more than {MAX_HEADER_SEGMENTS} segments before its image data"
            )
        if marker in _JPEG_STANDALONE:  # a marker without a length
            continue
        length_bytes = source.read(2)
        if len(length_bytes) < 2:
            return
        (length,) = struct.unpack(">H", length_bytes)
        payload = max(length - 2, 0)
        if marker == 0xE1 and payload >= 6:
            payload -= 6
            if source.read(6) == b"Exif\0\0":
                exif += 1
                if exif > MAX_EXIF_SEGMENTS:
                    raise UnsupportedMediaType(
                        f"the JPEG's EXIF is split over more than {MAX_EXIF_SEGMENTS} segments"
                    )
        source.seek(payload, io.SEEK_CUR)


def _check_png_header(source: BinaryIO) -> None:
    source.seek(8)
    for _ in range(MAX_HEADER_SEGMENTS):
        head = source.read(8)
        if len(head) < 8:
            return
        length, kind = struct.unpack(">I4s", head)
        if kind in (b"IDAT", b"IEND"):
            return
        source.seek(length + 4, io.SEEK_CUR)  # the data and its CRC
    raise UnsupportedMediaType(
        f"the PNG has more than {MAX_HEADER_SEGMENTS} chunks before its image data"
    )
