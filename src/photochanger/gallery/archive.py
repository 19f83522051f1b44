"""The shared gallery as one ZIP (SPEC §10), streamed as it is written: the
photos are read from the store a chunk at a time and never held whole, so a
gallery of 150 large results costs a few hundred KiB of memory, not its size."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from photochanger.media.store import MediaStore


@dataclass(frozen=True)
class ArchiveFile:
    name: str
    key: str


class _Sink:
    """The unseekable file `zipfile` writes to (it then uses data descriptors)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


async def zip_stream(store: MediaStore, files: list[ArchiveFile]) -> AsyncIterator[bytes]:
    """The ZIP's bytes, file by file. A file gone since the listing (expired,
    cleaned) is left out rather than failing the download half-way."""
    sink = _Sink()
    # Stored, not deflated: JPEG, PNG and WebP do not compress further.
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:
        for file in files:
            chunks = store.stream(file.key)
            try:
                try:
                    first = await anext(chunks)
                except (FileNotFoundError, StopAsyncIteration):
                    continue
                with archive.open(file.name, "w") as entry:
                    entry.write(first)
                    async for chunk in chunks:
                        yield sink.take()
                        entry.write(chunk)
            finally:
                if isinstance(chunks, AsyncGenerator):
                    await chunks.aclose()  # its file closes now, also on a disconnect
            yield sink.take()
    yield sink.take()
