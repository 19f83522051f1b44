"""Hostile files made by code (no binaries in git): decompression bombs, a JPEG
with a huge or looping EXIF block, polyglots, and other formats named `.jpg`."""

from __future__ import annotations

import functools
import io
import struct
import zlib

from PIL import Image

from support import make_image

SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"
"""The payload a polyglot carries; it must never come back in an answer."""


@functools.cache
def photo(seed: int = 0) -> bytes:
    """A small, valid booth photo; another `seed`, another photo (not a re-send)."""
    return make_image("JPEG", (160, 120), seed=seed)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def bomb_png(side: int = 30_000) -> bytes:
    """A complete, valid 1-bit PNG of `side`×`side` white pixels: 900 MP from
    about a hundred kilobytes (Pillow refuses past 2 × 89 MP)."""
    row = b"\0" + b"\xff" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    rows_per_block = 500
    data = bytearray()
    for start in range(0, side, rows_per_block):
        data += packer.compress(row * min(rows_per_block, side - start))
    data += packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", bytes(data))
        + _png_chunk(b"IEND", b"")
    )


def ztxt_bomb_png() -> bytes:
    """A small PNG whose compressed text chunk inflates to 50 MB."""
    base = make_image("PNG", (32, 32))
    bomb = b"Comment\0\0" + zlib.compress(b"\0" * (50 * 1024 * 1024), 9)
    return base[:33] + _png_chunk(b"zTXt", bomb) + base[33:]


def _app_segment(marker: int, payload: bytes) -> bytes:
    assert len(payload) <= 65533
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _tiff_ifd(entries: list[tuple[int, int, int, int]], next_ifd: int = 0) -> bytes:
    """A little-endian TIFF header and one IFD at offset 8."""
    body = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack("<HHII", tag, kind, count, value)
    return b"II*\0" + struct.pack("<I", 8) + body + struct.pack("<I", next_ifd)


def with_segments(jpeg: bytes, segments: list[bytes]) -> bytes:
    """`jpeg` with `segments` inserted right after its start-of-image marker."""
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def huge_exif_jpeg() -> bytes:
    """A JPEG whose one APP1 is as large as a segment can be: 5000 EXIF tags,
    one an orientation, one a GPS position."""
    entries = [(0x0112, 3, 1, 1), (0x8825, 4, 1, 0xFFFF_FF00)]
    entries += [(0xC000 + n, 7, 4, 0x4141_4141) for n in range(5000)]
    exif = b"Exif\0\0" + _tiff_ifd(entries)
    return with_segments(photo(), [_app_segment(0xE1, exif + b"GPS-SECRET" * 100)])


@functools.cache
def split_exif_jpeg(megabytes: int = 8) -> bytes:
    """`megabytes` of EXIF over as many APP1 segments as it takes (the Exif
    standard allows one): Pillow joins them by copying, again and again."""
    filler = _app_segment(0xE1, b"Exif\0\0" + b"GPS-SECRET-" * 5950)
    return with_segments(photo(), [filler] * (megabytes * 1024 * 1024 // len(filler)))


@functools.cache
def depth_map_jpeg(megabytes: int = 4) -> bytes:
    """A phone's portrait photo: a depth map of `megabytes` in extended XMP,
    64 KB per APP1 segment, before the image data."""
    head = b"http://ns.adobe.com/xmp/extension/\0" + b"0" * 32 + b"DEPTH-MAP-"
    segment = _app_segment(0xE1, head + b"d" * (65533 - len(head)))
    return with_segments(photo(), [segment] * (megabytes * 1024 * 1024 // len(segment)))


@functools.cache
def empty_segments_jpeg(megabytes: int = 19) -> bytes:
    """A JPEG whose header is `megabytes` of empty APP15 segments, 4 bytes each."""
    return with_segments(photo(), [b"\xff\xef\x00\x02" * (megabytes * 1024 * 1024 // 4)])


@functools.cache
def empty_chunks_png(megabytes: int = 19) -> bytes:
    """A PNG with `megabytes` of empty private chunks, 12 bytes each, before its image."""
    png = other_format("PNG")
    chunk = _png_chunk(b"zzZz", b"")
    return png[:33] + chunk * (megabytes * 1024 * 1024 // len(chunk)) + png[33:]


def looping_exif_jpeg() -> bytes:
    """EXIF whose IFD points at itself as its own next IFD, with a tag whose
    count claims four gigabytes past the end of the segment."""
    entries = [(0x0112, 3, 1, 6), (0x010E, 2, 0xFFFF_FFFF, 0x7FFF_FFFF), (0x8769, 4, 1, 8)]
    return with_segments(photo(), [_app_segment(0xE1, b"Exif\0\0" + _tiff_ifd(entries, 8))])


def odd_orientation_jpeg() -> bytes:
    """An orientation of the wrong type (ASCII) and out of range."""
    entries = [(0x0112, 2, 4, 0x0039_3939)]
    return with_segments(photo(), [_app_segment(0xE1, b"Exif\0\0" + _tiff_ifd(entries))])


def polyglot_jpeg() -> bytes:
    """A JPEG that is also an HTML page: the script after the end-of-image
    marker and again inside a comment segment."""
    comment = b"\xff\xfe" + struct.pack(">H", len(SCRIPT) + 2) + SCRIPT
    return with_segments(photo(), [comment]) + SCRIPT


def other_format(fmt: str) -> bytes:
    """`photo()`'s pixels as GIF, BMP, TIFF, ICO …"""
    with Image.open(io.BytesIO(photo())) as image:
        out = io.BytesIO()
        image.save(out, fmt)
        return out.getvalue()


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)
HEIC = (
    b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"
    + b"\0\0\0\x08free"
    + b"\0\0\x01\x00mdat"
    + bytes(range(256)) * 4
)
"""The start of an HEIC file (ISO-BMFF `ftyp` box, brand `heic`)."""
