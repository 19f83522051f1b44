"""`CleanupService` (SPEC §5.3): expired results, previews and provider media
go, with `cleaned_at` set; live results and template media stay; missing files
are fine; several cleanups at once neither fail nor count a file twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Connection, select

from photochanger.auth.repository import LoginFailureRepository
from photochanger.cleanup.service import CleanupService
from photochanger.config import Settings
from photochanger.db import Database, create_engine
from photochanger.errors import SlotNotFound
from photochanger.media.store import LocalMediaStore
from photochanger.models import LoginFailure, MediaObject
from photochanger.models.base import utcnow
from support import MediaRow, SessionFactory, stored_media


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
    summary = await CleanupService(database, store, batch_size=1).run()
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
