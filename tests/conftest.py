"""Fixtures: a real database per test (SQLite always, PostgreSQL when
PHOTOCHANGER_TEST_PG_URL is set, which `make test` does), the real app, and a
real uvicorn server for the streaming cases."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import structlog
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fakes.gemini import GeminiFake
from fakes.openai import OpenAIFake
from photochanger.app import create_app
from photochanger.auth.passwords import hash_password
from photochanger.auth.repository import AccountRepository
from photochanger.config import Settings
from photochanger.db import Database, create_engine
from photochanger.logs import configure_logging
from photochanger.migrate import upgrade_to_head
from support import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    INGEST_PASSWORD,
    SessionFactory,
    free_port,
    session_factory_of,
)

pytest_plugins = ["fakes.turbotext_bench", "moto_s3"]

PG_URL = os.environ.get("PHOTOCHANGER_TEST_PG_URL")
# One template per pytest-xdist worker: two workers must not drop each other's.
TEMPLATE_DB = "photochanger_template_" + os.environ.get("PYTEST_XDIST_WORKER", "main")

BACKENDS = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL is None and os.environ.get("CI"):
        raise pytest.UsageError("CI must run against PostgreSQL: use `make test`")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (a migration per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade_to_head(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture(scope="session")
def postgres_template() -> str:
    """A migrated PostgreSQL database used as `TEMPLATE` for each test's database."""
    assert PG_URL is not None

    async def prepare() -> None:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}"))
            await connection.execute(text(f"CREATE DATABASE {TEMPLATE_DB}"))
        await admin.dispose()
        engine = create_engine(_with_database(PG_URL, TEMPLATE_DB))
        await upgrade_to_head(engine)
        await engine.dispose()

    asyncio.run(prepare())
    return TEMPLATE_DB


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        target = tmp_path / "photochanger.db"
        shutil.copyfile(sqlite_template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    if PG_URL is None:
        pytest.skip("PostgreSQL runs under `make test` (PHOTOCHANGER_TEST_PG_URL)")
    template = request.getfixturevalue("postgres_template")
    name = f"test_{uuid.uuid4().hex[:12]}"

    async def admin(statement: str) -> None:
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=None)
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(admin(f"CREATE DATABASE {name} TEMPLATE {template}"))
    yield _with_database(PG_URL, name)
    asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        ingest_password=INGEST_PASSWORD,
        enable_test_providers=True,
        instance_id="test-instance",
        public_base_url="http://booth.test",
    )


@pytest.fixture
async def app(config: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(config)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://booth.test") as client:
        yield client


@pytest.fixture
async def second_replica(config: Settings, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Another app instance on the same database, with its own engine and pool
    (as a second process would have), and an anonymous client of it."""
    replica = create_app(config.model_copy(update={"instance_id": "replica-2"}))
    async with replica.router.lifespan_context(replica):
        transport = httpx.ASGITransport(app=replica)
        async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as client:
            yield client


@pytest.fixture
def captured_log() -> Iterator[io.StringIO]:
    """The app's JSON logging at DEBUG, written to a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG")
    buffer = io.StringIO()
    (handler,) = root.handlers
    handler.setStream(buffer)  # type: ignore[attr-defined]  # a StreamHandler
    yield buffer
    root.handlers[:], root.level = saved
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def admin_password_hash() -> str:
    """argon2 is slow on purpose: hash the test admin's password once."""
    return hash_password(ADMIN_PASSWORD)


@pytest.fixture
async def admin_token(app: FastAPI, admin_password_hash: str) -> str:
    """A token of a real login of the test admin account (by its own client, so
    the `client` fixture stays without the session cookie)."""
    database: Database = app.state.services.database
    await database.write(
        lambda connection: AccountRepository(connection).create(ADMIN_USERNAME, admin_password_hash)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://booth.test") as login:
        response = await login.post(
            "/api/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
async def admin_client(app: FastAPI, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the admin API, authenticated with a Bearer token."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://booth.test", headers=headers
    ) as admin:
        yield admin


@pytest.fixture
def database(app: FastAPI) -> Database:
    services = app.state.services
    return services.database  # type: ignore[no-any-return]


@pytest.fixture
def factory(database: Database) -> SessionFactory:
    """ORM sessions on the app's own engine and pool."""
    return session_factory_of(database.engine)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> SessionFactory:
    return session_factory_of(engine)


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def memory_kb(self, field: str = "VmHWM") -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise AssertionError(f"{field} not in /proc status")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_live_server(config: Settings, extra_env: dict[str, str] | None = None) -> LiveServer:
    """`photochanger serve` in a child process on loopback, against the test database."""
    port = free_port()
    env = {
        **os.environ,
        "PHOTOCHANGER_ENVIRONMENT": "test",
        "PHOTOCHANGER_DATA_DIR": str(config.data_dir),
        "PHOTOCHANGER_DATABASE_URL": config.resolved_database_url,
        "PHOTOCHANGER_INGEST_PASSWORD": INGEST_PASSWORD,
        "PHOTOCHANGER_ENABLE_TEST_PROVIDERS": "true",
        "PHOTOCHANGER_INSTANCE_ID": config.instance_id,
        "PHOTOCHANGER_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        **(extra_env or {}),
    }
    config.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = config.data_dir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "photochanger", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
    # Generous: on a loaded machine importing the image stack alone took 30 s.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {server.log_text()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError(f"server did not start: {server.log_text()}")


@pytest.fixture
def live_server(config: Settings, app: FastAPI) -> Iterator[LiveServer]:
    """Depends on `app` so the database is migrated and the password stored."""
    server = start_live_server(config)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gemini_server() -> Iterator[GeminiFake]:
    server = GeminiFake().start()
    yield server
    server.stop()


@pytest.fixture
def gemini_fake(gemini_server: GeminiFake) -> GeminiFake:
    """The fake Gemini API on loopback, with nothing queued or received."""
    gemini_server.reset()
    return gemini_server


@pytest.fixture(scope="session")
def openai_server() -> Iterator[OpenAIFake]:
    server = OpenAIFake().start()
    yield server
    server.stop()


@pytest.fixture
def openai_fake(openai_server: OpenAIFake) -> OpenAIFake:
    """The fake OpenAI Images API on loopback, with nothing queued or received."""
    openai_server.reset()
    return openai_server
