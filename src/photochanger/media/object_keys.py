"""Media keys: where each kind of file lives in the store."""

from __future__ import annotations

from datetime import datetime

from photochanger.media.image_type import EXTENSIONS


def result_key(job_id: str, started_at: datetime, mime: str) -> str:
    return f"results/{started_at:%Y/%m/%d}/{job_id}.{EXTENSIONS[mime]}"


def preview_key(job_id: str, started_at: datetime) -> str:
    return f"previews/{started_at:%Y/%m/%d}/{job_id}.webp"


def provider_media_key(token: str, started_at: datetime, mime: str) -> str:
    return f"provider-media/{started_at:%Y/%m/%d}/{token}.{EXTENSIONS[mime]}"
