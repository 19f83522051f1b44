"""How many bytes of photos this process holds in memory at once.

A small photo is cheapest kept in memory from upload to answer: no temp file to
create, write, link and unlink, and an answer sent in one piece. But 500 booths
uploading at once must not each hold their photo in memory (bench/README.md: 500
held ingests stay under 300 MB). Uploads therefore take their bytes from one
budget, held until the request ends; a photo that does not fit goes through a
temp file, as a large one always does.
"""

from __future__ import annotations


class ByteBudget:
    """A count of bytes in use against a limit. Used from the event loop's
    thread only (the multipart parser's callbacks and the endpoints run there),
    so it needs no lock."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0
        self.peak = 0

    def take(self, size: int) -> bool:
        """Reserve `size` bytes; False (and nothing reserved) when they do not fit."""
        if self.in_use + size > self.limit:
            return False
        self.in_use += size
        self.peak = max(self.peak, self.in_use)
        return True

    def release(self, size: int) -> None:
        self.in_use = max(0, self.in_use - size)
