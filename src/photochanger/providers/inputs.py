"""Fitting input images into a provider's request-size limit.

Providers that take images inline (Gemini: base64 inside a JSON body of at most
20 MB) refuse a request that is too large. Rather than fail a guest's photo, the
largest images are scaled down until everything fits. Pure functions of bytes;
CPU-bound, so callers run them on a worker thread."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageOps

from photochanger.providers.base import ProviderPermanentError

_SHRINK_ROUNDS = 8
_JPEG_QUALITY = 90


@dataclass(frozen=True)
class InlineImage:
    """An image as it will be sent: its mime and encoded bytes."""

    mime: str
    data: bytes

    @property
    def base64_size(self) -> int:
        return 4 * math.ceil(len(self.data) / 3)


def fit_inline_images(
    images: list[InlineImage], *, budget: int, provider: str
) -> list[InlineImage]:
    """`images` unchanged when their base64 fits in `budget` bytes; otherwise the
    largest ones re-encoded smaller (EXIF orientation applied, so the provider sees
    the photo upright) until the total fits. Order and count are kept."""
    fitted = list(images)
    for _ in range(_SHRINK_ROUNDS):
        total = sum(image.base64_size for image in fitted)
        if total <= budget:
            return fitted
        index = max(range(len(fitted)), key=lambda i: fitted[i].base64_size)
        largest = fitted[index]
        # The largest image takes what the others leave, with a margin: encoded
        # size falls roughly with the pixel count.
        allowance = max(budget - (total - largest.base64_size), budget // (4 * len(fitted)))
        scale = math.sqrt(allowance / largest.base64_size) * 0.9
        fitted[index] = _downscale(largest, min(scale, 0.9), provider=provider)
    raise ProviderPermanentError(
        f"the input images do not fit in {provider}'s request limit even scaled down",
        reason="input_too_large",
    )


def _downscale(image: InlineImage, scale: float, *, provider: str) -> InlineImage:
    try:
        with Image.open(io.BytesIO(image.data)) as opened:
            upright = ImageOps.exif_transpose(opened)
            width, height = upright.size
            size = (max(1, int(width * scale)), max(1, int(height * scale)))
            resized = upright.resize(size, Image.Resampling.LANCZOS)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ProviderPermanentError(
            f"an input image could not be scaled down for {provider} ({type(exc).__name__})",
            reason="input_undecodable",
        ) from None
    out = io.BytesIO()
    if resized.mode in ("RGBA", "LA", "P") and image.mime != "image/jpeg":
        # Keep transparency (a template cut-out): PNG, lossless.
        resized.save(out, "PNG", optimize=True)
        return InlineImage("image/png", out.getvalue())
    resized.convert("RGB").save(out, "JPEG", quality=_JPEG_QUALITY)
    return InlineImage("image/jpeg", out.getvalue())
