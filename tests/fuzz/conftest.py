"""One fuzzed server per database and test worker, shared by every case."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import PG_URL
from fuzz.run_profile import PROFILE
from fuzz.target import FuzzTarget, fuzz_settings, start_fuzz_target
from photochanger.db import create_engine


@pytest.fixture(scope="session", params=PROFILE.databases)
def fuzz_database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[str]:
    if request.param == "sqlite":
        target = tmp_path_factory.mktemp("fuzz-db") / "photochanger.db"
        shutil.copyfile(sqlite_template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    if PG_URL is None:
        pytest.fail("PHOTOCHANGER_FUZZ_DATABASES names postgresql: run under with-postgres.sh")
    template: str = request.getfixturevalue("postgres_template")
    name = f"fuzz_{uuid.uuid4().hex[:12]}"
    asyncio.run(_administer(PG_URL, f"CREATE DATABASE {name} TEMPLATE {template}"))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    asyncio.run(_administer(PG_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def _administer(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def fuzz_target(
    fuzz_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    admin_password_hash: str,
) -> Iterator[FuzzTarget]:
    config = fuzz_settings(tmp_path_factory.mktemp("fuzz-data"), fuzz_database_url)
    target = start_fuzz_target(config, admin_password_hash)
    yield target
    target.server.stop()
