"""What a database copy holds, read from the copy itself (or, on PostgreSQL, in
the transaction whose snapshot pg_dump copies): its schema revision, the rows of
every table, and the media objects it references."""

from __future__ import annotations

from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, inspect, select, table

from photochanger.backup.manifest import BackupError, StoredObject
from photochanger.migrate import alembic_config, head_revision
from photochanger.models import MediaObject


@dataclass(frozen=True)
class Snapshot:
    schema_revision: str | None
    counts: dict[str, int]
    live_objects: list[StoredObject]
    """`media_object` rows not cleaned up: the files the database expects to find."""


def describe(connection: Connection) -> Snapshot:
    names = sorted(inspect(connection).get_table_names())
    counts = {
        name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
        for name in names
    }
    revision = MigrationContext.configure(connection).get_current_revision()
    live: list[StoredObject] = []
    if MediaObject.__tablename__ in names:
        media = MediaObject.__table__
        rows = connection.execute(
            select(media.c.key, media.c.size)
            .where(media.c.cleaned_at.is_(None))
            .order_by(media.c.key)
        )
        live = [StoredObject(key=key, size=size) for key, size in rows]
    return Snapshot(revision, counts, live)


def require_migrated(snapshot: Snapshot, where: str) -> None:
    if snapshot.schema_revision is None:
        raise BackupError(
            f"{where} is not migrated (no schema revision): nothing to back up; "
            "check PHOTOCHANGER_DATA_DIR / PHOTOCHANGER_DATABASE_URL",
            exit_code=2,
        )


def require_known_revision(revision: str | None) -> None:
    """A backup restores only into a PhotoChanger that knows its schema: an older
    one would serve a schema it does not understand."""
    if revision is None:
        raise BackupError("the backup's manifest names no schema revision")
    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if revision not in known:
        raise BackupError(
            f"the backup is at schema revision {revision}, which this PhotoChanger does "
            f"not know (its newest is {head_revision()}): restore it with the version "
            "that made it, or a newer one"
        )
