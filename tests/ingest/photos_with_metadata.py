"""Guest photos that carry what must not leak (SPEC §10 "guests' privacy"): a GPS
position, a camera serial, an owner's name, in EXIF (JPEG, PNG's eXIf, WebP),
PNG text chunks and a JPEG comment, with a chosen EXIF orientation. The photo
has a green mark in its stored top-left corner, so a test can tell which way
up the pixels are."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, PngImagePlugin

SERIAL = "CAM-SERIAL-0042"
OWNER = "Ivan Petrovich Sidorov"
MARK = (0, 220, 0)
GPS_IFD = 0x8825
ORIENTATION = 0x0112
LEAKS = (SERIAL.encode(), OWNER.encode(), b"GPS")


def guest_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x013B] = OWNER  # Artist
    exif[0xA431] = SERIAL  # BodySerialNumber
    exif[GPS_IFD] = {1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)}
    return exif


def guest_photo(fmt: str, size: tuple[int, int] = (400, 300), orientation: int = 1) -> bytes:
    """A photo stored `size` (w, h) before its orientation is applied."""
    width, height = size
    rng = np.random.default_rng(width + height)
    pixels = rng.integers(90, 160, (height, width, 3), dtype=np.uint8)
    pixels[: height // 5, : width // 5] = MARK
    image = Image.fromarray(pixels)
    out = io.BytesIO()
    options: dict[str, object] = {"exif": guest_exif(orientation)}
    if fmt == "JPEG":
        options.update(quality=92, comment=f"owner {OWNER}".encode())
    elif fmt == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Author", OWNER)
        text.add_itxt("Comment", f"serial {SERIAL}")
        options["pnginfo"] = text
    image.save(out, fmt, **options)
    data = out.getvalue()
    if fmt == "JPEG":  # XMP (APP1) and Photoshop IPTC (APP13), as cameras and editors write
        xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><dc:creator>" + OWNER.encode()
        iptc = b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x10\x1c\x02\x50\0\x0c" + OWNER[:12].encode()
        segments = b"".join(
            marker + (len(body) + 2).to_bytes(2, "big") + body
            for marker, body in (
                (b"\xff\xe1", xmp + b"</dc:creator></x:xmpmeta>"),
                (b"\xff\xed", iptc),
            )
        )
        data = data[:2] + segments + data[2:]
    return data


def leaks(data: bytes) -> list[str]:
    """What of the guest's metadata `data` still carries."""
    found = [text.decode() for text in LEAKS if text in data]
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        if GPS_IFD in exif or exif.get_ifd(GPS_IFD):
            found.append("GPS IFD")
        if len(exif):
            found.append(f"EXIF tags {sorted(exif)}")
        found += [f"text {key}" for key in getattr(image, "text", {})]
    return found


def mark_corner(data: bytes) -> str:
    """Which corner of the decoded image holds the green mark."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = np.asarray(image.convert("RGB")).astype(int)
    height, width = rgb.shape[:2]
    corners = {
        "top-left": rgb[2, 2],
        "top-right": rgb[2, width - 3],
        "bottom-left": rgb[height - 3, 2],
        "bottom-right": rgb[height - 3, width - 3],
    }
    green = [name for name, pixel in corners.items() if pixel[1] > 180 and pixel[0] < 80]
    assert len(green) == 1, corners
    return green[0]
