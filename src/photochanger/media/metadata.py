"""Guests' privacy (SPEC §10): a photo's EXIF, XMP, IPTC and comments — GPS
position, camera serial, owner name, capture time — removed, and its EXIF
orientation applied to the pixels so the photo still shows upright.

Removal works on the file's container, not its pixels: JPEG segments, PNG
chunks and WebP chunks are copied or left out, so an upright photo loses no
quality and costs a few milliseconds, not a decode and re-encode. Only a photo
whose orientation is not "normal" is decoded, turned and encoded again (Pillow
can drop metadata only by re-encoding every photo, which costs a tenth of a
second and some quality at 12 MP). What stays is what the pixels need: JPEG's
JFIF, Adobe and ICC colour-profile segments; PNG's colour, transparency,
density and animation chunks; WebP's image, alpha, ICC and animation chunks.
Data after a JPEG's end (the extra images of a multi-picture file, a polyglot's
payload) and after a PNG's IEND is dropped too. Run these on a worker thread."""

from __future__ import annotations

import io
import mmap
import os
import re
import struct
import warnings
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, JpegImagePlugin

from photochanger.media.image_type import sniff_image_mime

EXIF_ORIENTATION = 0x0112
REENCODE_JPEG_QUALITY = 95

_JPEG_KEEP_APP = {
    0xE0: (b"JFIF\0", b"JFXX\0"),
    0xE2: (b"ICC_PROFILE\0",),
    0xEE: (b"Adobe",),
}
"""APPn segments kept, by their identifier: the colour space and profile.
Every other APPn (EXIF and XMP in APP1, MPF in APP2, IPTC in APP13, makers'
own) and every comment (COM) is left out."""
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_JPEG_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
"""The end of a scan's entropy-coded data: 0xFF not stuffed (00), not a restart
(D0–D7) and not fill (FF)."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP",
    b"cICP", b"mDCV", b"cLLI", b"sBIT", b"bKGD", b"pHYs", b"hIST", b"sPLT",
    b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip
"""Chunks that shape the pixels; eXIf, tEXt, zTXt, iTXt, tIME and private
chunks are left out."""

_WEBP_DROP = {b"EXIF", b"XMP "}
_VP8X_METADATA_FLAGS = 0x08 | 0x04
"""VP8X's "has EXIF" and "has XMP" bits, cleared with the chunks."""


class UnreadablePhoto(ValueError):
    """The bytes are not a well-formed JPEG, PNG or WebP container."""


def orientation_of(data: bytes) -> int:
    """The photo's EXIF orientation (1 to 8); 1 when it has none or cannot be read."""
    return _read_orientation(io.BytesIO(data)) or 1


def _read_orientation(source: BinaryIO) -> int | None:
    """The EXIF orientation read from the image's header; None when the header
    cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                value = image.getexif().get(EXIF_ORIENTATION, 1)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def without_metadata(data: bytes) -> bytes:
    """The photo in its own format, without metadata and upright. The bytes
    come back unchanged (the same object) when there was nothing to remove.

    A file whose container does not parse cleanly but that decodes (padding
    between JPEG segments, a missing end marker, an odd chunk) is encoded
    again instead: cleaning must never be stricter than a decoder."""
    mime = sniff_image_mime(data[:16])
    if mime is None:
        raise UnreadablePhoto("not a JPEG, PNG or WebP image")
    if orientation_of(data) != 1 and not _is_animated(data):
        # Turned on its pixels, then its container checked like any other.
        # (An animated file keeps its frames: only its metadata goes.)
        data = reencoded(data, mime, turn=True)
    try:
        return _CONTAINER_CLEANERS[mime](data)
    except UnreadablePhoto:
        return _CONTAINER_CLEANERS[mime](reencoded(data, mime, turn=False))


def redrawn_image(data: bytes, mime: str) -> bytes:
    """The image decoded and encoded again from its pixels as `mime`, upright
    and without metadata: nothing of the file but its picture survives — no
    trailing payload, no text chunk, no segment a decoder skips. An animated
    file keeps its frames (Pillow would keep only the first) and is cleaned on
    its container instead. `reencoded` writes nothing but the pixels and the
    colour profile, so its output needs no container cleaning after it."""
    if _is_animated(data):
        return without_metadata(data)
    return reencoded(data, mime, turn=True)


def reencoded(data: bytes, mime: str, *, turn: bool) -> bytes:
    """The photo decoded and encoded again as `mime` (JPEG at quality 95 with
    the source's chroma subsampling, PNG lossless, WebP lossless when the
    source was), turned upright when `turn`, keeping only its colour profile."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                icc = image.info.get("icc_profile")
                lossless = mime == "image/webp" and _webp_is_lossless(data)
                # Pillow calls a JPEG with an MPF preview (many cameras) "MPO".
                subsampling = _jpeg_subsampling(image) if mime == "image/jpeg" else None
                turned = ImageOps.exif_transpose(image) if turn else image.copy()
                turned.info.clear()  # or Pillow writes the JPEG comment again
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadablePhoto(f"the image cannot be decoded ({type(exc).__name__})") from None
    out = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if mime == "image/jpeg":
        if turned.mode not in ("RGB", "L", "CMYK"):
            turned = turned.convert("RGB")
        options = {"subsampling": subsampling} if subsampling is not None else {}
        turned.save(out, "JPEG", quality=REENCODE_JPEG_QUALITY, **options, **extra)
    elif mime == "image/png":
        turned.save(out, "PNG", **extra)
    else:
        quality = {"lossless": True} if lossless else {"quality": REENCODE_JPEG_QUALITY}
        turned.save(out, "WEBP", **quality, **extra)
    return out.getvalue()


