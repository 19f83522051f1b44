"""The `local` provider's work, run inside its worker processes (see
`photochanger.workers`): the only place that loads the segmentation model. The
server process reaches these functions by name through `calls.py` and never
imports this module."""

from __future__ import annotations

import os
from pathlib import Path

from photochanger.providers.base import OperationSettings
from photochanger.providers.local.background_replace import background_replace
from photochanger.providers.local.enhance import enhance
from photochanger.providers.local.errors import UndecodableImage
from photochanger.providers.local.segmentation import PersonSegmenter
from photochanger.providers.local.settings import (
    BackgroundReplaceSettings,
    EnhanceSettings,
    StylizeSettings,
)
from photochanger.providers.local.stylize import stylize
from photochanger.providers.local.worker_memory import keep_freed_memory

_segmenter: PersonSegmenter | None = None


def start() -> None:
    """Load the segmentation model once per worker, with its warm-up call, so
    the first guest does not pay for it; and keep freed memory for the next
    photo (`worker_memory`)."""
    global _segmenter
    keep_freed_memory()
    segmenter = PersonSegmenter(pool_size=1)
    segmenter.start()
    _segmenter = segmenter


def ready() -> int:
    return os.getpid()


def run(
    settings: OperationSettings, image: bytes | Path, template: bytes | None
) -> tuple[bytes, str]:
    """One operation on one photo (its bytes, or the path of its temp file):
    the encoded result and its mime. Errors come back as `UndecodableImage` or a
    plain `RuntimeError`: unpickling, say, a `cv2.error` would import OpenCV into
    the server process."""
    try:
        return _run(settings, image, template)
    except UndecodableImage:
        raise
    except Exception as exc:
        raise RuntimeError(f"{type(exc).__name__} in the local worker") from None


def _run(
    settings: OperationSettings, image: bytes | Path, template: bytes | None
) -> tuple[bytes, str]:
    data = image if isinstance(image, bytes) else image.read_bytes()
    if isinstance(settings, BackgroundReplaceSettings):
        assert _segmenter is not None, "worker.start() did not run"
        return background_replace(data, settings, _segmenter, template)
    if isinstance(settings, StylizeSettings):
        return stylize(data, settings)
    if isinstance(settings, EnhanceSettings):
        return enhance(data, settings)
    raise TypeError(f"no local operation takes {type(settings).__name__}")
