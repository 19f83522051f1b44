"""SQLite through its online backup API: a consistent copy of a database the
server keeps writing to (WAL: readers and the backup never block the writer)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from photochanger.backup.manifest import BackupError
from photochanger.backup.snapshot import Snapshot, describe

_SIDE_FILES = ("-wal", "-shm", "-journal")


def dump_sqlite(database: Path, target: Path) -> Snapshot:
    """Copy `database` into `target` (a new file) and describe the copy."""
    if not database.is_file():
        raise BackupError(
            f"there is no database at {database}: check PHOTOCHANGER_DATA_DIR / "
            "PHOTOCHANGER_DATABASE_URL",
            exit_code=2,
        )
    try:
        check = _copy(database, target)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"cannot copy the database {database}: {error}") from None
    if check != "ok":
        raise BackupError(f"the copy of {database} fails SQLite's quick_check: {check}")
    return describe_sqlite(target)


def _copy(database: Path, target: Path) -> str:
    source = sqlite3.connect(database, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            # One step (pages=-1): the whole copy is read in one read transaction,
            # so it is one moment of the database, whatever is written meanwhile.
            source.backup(copy)
            # A self-contained file: no -wal beside it to lose.
            copy.execute("PRAGMA journal_mode=DELETE")
            (check,) = copy.execute("PRAGMA quick_check").fetchone()
            return str(check)
        finally:
            copy.close()
    finally:
        source.close()


def describe_sqlite(path: Path) -> Snapshot:
    engine = create_engine(f"sqlite+pysqlite:///{path}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return describe(connection)
    finally:
        engine.dispose()


def sqlite_in_use(database: Path) -> bool:
    return database.is_file() and database.stat().st_size > 0


def restore_sqlite(copy: Path, database: Path) -> None:
    """Put the backup's file in place of `database`, with no stale -wal beside it
    (SQLite would replay an old log over the restored pages)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    temp = database.with_name(database.name + ".restoring")
    shutil.copyfile(copy, temp)
    for suffix in _SIDE_FILES:
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.replace(temp, database)