def _is_animated(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return bool(getattr(image, "is_animated", False)) and image.format != "MPO"
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def _jpeg_subsampling(image: Image.Image) -> int | None:
    try:
        value = JpegImagePlugin.get_sampling(image)
    except (AttributeError, KeyError, TypeError):
        return None
    return value if value in (0, 1, 2) else None


def _jpeg_without_metadata(data: bytes) -> bytes:
    drops, image_end = _jpeg_plan(data)
    if not drops and image_end == len(data):
        return data
    view = memoryview(data)
    kept: list[memoryview] = []
    position = 0
    for start, stop in drops:
        kept.append(view[position:start])
        position = stop
    kept.append(view[position:image_end])
    return b"".join(kept)


def _jpeg_plan(data: bytes | mmap.mmap) -> tuple[list[tuple[int, int]], int]:
    """The segments to leave out, as (start, end) offsets, and where the image
    ends (after its end-of-image marker)."""
    drops: list[tuple[int, int]] = []
    position, size = 2, len(data)
    while True:
        if position + 2 > size or data[position] != 0xFF:
            raise UnreadablePhoto("a JPEG segment does not start with a marker")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xD9:
            return drops, position + 2
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        if position + 4 > size:
            raise UnreadablePhoto("a JPEG segment is cut short")
        (length,) = struct.unpack_from(">H", data, position + 2)
        end = position + 2 + length
        if length < 2 or end > size:
            raise UnreadablePhoto("a JPEG segment is cut short")
        if marker == 0xDA:  # a scan: its header, then entropy-coded data
            found = _JPEG_MARKER_IN_SCAN.search(data, end)
            if found is None:
                raise UnreadablePhoto("a JPEG scan has no end")
            position = found.start()
            continue
        if not _jpeg_keeps(marker, bytes(data[position + 4 : min(end, position + 20)])):
            drops.append((position, end))
        position = end


def blank_metadata_in_place(path: Path) -> bool:
    """Remove an upright JPEG's metadata inside its own file: each segment left
    out becomes a comment of as many zero bytes, and what follows the image is
    cut off. No copy and no new file — a spooled photo of 5 MB costs its scan,
    not 5 MB of fresh pages (bench/README.md: those cost 2–3.6 ms per MB here).
    False when the file needs `without_metadata` instead: not a JPEG, an
    orientation to apply, or a container that does not parse."""
    with open(path, "r+b") as handle:
        if handle.read(3) != b"\xff\xd8\xff":
            return False
        handle.seek(0)
        if _read_orientation(handle) != 1:  # to turn, or unreadable
            return False
        size = os.fstat(handle.fileno()).st_size
        with mmap.mmap(handle.fileno(), size) as mapped:
            try:
                drops, image_end = _jpeg_plan(mapped)
            except UnreadablePhoto:
                return False
            for start, stop in drops:
                mapped[start : start + 2] = b"\xff\xfe"  # COM, same length
                mapped[start + 4 : stop] = bytes(stop - start - 4)
        if image_end < size:
            handle.truncate(image_end)
    return True


def _jpeg_keeps(marker: int, payload: bytes) -> bool:
    if marker == 0xFE:  # COM
        return False
    if 0xE0 <= marker <= 0xEF:
        return any(payload[: len(ident)] == ident for ident in _JPEG_KEEP_APP.get(marker, ()))
    return True


def _png_without_metadata(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise UnreadablePhoto("not a PNG")
    view = memoryview(data)
    kept: list[bytes | memoryview] = [_PNG_SIGNATURE]
    position, size, dropped = len(_PNG_SIGNATURE), len(data), False
    while True:
        if position + 12 > size:
            raise UnreadablePhoto("a PNG chunk is cut short")
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > size:
            raise UnreadablePhoto("a PNG chunk is cut short")
        if kind in _PNG_KEEP:
            kept.append(view[position:end])
        else:
            dropped = True
        position = end
        if kind == b"IEND":
            dropped = dropped or position < size
            break
    return b"".join(kept) if dropped else data


def _webp_without_metadata(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise UnreadablePhoto("not a WebP")
    chunks: list[bytes] = []
    position, size, dropped = 12, min(len(data), 8 + struct.unpack_from("<I", data, 4)[0]), False
    while position < size:
        if position + 8 > size:
            raise UnreadablePhoto("a WebP chunk is cut short")
        kind = data[position : position + 4]
        (length,) = struct.unpack_from("<I", data, position + 4)
        end = position + 8 + length + (length & 1)
        if position + 8 + length > size:
            raise UnreadablePhoto("a WebP chunk is cut short")
        chunk = data[position:end]
        position = end
        if kind in _WEBP_DROP:
            dropped = True
            continue
        if kind == b"VP8X" and len(chunk) >= 18 and chunk[8] & _VP8X_METADATA_FLAGS:
            chunk = chunk[:8] + bytes([chunk[8] & ~_VP8X_METADATA_FLAGS & 0xFF]) + chunk[9:]
            dropped = True
        chunks.append(chunk)
    if not dropped and size == len(data):
        return data
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _webp_is_lossless(data: bytes) -> bool:
    return b"VP8L" in data[12:4096] and b"VP8 " not in data[12:4096]


_CONTAINER_CLEANERS = {
    "image/jpeg": _jpeg_without_metadata,
    "image/png": _png_without_metadata,
    "image/webp": _webp_without_metadata,
}
