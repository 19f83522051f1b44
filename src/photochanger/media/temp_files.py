"""Temp files a killed process left behind: uploads in the spool directory and
half-written files in the local store's `.tmp/`. No key names them, so they
are never served; they only take disk. A starting server removes them, unless
another live process works in the same directory (two replicas sharing a data
directory, a server restarted beside its successor): each server holds a shared
`flock` on these directories for its lifetime, and sweeps one only when it can
take it exclusively — no live process is writing there. The lock is the
kernel's, so a `kill -9` releases it."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import structlog

from photochanger.config import Settings
from photochanger.media.store import LocalMediaStore, MediaStore

log = structlog.get_logger("photochanger.media")


def temp_directories(config: Settings, store: MediaStore) -> list[Path]:
    directories = [config.resolved_spool_dir]
    if isinstance(store, LocalMediaStore):
        directories.append(store.temp_directory)
    return directories


@contextlib.contextmanager
def claimed_temp_directories(config: Settings, store: MediaStore) -> Iterator[int]:
    """For the server's lifetime: its claim on its temp directories, each swept
    first when no other live process holds it. Yields how many files went."""
    held: list[int] = []
    removed = 0
    try:
        for directory in temp_directories(config, store):
            directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            held.append(descriptor)
            removed += _sweep_if_alone(directory, descriptor)
        if removed:
            log.warning("temp_files_left_over", removed=removed)
        yield removed
    finally:
        for descriptor in held:
            os.close(descriptor)  # releases the lock


def _sweep_if_alone(directory: Path, descriptor: int) -> int:
    removed = 0
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.info("temp_directory_shared", directory=str(directory))
    else:
        for entry in os.scandir(directory):
            if entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
    fcntl.flock(descriptor, fcntl.LOCK_SH)
    return removed
