"""Image type from the file's first bytes (the part's Content-Type is only a
hint), and the header check every uploaded image passes."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from photochanger.errors import PayloadTooLarge, UnsupportedMediaType

SNIFF_BYTES = 16

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

MAX_IMAGE_MEGAPIXELS = 100
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
    whose header Pillow can read; 413 past `MAX_IMAGE_MEGAPIXELS`."""
    if mime is None:
        raise UnsupportedMediaType("the file is not a JPEG, PNG or WebP image")
    source = io.BytesIO(contents) if isinstance(contents, bytes) else contents
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
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
