"""`CleanupService` (SPEC §5.3): expired results, previews and provider media
go, with `cleaned_at` set; live results and template media stay; missing files
are fine; several cleanups at once neither fail nor count a file twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, select

from photochanger.auth.repository import LoginFailureRepository
from photochanger.cleanup.service import BATCH_SIZE, MAX_FAILED_PER_RUN, CleanupService
from photochanger.config import Settings
from photochanger.db import Database, create_engine
from photochanger.errors import SlotNotFound
from photochanger.media.store import DeleteOutcome, LocalMediaStore
from photochanger.metrics.service import Metrics
from photochanger.models import LoginFailure, MediaObject
from photochanger.models.base import utcnow
from support import MediaRow, SessionFactory, stored_media

QUERY_PARAMETER_LIMIT = 32_767
"""asyncpg's most bind parameters in one query (PostgreSQL's wire protocol)."""


@pytest.fixture
def store(config: Settings, database: Database) -> LocalMediaStore:
    return LocalMediaStore(config.resolved_media_root)


@pytest.fixture
async def other_process_database(config: Settings) -> AsyncIterator[Database]:
    """A second engine and pool on the same database, as another replica or a
    cron job has."""
    database = Database(create_engine(config.resolved_database_url))
    yield database
    await database.dispose()


async def cleaned_at(factory: SessionFactory, row: MediaRow) -> object:
    async with factory() as session:
        query = select(MediaObject.cleaned_at).where(MediaObject.id == row.id)
        return (await session.execute(query)).scalar_one()


async def test_expired_media_goes_and_live_results_and_templates_stay(
    database: Database, store: LocalMediaStore, factory: SessionFactory
) -> None:
    expired = {
        kind: await stored_media(database, store, kind=kind, size=size)
        for kind, size in (("result", 3000), ("preview", 200), ("provider_media", 5000))
    }
    live = await stored_media(database, store, expires_in=3600)
    forever = await stored_media(database, store, expires_in=None)
    # Template media is never cleaned, whatever its row says.
    template = await stored_media(database, store, kind="template", expires_in=-3600)

    summary = await CleanupService(database, store).run()

    assert {kind: (c.count, c.bytes) for kind, c in summary.removed.items()} == {
        "result": (1, 3000),
        "preview": (1, 200),
        "provider_media": (1, 5000),
    }
    assert (summary.missing_files, summary.failed) == (0, 0)
    for row in expired.values():
        assert not row.path.exists()
        assert await cleaned_at(factory, row) is not None
    for row in (live, forever, template):
        assert row.path.exists()
        assert await cleaned_at(factory, row) is None
    again = await CleanupService(database, store).run()
    assert again.total_count == 0


async def test_a_file_already_gone_is_no_error_and_its_row_is_marked(
    database: Database, store: LocalMediaStore, factory: SessionFactory
) -> None:
    gone = await stored_media(database, store, write_file=False)
    summary = await CleanupService(database, store).run()
    assert (summary.removed["result"].count, summary.removed["result"].bytes) == (1, 0)
    assert summary.missing_files == 1
    assert await cleaned_at(factory, gone) is not None


async def test_a_file_that_cannot_be_deleted_is_left_for_the_next_run(
    database: Database, store: LocalMediaStore, factory: SessionFactory
) -> None:
    stuck = await stored_media(database, store, write_file=False)
    stuck.path.mkdir(parents=True)  # unlink() of a directory fails
    fine = await stored_media(database, store)
    # One batch: the run goes on past a file that failed beside one that did not.
    summary = await CleanupService(database, store, batch_size=2).run()
    assert (summary.failed, summary.removed["result"].count) == (1, 1)
    assert await cleaned_at(factory, stuck) is None
    assert await cleaned_at(factory, fine) is not None
    stuck.path.rmdir()
    assert (await CleanupService(database, store).run()).removed["result"].count == 1


async def test_two_cleanups_at_once_share_the_work_without_counting_twice(
    database: Database,
    other_process_database: Database,
    store: LocalMediaStore,
    factory: SessionFactory,
) -> None:
    rows = [
        await stored_media(database, store, kind=("result", "preview")[i % 2], size=100 + i)
        for i in range(40)
    ]
    # Small batches, so the two runs interleave over many transactions.
    first = CleanupService(database, store, batch_size=6)
    second = CleanupService(other_process_database, store, batch_size=6)
    summaries = await asyncio.gather(first.run(), second.run(), first.run())

    assert sum(summary.total_count for summary in summaries) == len(rows)
    assert sum(summary.total_bytes for summary in summaries) == sum(100 + i for i in range(40))
    assert sum(summary.missing_files + summary.failed for summary in summaries) == 0
    for row in rows:
        assert not row.path.exists()
        assert await cleaned_at(factory, row) is not None


async def test_a_slot_cleanup_touches_only_that_slot(
    database: Database, store: LocalMediaStore, factory: SessionFactory
) -> None:
    mine = [
        await stored_media(database, store, slot_id="slot-002", kind=k)
        for k in ("result", "preview")
    ]
    other = await stored_media(database, store, slot_id="slot-001")
    await database.write(
        lambda c: LoginFailureRepository(c).add(
            "ghost", "198.51.100.1", utcnow() - timedelta(days=2)
        )
    )
    summary = await CleanupService(database, store).run("slot-002")
    assert summary.slot_id == "slot-002"
    assert summary.total_count == 2
    assert summary.login_failures_pruned == 0  # only a full pass prunes them
    assert all(not row.path.exists() for row in mine)
    assert other.path.exists()
    assert await cleaned_at(factory, other) is None
    with pytest.raises(SlotNotFound):
        await CleanupService(database, store).run("slot-999")


async def test_a_full_pass_prunes_login_failures_older_than_a_day(
    database: Database, store: LocalMediaStore, factory: SessionFactory
) -> None:
    now = utcnow()

    def add(connection: Connection) -> None:
        failures = LoginFailureRepository(connection)
        failures.add("anna", "198.51.100.1", now - timedelta(days=2))
        failures.add("anna", "198.51.100.1", now - timedelta(minutes=5))

    await database.write(add)
    summary = await CleanupService(database, store).run()
    assert summary.login_failures_pruned == 1
    async with factory() as session:
        left = (await session.execute(select(LoginFailure.failed_at))).scalars().all()
    assert len(left) == 1


class RefusingStore(LocalMediaStore):
    """The local store, except that `refuses(batch)` picks keys whose delete
    fails, as a bucket that refuses them (403) or is gone answers."""

    def __init__(self, root: Path, refuses: Callable[[Sequence[str]], set[str]]) -> None:
        super().__init__(root)
        self.refuses = refuses
        self.batches: list[int] = []

    async def delete_many(self, keys: Sequence[str]) -> dict[str, DeleteOutcome]:
        self.batches.append(len(keys))
        refused = self.refuses(keys)
        outcomes = await super().delete_many([key for key in keys if key not in refused])
        return {**outcomes, **dict.fromkeys(refused, "failed")}


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def test_a_store_refusing_every_delete_stops_the_run_and_it_is_no_success(
    database: Database, config: Settings, factory: SessionFactory
) -> None:
    store = RefusingStore(config.resolved_media_root, refuses=set)
    rows = [await stored_media(database, store, size=10) for _ in range(5)]
    preview = await stored_media(database, store, kind="preview", expires_in=-30)
    metrics = Metrics()
    cleanup = CleanupService(database, store, batch_size=2, metrics=metrics)

    summary = await cleanup.run()

    # The first batch failed whole: the rest of the backlog is not walked.
    assert store.batches == [2]
    assert (summary.failed, summary.total_count) == (2, 0)
    for row in [*rows, preview]:
        assert row.path.exists()
        assert await cleaned_at(factory, row) is None
    failed = "photochanger_cleanup_failed_objects_total"
    assert sample(metrics, failed, kind="result") == 2
    assert sample(metrics, failed, kind="preview") == 0
    runs = "photochanger_cleanup_runs_total"
    assert sample(metrics, runs, outcome="incomplete") == 1
    assert sample(metrics, runs, outcome="ok") == 0
    assert metrics.cleanup_last_success is None

    # The bucket takes deletes again: the next run does everything, and succeeds.
    store.refuses = lambda keys: set()
    again = await cleanup.run()
    assert again.total_count == 6
    assert again.failed == 0
    assert sample(metrics, runs, outcome="ok") == 1
    assert sample(metrics, failed, kind="result") == 2
    assert metrics.cleanup_last_success is not None


async def test_a_run_with_some_failed_deletes_goes_on_but_is_no_success(
    database: Database, config: Settings, factory: SessionFactory
) -> None:
    store = RefusingStore(config.resolved_media_root, refuses=lambda keys: {keys[0]})
    for _ in range(4):
        await stored_media(database, store)
    metrics = Metrics()

    summary = await CleanupService(database, store, batch_size=2, metrics=metrics).run()

    # Each batch lost one file: the run went on, and passed over those two after.
    assert store.batches == [2, 2]
    assert (summary.failed, summary.total_count) == (2, 2)
    assert sample(metrics, "photochanger_cleanup_failed_objects_total", kind="result") == 2
    assert sample(metrics, "photochanger_cleanup_runs_total", outcome="incomplete") == 1
    assert metrics.cleanup_last_success is None


async def test_a_run_stops_once_max_failed_files_could_not_be_deleted(
    database: Database, config: Settings
) -> None:
    store = RefusingStore(config.resolved_media_root, refuses=lambda keys: {keys[0]})
    for _ in range(10):
        await stored_media(database, store)

    summary = await CleanupService(database, store, batch_size=2, max_failed=3).run()

    assert store.batches == [2, 2, 2]
    assert (summary.failed, summary.total_count) == (3, 3)


async def test_the_rows_passed_over_stay_within_what_one_query_can_bind(
    database: Database, config: Settings
) -> None:
    """Failed rows are passed over by id for the rest of a run, a bind parameter
    each: past 32767 asyncpg (and SQLite) refuse the query, so a run of failing
    deletes over a large backlog must stop before it gets there."""
    assert MAX_FAILED_PER_RUN + BATCH_SIZE <= QUERY_PARAMETER_LIMIT
    backlog = 34_000  # enough batches failing all but one file to pass the limit
    expired = utcnow() - timedelta(hours=1)
    rows = [
        {
            "id": f"m{number:06d}",
            "kind": "result",
            "key": f"results/backlog/{number}.jpg",
            "size": 1,
            "mime": "image/jpeg",
            "expires_at": expired,
            "created_at": expired,
        }
        for number in range(backlog)
    ]
    await database.write(lambda c: c.execute(insert(MediaObject), rows))
    store = RefusingStore(config.resolved_media_root, refuses=lambda keys: set(keys[1:]))

    summary = await CleanupService(database, store).run()

    assert MAX_FAILED_PER_RUN <= summary.failed < MAX_FAILED_PER_RUN + BATCH_SIZE
    assert summary.total_count == len(store.batches)
    assert all(size == BATCH_SIZE for size in store.batches)
