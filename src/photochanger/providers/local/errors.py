"""Errors the `local` provider's workers raise. A module of its own, free of the
image libraries, so the server process can receive them from a worker."""

from __future__ import annotations


class UndecodableImage(ValueError):
    """The bytes are not a JPEG, PNG or WebP image Pillow can decode completely.
    The message is short and safe to record (it never echoes the bytes)."""
