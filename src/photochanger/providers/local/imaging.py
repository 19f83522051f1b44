"""Decoding booth photos into RGB arrays and encoding results back, for the `local`
provider's CPU operations. Pure functions: no knowledge of jobs, slots or the web app."""

from __future__ import annotations

import io
import math
import warnings

import numpy
import numpy.typing as npt
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

RGBImage = npt.NDArray[numpy.uint8]
"""An (H, W, 3) uint8 array in RGB order, sRGB."""

MIME_BY_FORMAT: dict[str, str] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}

_WHITE = (255, 255, 255)
_SRGB_PROFILE = ImageCms.createProfile("sRGB")
_SRGB_PRIMARIES: list[float] = [
    value
    for colour in ("red", "green", "blue")
    for value in getattr(ImageCms.ImageCmsProfile(_SRGB_PROFILE).profile, f"{colour}_colorant")[0]
]


class UndecodableImage(ValueError):
    """The bytes are not a JPEG, PNG or WebP image Pillow can decode completely.
    The message is short and safe to record (it never echoes the bytes)."""


def decode(data: bytes, *, max_pixels: int | None = None) -> tuple[RGBImage, str]:
    """Decode a JPEG/PNG/WebP photo into an upright sRGB array and its format name.

    EXIF orientation is applied, so the array is the photo as a person sees it;
    transparency is composited on white; an embedded colour profile other than
    sRGB (phones write Display P3) is converted to sRGB, because results are
    encoded without a profile.

    `max_pixels` is only a speed aid: for a JPEG larger than that, the decoder is
    asked to scale down in the DCT (by 1/2, 1/4 or 1/8), which is several times
    cheaper than decoding everything and resizing. The result is the smallest such
    scale that still has at least `max_pixels` pixels, so it may well be larger
    than `max_pixels`; other formats come back at full size. Callers that need an
    exact size resize the array themselves.

    The array is read-only (it shares Pillow's buffer; a copy of 12 MP costs
    tens of milliseconds): operations build new arrays rather than edit it.

    Truncated files raise `UndecodableImage` (Pillow's `LOAD_TRUNCATED_IMAGES`
    must stay False, its default): a grey-filled half photo is not a result.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns from ~89 MP and refuses from twice that (raised below);
            # a big phone photo between the two is a photo, not an attack.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(MIME_BY_FORMAT)) as image:
                fmt = image.format or ""
                if max_pixels is not None and fmt == "JPEG":
                    _draft_to(image, max_pixels)
                image.load()
                icc_profile = image.info.get("icc_profile")
                ImageOps.exif_transpose(image, in_place=True)
                rgb = _to_rgb(image)
    except Image.DecompressionBombError:
        raise UndecodableImage("the image has too many pixels") from None
    except UnidentifiedImageError:
        raise UndecodableImage("not a JPEG, PNG or WebP image") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise UndecodableImage("the image data is corrupt or truncated") from None
    if icc_profile:
        rgb = _to_srgb(rgb, icc_profile)
    return numpy.asarray(rgb), fmt


def encode(rgb: RGBImage, fmt: str, *, jpeg_quality: int = 92) -> tuple[bytes, str]:
    """Encode an RGB array as `fmt` ("JPEG", "PNG" or "WEBP"); returns the bytes and
    their mime. Encoder settings favour speed: the booth is waiting, and a few
    percent of file size matter less than a few hundred milliseconds."""
    if fmt not in MIME_BY_FORMAT:
        raise ValueError(f"cannot encode as {fmt!r}")
    image = Image.fromarray(numpy.ascontiguousarray(rgb))
    if image.mode != "RGB":
        raise ValueError("expected an (H, W, 3) uint8 RGB array")
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=jpeg_quality, optimize=False)
    elif fmt == "PNG":
        image.save(buffer, "PNG", compress_level=1)
    else:
        # method 0 is WebP's fastest encoder; at 12 MP method 4 (the default)
        # takes about three times as long for a slightly smaller file.
        image.save(buffer, "WEBP", quality=jpeg_quality, method=0)
    return buffer.getvalue(), MIME_BY_FORMAT[fmt]


def _draft_to(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width * height <= max_pixels:
        return
    scale = math.sqrt(max_pixels / (width * height))
    image.draft("RGB", (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: Pillow's own conversion clips at 255 instead of scaling.
        wide = numpy.asarray(image, dtype=numpy.uint32) >> 8
        image = Image.fromarray(numpy.minimum(wide, 255).astype(numpy.uint8))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if _is_srgb(source):
            return image
        # Costly (about 0.2 s at 12 MP), so only for photos that need it.
        converted = ImageCms.profileToProfile(image, source, _SRGB_PROFILE, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # an unreadable or non-RGB profile: keep the pixels as they are
    return converted if converted is not None else image


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    """sRGB by name, or by primaries (cameras embed sRGB under many names)."""
    if "srgb" in ImageCms.getProfileDescription(profile).lower():
        return True
    primaries: list[float] = []
    for colour in ("red", "green", "blue"):
        colorant = getattr(profile.profile, f"{colour}_colorant", None)
        if colorant is None:  # a table-based profile: convert to be safe
            return False
        primaries.extend(colorant[0])  # its XYZ
    return all(
        math.isclose(value, reference, abs_tol=0.003)
        for value, reference in zip(primaries, _SRGB_PRIMARIES, strict=True)
    )
