"""Worker processes for CPU work the event loop must not do: the `local`
provider's image operations and gallery previews.

They start from a forkserver that has already imported the image libraries, so
a worker starts in a fraction of a second and shares those pages with its
siblings; the server process itself never imports them (bench/README.md: that
alone was 140 MB of its resident memory).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import ForkServerContext

PRELOAD = ["photochanger.media.preview_render", "photochanger.providers.local.worker"]


def forkserver_context() -> ForkServerContext:
    """The one forkserver of this process (its preload list is global, so it is
    set in one place for every pool)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context
