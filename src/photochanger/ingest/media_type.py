"""Image type from the file's first bytes; the part's Content-Type is only a hint."""

from __future__ import annotations

SNIFF_BYTES = 16

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def sniff_image_mime(head: bytes) -> str | None:
    """`image/jpeg`, `image/png`, `image/webp`, or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None
