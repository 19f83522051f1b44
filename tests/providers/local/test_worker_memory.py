"""A `local` worker keeps the memory it frees (glibc's allocator, tuned at start)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the tuning is glibc's")
def test_the_allocator_is_tuned_on_glibc() -> None:
    # In a child process: the tuning is for a worker, not for the test runner.
    code = (
        "from photochanger.providers.local.worker_memory import keep_freed_memory\n"
        "print(keep_freed_memory())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "True"
