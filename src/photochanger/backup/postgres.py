"""PostgreSQL through pg_dump and pg_restore (the client tools of the server's
major version or newer, on PATH). pg_dump copies a snapshot that a transaction
of ours exports and keeps open, so the counts and media keys in the manifest are
read from exactly the rows the dump holds."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import URL, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from photochanger.backup.manifest import BackupError
from photochanger.backup.snapshot import Snapshot, describe

DOC = "docs/operations.md#backups"


def client_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH: a PostgreSQL backup is made and restored with "
            "PostgreSQL's client tools (Debian: postgresql-client, of the server's major "
            f"version or newer); see {DOC}",
            exit_code=2,
        )
    return found


def libpq_environment(url: str) -> dict[str, str]:
    """The connection of a SQLAlchemy URL as libpq variables: the password stays
    out of the command line (and so out of `ps`)."""
    parsed = make_url(url)
    query = {
        key: value if isinstance(value, str) else value[0] for key, value in parsed.query.items()
    }
    values = {
        "PGHOST": query.get("host") or parsed.host,
        "PGPORT": str(parsed.port) if parsed.port else query.get("port"),
        "PGUSER": parsed.username or query.get("user"),
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
        "PGSSLMODE": _ssl_mode(query.get("sslmode") or query.get("ssl")),
    }
    return {name: value for name, value in values.items() if value}


def _ssl_mode(value: str | None) -> str | None:
    if value is None:
        return None
    # asyncpg spells it `ssl=true`; libpq's modes pass through.
    return {"true": "require", "1": "require", "false": "disable", "0": "disable"}.get(
        value.lower(), value
    )


def _run(command: list[str], url: str) -> None:
    # The child keeps our environment (PATH, locale, PGSSLROOTCERT…); only the
    # connection is ours to set.
    environment = {**os.environ, **libpq_environment(url)}
    done = subprocess.run(  # noqa: S603 - a client tool found on PATH, no shell
        command, env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()}")


def _async_url(url: str) -> URL:
    return make_url(url).set(drivername="postgresql+asyncpg")


def dump_postgres(url: str, target: Path) -> Snapshot:
    pg_dump = client_tool("pg_dump")

    async def run() -> Snapshot:
        engine = create_async_engine(_async_url(url), poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="REPEATABLE READ")
                async with connection.begin():
                    exported = await connection.execute(text("SELECT pg_export_snapshot()"))
                    snapshot_id = exported.scalar_one()
                    described = await connection.run_sync(describe)
                    # The exporting transaction must stay open while pg_dump reads.
                    await asyncio.to_thread(
                        _run,
                        [
                            pg_dump,
                            "--format=custom",
                            f"--snapshot={snapshot_id}",
                            f"--file={target}",
                        ],
                        url,
                    )
                    return described
        finally:
            await engine.dispose()

    return asyncio.run(run())


def postgres_in_use(url: str) -> bool:
    """True when the database already has tables."""

    async def run() -> bool:
        engine = create_async_engine(_async_url(url), poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                found = await connection.execute(
                    text(
                        "SELECT count(*) FROM information_schema.tables "
                        "WHERE table_schema = current_schema()"
                    )
                )
                return bool(found.scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def restore_postgres(dump: Path, url: str, *, clean: bool) -> Snapshot:
    """pg_restore into the database of `url` (which must exist), in one
    transaction: a failure leaves the database as it was."""
    pg_restore = client_tool("pg_restore")
    database = make_url(url).database
    if not database:
        raise BackupError(f"the database URL names no database: {make_url(url)!r}")
    command = [
        pg_restore,
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={database}",
    ]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, str(dump)], url)
    return describe_postgres(url)


def describe_postgres(url: str) -> Snapshot:
    async def run() -> Snapshot:
        engine = create_async_engine(_async_url(url), poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(describe)
        finally:
            await engine.dispose()

    return asyncio.run(run())
