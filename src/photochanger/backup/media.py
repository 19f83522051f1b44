"""The local media store's files, copied after the database: every file the
copied database references was written before it (a result is stored before
its job is marked done), so it is there to copy unless cleanup removed it
meanwhile, which the manifest records."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from photochanger.backup.manifest import (
    MEDIA_DIRECTORY,
    BackupError,
    BackupFile,
    copy_with_checksum,
    sha256_of,
)
from photochanger.media.store import InvalidKey, LocalMediaStore

TEMP_DIRECTORY = ".tmp"
"""The store's half-written files (`media/store.py`): never copied."""


def stored_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Each file of the store by its key, in key order, without `.tmp`."""
    if not root.is_dir():
        return
    for directory, subdirectories, files in os.walk(root):
        here = Path(directory)
        if here == root:
            subdirectories[:] = [name for name in subdirectories if name != TEMP_DIRECTORY]
        subdirectories.sort()
        for name in sorted(files):
            path = here / name
            yield path.relative_to(root).as_posix(), path


def copy_media(root: Path, backup: Path) -> list[BackupFile]:
    copied = []
    for key, source in stored_files(root):
        relative = f"{MEDIA_DIRECTORY}/{key}"
        target = backup / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            size, digest = copy_with_checksum(source, target)
        except FileNotFoundError:
            continue  # removed by cleanup since the walk saw it
        copied.append(BackupFile(path=relative, size=size, sha256=digest))
    return copied


def media_key(entry: BackupFile) -> str:
    key = entry.path.removeprefix(f"{MEDIA_DIRECTORY}/")
    if key == entry.path:
        raise BackupError(f"the manifest lists {entry.path!r} as media outside {MEDIA_DIRECTORY}/")
    return key


def backup_path(backup: Path, relative: str) -> Path:
    """A file of the backup, refusing a manifest path that leads outside it."""
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise BackupError(f"the manifest names an unsafe path: {relative!r}")
    return backup.joinpath(*parts)


def verify_files(backup: Path, entries: Iterable[BackupFile]) -> None:
    """Every file is there with its size and SHA-256, before anything is restored."""
    problems = []
    for entry in entries:
        path = backup_path(backup, entry.path)
        if not path.is_file():
            problems.append(f"{entry.path}: missing")
        elif path.stat().st_size != entry.size:
            problems.append(f"{entry.path}: {path.stat().st_size} bytes, expected {entry.size}")
        elif sha256_of(path) != entry.sha256:
            problems.append(f"{entry.path}: checksum differs")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise BackupError(f"the backup in {backup} is damaged, nothing restored:\n  {shown}{more}")


def media_in_use(root: Path) -> bool:
    return next(stored_files(root), None) is not None


def clear_media(root: Path) -> None:
    if root.is_dir():
        shutil.rmtree(root)
    root.mkdir(parents=True)


def replace_media(staging: Path, root: Path) -> None:
    """Put the restored tree `staging` where `root` is, the old one removed
    only after the swap."""
    replaced = root.with_name(root.name + ".replaced")
    if replaced.exists():
        shutil.rmtree(replaced)
    if root.exists():
        root.rename(replaced)
    staging.rename(root)
    if replaced.exists():
        shutil.rmtree(replaced)


def restore_media(backup: Path, entries: Iterable[BackupFile], root: Path) -> None:
    store = LocalMediaStore(root)
    for entry in entries:
        try:
            target = store.path_of(media_key(entry))
        except InvalidKey as error:
            raise BackupError(f"the manifest names an unsafe media key: {error}") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(backup_path(backup, entry.path), target)
