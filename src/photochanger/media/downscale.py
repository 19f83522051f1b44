"""Downscale before the provider (SPEC §10): the photo and templates as a remote
provider gets them — upright, without metadata, and at most the slot's
`max_input_megapixels`. Smaller requests are faster and cheaper (providers
bill input images by size) and stay under their request limits.

A photo within the limit is only cleaned (`metadata.without_metadata`: no
re-encode unless it must be turned). A larger one is decoded with JPEG's DCT
scaling to no less than twice the target (`Image.draft`, as Pillow's own
`thumbnail` does), resampled with Lanczos, turned upright, and encoded as JPEG
at quality 92 — or PNG when it has transparency (a template cut-out). Pure
functions of bytes; CPU-bound, so callers run them on a worker thread."""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

from PIL import Image

from photochanger.media.image_type import sniff_image_mime
from photochanger.media.metadata import (
    EXIF_ORIENTATION,
    UnreadablePhoto,
    orientation_of,
    without_metadata,
)

SENT_JPEG_QUALITY = 92
_TURNED_SIDEWAYS = (5, 6, 7, 8)
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""EXIF orientation → the turn that shows the pixels upright (as `exif_transpose`)."""


@dataclass(frozen=True)
class SentImage:
    """An image as a remote provider gets it."""

    data: bytes
    mime: str
    width: int
    height: int


def for_remote(data: bytes, max_megapixels: float) -> SentImage:
    """`data` upright, without metadata, at most `max_megapixels`."""
    mime = sniff_image_mime(data[:16])
    if mime is None:
        raise UnreadablePhoto("not a JPEG, PNG or WebP image")
    max_pixels = max(1, int(max_megapixels * 1_000_000))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                small = None if width * height <= max_pixels else _shrunk(image, max_pixels)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadablePhoto(f"the image cannot be decoded ({type(exc).__name__})") from None
    if small is None:
        sideways = orientation_of(data) in _TURNED_SIDEWAYS
        cleaned = without_metadata(data)
        return SentImage(cleaned, mime, *((height, width) if sideways else (width, height)))
    return small


def _as_8bit(image: Image.Image) -> Image.Image:
    """16- and 32-bit greyscale scaled to 8 bits (Pillow's own conversion clips
    at 255, which turns a 16-bit photo white)."""
    if image.mode not in ("I;16", "I;16B", "I;16L", "I"):
        return image
    top = 65535 if image.mode.startswith("I;16") else max(1, image.getextrema()[1])
    return image.convert("I").point(lambda value: value * 255 / top).convert("L")


def _shrunk(image: Image.Image, max_pixels: int) -> SentImage:
    width, height = image.size
    scale = math.sqrt(max_pixels / (width * height))
    target = (max(1, math.floor(width * scale)), max(1, math.floor(height * scale)))
    icc = image.info.get("icc_profile")
    orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    if image.format in ("JPEG", "MPO"):
        image.draft("RGB", (target[0] * 2, target[1] * 2))
    image.load()
    transparent = image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if transparent else "RGB"
    if image.mode not in ("RGB", "RGBA"):
        icc = None  # a CMYK or grey profile does not describe the RGB made here
    rgb = image if image.mode == mode else _as_8bit(image).convert(mode)
    resized = rgb.resize(target, Image.Resampling.LANCZOS)
    turn = _UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    upright = resized.transpose(turn) if turn is not None else resized
    upright.info.clear()  # Pillow writes a source's JPEG comment again unless told not to;
    # with it empty, only the colour profile passed below is written.
    out = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if transparent:
        upright.save(out, "PNG", **extra)
        mime = "image/png"
    else:
        upright.save(out, "JPEG", quality=SENT_JPEG_QUALITY, **extra)
        mime = "image/jpeg"
    return SentImage(out.getvalue(), mime, upright.width, upright.height)
