"""What the soak (bench/soak.py) checks once its load has stopped: the database
(no job left `pending`, every other one finished, every done job's result
stored), the media directory against the `media_object` table (orphans both
ways, temp files left), the spool directory (empty), and the server's log (no
secret in it). Plain functions over paths, rows and text, so
tests/bench/test_soak_checks.py proves on a prepared case that each one catches
what it is for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from photochanger.db import create_engine
from photochanger.media.store import LocalMediaStore
from photochanger.models import Job, MediaObject
from photochanger.models.job import JobStatus

TEMP_DIR = ".tmp"
"""The local media store's own temp directory (`LocalMediaStore`)."""


@dataclass(frozen=True)
class MediaRow:
    key: str
    kind: str
    cleaned: bool


@dataclass
class DatabaseState:
    jobs_by_status: dict[str, int] = field(default_factory=dict)
    unfinished: list[str] = field(default_factory=list)
    """Jobs past `pending` without `finished_at`: a status that moved without its times."""
    results_without_row: list[str] = field(default_factory=list)
    """Done jobs whose `result_key` no live `media_object` row names."""
    media: list[MediaRow] = field(default_factory=list)

    @property
    def pending(self) -> int:
        return self.jobs_by_status.get(JobStatus.pending, 0)


async def read_database(url: str) -> DatabaseState:
    """Everything the checks need from the database, in one short read."""
    engine = create_engine(url)
    state = DatabaseState()
    try:
        async with engine.connect() as connection:
            counts = await connection.execute(select(Job.status, func.count()).group_by(Job.status))
            state.jobs_by_status = dict(counts.all())
            unfinished = await connection.execute(
                select(Job.id).where(Job.status != JobStatus.pending, Job.finished_at.is_(None))
            )
            state.unfinished = list(unfinished.scalars())
            rows = await connection.execute(
                select(MediaObject.key, MediaObject.kind, MediaObject.cleaned_at)
            )
            state.media = [MediaRow(key, kind, cleaned is not None) for key, kind, cleaned in rows]
            live = {row.key for row in state.media if not row.cleaned}
            done = await connection.execute(
                select(Job.id, Job.result_key).where(Job.status == JobStatus.done)
            )
            state.results_without_row = [
                job_id for job_id, key in done.all() if key is None or key not in live
            ]
    finally:
        await engine.dispose()
    return state


@dataclass
class MediaReport:
    files_without_row: list[str] = field(default_factory=list)
    """Files no live row names (a cleaned row's file counts: cleanup said it was gone)."""
    rows_without_file: list[str] = field(default_factory=list)
    """Live rows whose file is missing."""
    temp_files: list[str] = field(default_factory=list)
    """Files left in the store's temp directory (a write that never finished)."""

    @property
    def orphans(self) -> int:
        return len(self.files_without_row) + len(self.rows_without_file) + len(self.temp_files)


def media_report(media_root: Path, rows: Iterable[MediaRow]) -> MediaReport:
    """The media directory against the `media_object` rows."""
    store = LocalMediaStore(media_root)
    live = {row.key for row in rows if not row.cleaned}
    report = MediaReport()
    on_disk: set[str] = set()
    if media_root.is_dir():
        for path in sorted(media_root.rglob("*")):
            if not path.is_file() and not path.is_symlink():
                continue
            key = path.relative_to(media_root).as_posix()
            if key.split("/", 1)[0] == TEMP_DIR:
                report.temp_files.append(key)
                continue
            on_disk.add(key)
            if key not in live:
                report.files_without_row.append(key)
    report.rows_without_file = sorted(
        key for key in live if key not in on_disk and not store.path_of(key).is_file()
    )
    return report


def spool_leftovers(spool_dir: Path) -> list[str]:
    """Everything left in the spool directory; after the load it must be empty."""
    if not spool_dir.is_dir():
        return []
    return sorted(path.relative_to(spool_dir).as_posix() for path in spool_dir.rglob("*"))


def leaked_secrets(log_text: str, secrets: Mapping[str, str]) -> list[str]:
    """The names of the secrets whose value appears anywhere in the log."""
    return [name for name, value in secrets.items() if value and value in log_text]
