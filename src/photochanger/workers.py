"""Worker processes for CPU work the event loop must not do: the `local`
provider's image operations and gallery previews.

They start from a forkserver that has already imported the image libraries, so
a worker starts in a fraction of a second and shares those pages with its
siblings; the server process itself never imports them (bench/README.md: that
alone was 140 MB of its resident memory).
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from multiprocessing.context import ForkServerContext

PRELOAD = ["photochanger.media.preview_render", "photochanger.providers.local.worker"]


def forkserver_context() -> ForkServerContext:
    """The one forkserver of this process (its preload list is global, so it is
    set in one place for every pool)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def end_with_server(server_pid: int) -> None:
    """Part of every worker's initializer: end this worker as soon as the server
    process is gone. A pool's workers otherwise outlive a server killed by a
    signal (uvicorn re-raises SIGTERM after its shutdown, so no exit handler
    runs): they wait on a queue whose other end they hold themselves, and keep
    the forkserver alive with them, with the image libraries' memory."""
    threading.Thread(target=_wait_for_exit, args=(server_pid,), daemon=True).start()


def _wait_for_exit(server_pid: int) -> None:
    try:
        handle = os.pidfd_open(server_pid)
    except ProcessLookupError:
        os._exit(0)
    except OSError:  # no pidfd (an old kernel): look once a second
        while True:
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            time.sleep(1.0)
    select.select([handle], [], [])  # readable once the process has ended
    os._exit(0)
