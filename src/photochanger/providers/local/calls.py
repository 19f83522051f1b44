"""What the server process sends to the `local` workers: functions pickled by
name that import `worker` only once they run inside a worker."""

from __future__ import annotations

import sys
from pathlib import Path

from photochanger.logs import configure_logging
from photochanger.providers.base import OperationSettings
from photochanger.workers import end_with_server


def start_worker(server_pid: int, log_level: str) -> None:
    """The pool's initializer: the worker ends with the server, logs as the
    server does (JSON lines on the same stdout), and loads the model."""
    from photochanger.providers.local import worker

    end_with_server(server_pid)
    configure_logging(log_level, stream=sys.stdout)
    worker.start()


def ready() -> int:
    from photochanger.providers.local import worker

    return worker.ready()


def run(
    settings: OperationSettings, image: bytes | Path, template: bytes | None
) -> tuple[bytes, str]:
    from photochanger.providers.local import worker

    return worker.run(settings, image, template)
