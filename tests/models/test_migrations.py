"""Schema only through migrations, on SQLite and PostgreSQL (SPEC §9)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from photochanger.migrate import alembic_config, current_revision, head_revision
from photochanger.models import Base, ConfigVersion, Setting, Slot
from support import SessionFactory, pending_job


def run(connection: Connection, target: str, up: bool) -> None:
    (command.upgrade if up else command.downgrade)(alembic_config(connection), target)


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []
    assert await current_revision(engine) == head_revision()


async def test_fifteen_active_local_slots_are_seeded(session_factory: SessionFactory) -> None:
    async with session_factory() as session:
        slots = (await session.scalars(select(Slot).order_by(Slot.id))).all()
    assert [slot.id for slot in slots] == [f"slot-{n:03d}" for n in range(1, 16)]
    assert all(slot.active and slot.provider == "local" for slot in slots)
    assert all(slot.size_limit_mb == 20 for slot in slots)
    showcase = {slot.id: (slot.operation, slot.settings) for slot in slots[:3]}
    assert showcase == {
        "slot-001": ("background_replace", {"background": "studio"}),
        "slot-002": ("background_replace", {"background": "blur"}),
        "slot-003": ("stylize", {"style": "cartoon"}),
    }


async def test_downgrade_and_upgrade_again(
    engine: AsyncEngine, session_factory: SessionFactory
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(run, "base", False)
    assert await current_revision(engine) is None
    async with engine.begin() as connection:
        await connection.run_sync(run, "head", True)
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Slot)) == 15


async def test_showcase_migration_keeps_an_admins_configuration(
    engine: AsyncEngine, session_factory: SessionFactory
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(run, "0001", False)
    # Core statements naming 0001's columns: the ORM model has later ones.
    async with session_factory() as session, session.begin():
        operation = await session.scalar(select(Slot.operation).where(Slot.id == "slot-001"))
        assert operation == "stylize"
        await session.execute(
            update(Slot)
            .where(Slot.id == "slot-001")
            .values(settings={"style": "pencil"}, version=2, updated_by="admin")
        )
    async with engine.begin() as connection:
        await connection.run_sync(run, "head", True)
    async with session_factory() as session:
        mine = await session.get(Slot, "slot-001")
        untouched = await session.get(Slot, "slot-002")
    assert mine is not None
    assert untouched is not None
    assert (mine.operation, mine.settings) == ("stylize", {"style": "pencil"})
    assert untouched.operation == "background_replace"
    assert (mine.keep_metadata, mine.daily_budget) == (False, None)


async def test_config_version_moves_with_every_slot_and_setting_change(
    session_factory: SessionFactory,
) -> None:
    """The triggers of migration 0005: whoever writes a slot or a setting, the
    version an ingest's admission compares moves; a job does not move it."""

    async def version() -> int:
        async with session_factory() as session:
            value = await session.scalar(select(ConfigVersion.value))
        assert value is not None
        return value

    changes = [
        update(Slot).where(Slot.id == "slot-003").values(active=False),
        insert(Setting).values(key="sync_response_seconds", value=30),
        update(Setting).where(Setting.key == "sync_response_seconds").values(value=40),
        delete(Setting).where(Setting.key == "sync_response_seconds"),
    ]
    for change in changes:
        before = await version()
        async with session_factory() as session, session.begin():
            await session.execute(change)
        assert await version() > before, str(change)

    before = await version()
    async with session_factory() as session, session.begin():
        session.add(pending_job("job-config-version"))
    assert await version() == before
