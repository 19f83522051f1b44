"""Decoding booth photos into RGB arrays and encoding results back, for the `local`
provider's CPU operations, and the few array helpers those operations share. Pure
functions: no knowledge of jobs, slots or the web app."""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import cv2
import numpy
import numpy.typing as npt
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from photochanger.providers.local.errors import UndecodableImage

if TYPE_CHECKING:
    from cv2.typing import MatLike

RGBImage = npt.NDArray[numpy.uint8]
"""An (H, W, 3) uint8 array in RGB order, sRGB."""
FloatImage = npt.NDArray[numpy.float32]

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


def decode(
    data: bytes, *, max_pixels: int | None = None, bgr: bool = False
) -> tuple[RGBImage, str]:
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

    The array may be read-only (it can share Pillow's buffer; a copy of 12 MP
    costs tens of milliseconds): operations build new arrays rather than edit it.

    A complete baseline or progressive JPEG in sRGB (the booth's usual photo) is
    decoded by OpenCV's libjpeg-turbo straight into an RGB array: half the time of
    Pillow's decoder, which fills a 4-byte-per-pixel image that is then copied.
    With `bgr` the channels come in OpenCV's order, as its decoder writes them:
    a caller that works at full size only with per-channel operations and encodes
    with `encode(..., bgr=True)` saves two channel swaps of the whole photo.

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
                full_size = max_pixels is None or image.width * image.height <= max_pixels
                if fmt == "JPEG" and full_size:
                    fast = _decode_plain_jpeg(data, image, bgr=bgr)
                    if fast is not None:
                        return fast, fmt
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
    array = numpy.asarray(rgb)
    if bgr:
        return cast(RGBImage, cv2.cvtColor(array, cv2.COLOR_RGB2BGR)), fmt
    return array, fmt


def encode(
    rgb: RGBImage, fmt: str, *, jpeg_quality: int = 92, bgr: bool = False
) -> tuple[bytes, str]:
    """Encode an RGB array (BGR with `bgr`) as `fmt` ("JPEG", "PNG" or "WEBP");
    returns the bytes and their mime. Encoder settings favour speed: the booth is
    waiting, and a few percent of file size matter less than a few hundred
    milliseconds."""
    if fmt not in MIME_BY_FORMAT:
        raise ValueError(f"cannot encode as {fmt!r}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != numpy.uint8:
        raise ValueError("expected an (H, W, 3) uint8 RGB array")
    if fmt == "JPEG":
        # OpenCV's encoder takes the array as it is (Pillow first copies it into a
        # 4-byte-per-pixel image): faster, and 24 MP less memory at 24 MP. Same
        # libjpeg-turbo, same 4:2:0 chroma subsampling as Pillow's default.
        ordered = rgb if bgr else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        ok, encoded = cv2.imencode(".jpg", ordered, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        if not ok:
            raise ValueError("the JPEG encoder failed")
        return encoded.tobytes(), MIME_BY_FORMAT[fmt]
    if bgr:
        rgb = cast(RGBImage, cv2.cvtColor(rgb, cv2.COLOR_BGR2RGB))
    image = Image.fromarray(numpy.ascontiguousarray(rgb))
    buffer = io.BytesIO()
    if fmt == "PNG":
        image.save(buffer, "PNG", compress_level=1)
    else:
        # method 0 is WebP's fastest encoder; at 12 MP method 4 (the default)
        # takes about three times as long for a slightly smaller file.
        image.save(buffer, "WEBP", quality=jpeg_quality, method=0)
    return buffer.getvalue(), MIME_BY_FORMAT[fmt]


def shrink(image: RGBImage, factor: int) -> RGBImage:
    if factor == 1:
        return image
    height, width = image.shape[0] // factor, image.shape[1] // factor
    whole = image[: height * factor, : width * factor]
    return cast(RGBImage, cv2.resize(whole, (width, height), interpolation=cv2.INTER_AREA))


def diagonal(image: npt.NDArray[numpy.generic]) -> float:
    return math.hypot(image.shape[0], image.shape[1])


def as_float(image: MatLike) -> FloatImage:
    return cast(FloatImage, image)


# EXIF orientation → how to turn the stored pixels upright (as Pillow's exif_transpose).
_ORIENTATIONS: dict[int, Callable[[RGBImage], RGBImage]] = {
    2: lambda rgb: cast(RGBImage, cv2.flip(rgb, 1)),
    3: lambda rgb: cast(RGBImage, cv2.rotate(rgb, cv2.ROTATE_180)),
    4: lambda rgb: cast(RGBImage, cv2.flip(rgb, 0)),
    5: lambda rgb: cast(RGBImage, cv2.transpose(rgb)),
    6: lambda rgb: cast(RGBImage, cv2.rotate(rgb, cv2.ROTATE_90_CLOCKWISE)),
    7: lambda rgb: cast(RGBImage, cv2.flip(cv2.transpose(rgb), -1)),
    8: lambda rgb: cast(RGBImage, cv2.rotate(rgb, cv2.ROTATE_90_COUNTERCLOCKWISE)),
}


def _decode_plain_jpeg(data: bytes, image: Image.Image, *, bgr: bool) -> RGBImage | None:
    """The fast path of `decode`, or None when the photo needs Pillow: not a
    colour JPEG, a colour profile other than sRGB, or no end-of-image marker
    (a truncated file must raise, and OpenCV would fill the missing part grey)."""
    if image.mode != "RGB" or not data.rstrip(b"\0").endswith(b"\xff\xd9"):
        return None
    icc_profile = image.info.get("icc_profile")
    if icc_profile and not _is_srgb_bytes(icc_profile):
        return None
    orientation = image.getexif().get(0x0112, 1)
    flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    decoded = cast(RGBImage, cv2.imdecode(numpy.frombuffer(data, dtype=numpy.uint8), flags))
    if decoded is None or decoded.shape[:2] != (image.height, image.width):
        return None
    if not bgr:
        # Not in place: OpenCV's in-place swap is several times slower (32 ms
        # against 9 ms at 12 MP), worth a transient copy of the photo.
        decoded = cast(RGBImage, cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))
    turn = _ORIENTATIONS.get(orientation)
    return turn(decoded) if turn is not None else decoded


def _is_srgb_bytes(icc_profile: bytes) -> bool:
    try:
        return _is_srgb(ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return True  # unreadable: Pillow's path would keep the pixels as they are too


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
