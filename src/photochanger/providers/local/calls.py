"""What the server process sends to the `local` workers: functions pickled by
name that import `worker` only once they run inside a worker."""

from __future__ import annotations

from pathlib import Path

from photochanger.providers.base import OperationSettings


def start_worker() -> None:
    from photochanger.providers.local import worker

    worker.start()


def ready() -> int:
    from photochanger.providers.local import worker

    return worker.ready()


def run(
    settings: OperationSettings, image: bytes | Path, template: bytes | None
) -> tuple[bytes, str]:
    from photochanger.providers.local import worker

    return worker.run(settings, image, template)
