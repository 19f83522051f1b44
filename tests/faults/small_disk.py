"""A small tmpfs mounted for a test: a disk that fills up. The tests run as root
(`mount` needs it); a machine where the mount is refused fails the test with
the reason, it never skips it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(directory: Path, size_kb: int) -> Iterator[Path]:
    """`directory`, a fresh tmpfs of `size_kb` KiB while the block runs."""
    directory.mkdir(parents=True, exist_ok=True)
    mount = shutil.which("mount") or "/bin/mount"
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"could not mount a {size_kb} KiB tmpfs on {directory} to fill a disk "
            f"(the fault tests need root and mount): {done.stderr.strip() or done.returncode}"
        )
    try:
        yield directory
    finally:
        umount = shutil.which("umount") or "/bin/umount"
        subprocess.run([umount, "-l", str(directory)], check=False)
