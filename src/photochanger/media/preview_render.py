"""Rendering a gallery preview. Runs in a separate low-priority process, so it
imports only Pillow: the server's answer never waits on this CPU work."""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image, ImageOps

from photochanger.workers import end_with_server

PREVIEW_EDGE = 512


def start_worker(server_pid: int) -> None:
    """Process-pool initializer: end with the server, and run only when the CPU
    has nothing better to do."""
    end_with_server(server_pid)
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)


def render_preview(source: bytes | str | Path) -> bytes:
    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
        # draft() lets the JPEG decoder scale by 1/2…1/8 itself: a 24 MP photo
        # becomes a preview without ever being decoded at full size.
        image.draft("RGB", (PREVIEW_EDGE, PREVIEW_EDGE))
        oriented = ImageOps.exif_transpose(image).convert("RGB")
        oriented.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        oriented.save(out, "WEBP", quality=80, method=2)
        return out.getvalue()
