"""SPEC §3.2, §3.4: the database lost mid-request — after the job row is
written, while the provider runs — is a 503 `provider_unavailable` inside the
window, and the job is closed as soon as the database is back, not left
`pending` until a restart; a result stored before the loss is deleted again.
So is a database locked before the request (no job is left), one failing on a
read mid-job, or one lost while Turbotext's inputs are published.

SQLite: another connection holds the write lock (`BEGIN EXCLUSIVE`) across the
request. PostgreSQL: the app reaches it through a loopback TCP proxy that is cut
(every connection reset, new ones refused) and then restored."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from fakes import gemini
from fakes.gemini import GeminiFake
from faults.faulty import (
    MARGIN_SECONDS,
    PHOTO,
    WINDOW_SECONDS,
    files_under,
    finished_job,
    pending_job,
    post,
    timed_post,
)
from faults.tcp_proxy import TcpProxy
from photochanger.config import Settings
from photochanger.db import ADMISSION_LOCK_KEY, Database
from photochanger.deadline import Deadline
from photochanger.errors import ServiceUnavailable
from photochanger.ingest.closing import JobCloser
from photochanger.media.provider_media import ProviderMediaPublisher
from photochanger.models import Job
from photochanger.models.job import JobStatus
from support import SessionFactory, assert_error, configure_slot, echo, put_setting
from support import pending_job as pending_job_row


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy | None]:
    """Between the app and PostgreSQL; None on SQLite."""
    if database_url.startswith("sqlite"):
        yield None
        return
    url = make_url(database_url)
    assert url.host is not None
    assert url.port is not None
    proxy = TcpProxy((url.host, url.port)).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def config(config: Settings, proxy: TcpProxy | None, gemini_server: GeminiFake) -> Settings:
    config = config.model_copy(update={"provider_base_urls": {"gemini": gemini_server.base_url}})
    if proxy is None:
        return config
    url = make_url(config.database_url).set(host="127.0.0.1", port=proxy.port)
    return config.model_copy(update={"database_url": url.render_as_string(hide_password=False)})


@contextmanager
def write_locked(database_url: str) -> Iterator[None]:
    """The SQLite file's write lock, held by another connection."""
    path = make_url(database_url).database
    assert path is not None
    connection = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def database_down(database_url: str, proxy: TcpProxy | None) -> AbstractContextManager[None]:
    return write_locked(database_url) if proxy is None else proxy.cut_off()


async def test_database_lost_mid_request_is_503_and_the_job_closed_once_it_is_back(
    client: httpx.AsyncClient,
    session_factory: SessionFactory,
    database_url: str,
    proxy: TcpProxy | None,
    config: Settings,
) -> None:
    await put_setting(session_factory, "sync_response_seconds", WINDOW_SECONDS)
    await configure_slot(session_factory, "slot-001", **echo(delay_seconds=1.0))
    answer = asyncio.ensure_future(timed_post(client))
    job_id = await pending_job(session_factory)
    with database_down(database_url, proxy):
        response, seconds = await answer
    body = assert_error(response, 503, "provider_unavailable")
    assert "database" in str(body["details"])
    assert seconds < WINDOW_SECONDS + MARGIN_SECONDS

    job = await finished_job(session_factory, job_id)
    assert (job.status, job.failure_reason) == ("failed", "provider_unavailable")
    assert job.finished_at is not None
    assert job.result_key is None
    # The result was stored before its row could be written: it is gone again.
    assert files_under(config.resolved_media_root) == []
    assert files_under(Path(config.resolved_spool_dir)) == []


@asynccontextmanager
async def write_lock_held(database_url: str, engine: AsyncEngine) -> AsyncIterator[None]:
    """What a write waits for, held by another connection: SQLite's write lock,
    PostgreSQL's cluster-wide admission lock."""
    if database_url.startswith("sqlite"):
        with write_locked(database_url):
            yield
        return
    async with engine.connect() as connection, connection.begin():
        await connection.execute(select(func.pg_advisory_xact_lock(ADMISSION_LOCK_KEY)))
        yield


async def test_a_write_waits_for_a_held_lock_only_as_long_as_it_is_allowed(
    database: Database, database_url: str, engine: AsyncEngine
) -> None:
    """The bound the ingest's writes get from their deadline (SQLite's busy
    timeout, else 30 s; PostgreSQL's `lock_timeout`, else none)."""

    def touch(connection: Connection) -> int:
        return 1

    async with write_lock_held(database_url, engine):
        with pytest.raises(DBAPIError):
            await database.write(touch, serialized=True, lock_timeout=0.2)
    assert await database.write(touch, serialized=True, lock_timeout=0.2) == 1
    assert await database.write(touch) == 1  # and without a bound, as before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_database_locked_before_the_request_is_503_by_the_deadline(
    client: httpx.AsyncClient, session_factory: SessionFactory, database_url: str
) -> None:
    """The job row cannot be written: nothing is left behind (no job)."""
    await put_setting(session_factory, "sync_response_seconds", WINDOW_SECONDS)
    await configure_slot(session_factory, "slot-001", **echo())
    with write_locked(database_url):
        response, seconds = await timed_post(client)
    assert_error(response, 503, "provider_unavailable")
    assert seconds < WINDOW_SECONDS + MARGIN_SECONDS
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 0


async def test_an_input_published_for_a_provider_is_never_kept_without_its_row(
    app: FastAPI, database: Database, database_url: str, proxy: TcpProxy | None
) -> None:
    """Turbotext's inputs are published mid-call (SPEC §4.5): a database lost
    then is the service's 503, not the provider's failure, and leaves no file."""
    store = app.state.services.store
    media_root = app.state.services.config.resolved_media_root
    publisher = ProviderMediaPublisher(
        database=database,
        store=store,
        public_base_url="http://booth.test",
        job_id=None,
        slot_id=None,
        deadline=Deadline.start(2.0),
    )
    with database_down(database_url, proxy), pytest.raises(ServiceUnavailable):
        await asyncio.wait_for(publisher(PHOTO, "image/jpeg"), WINDOW_SECONDS + MARGIN_SECONDS)
    assert files_under(media_root) == []
    if proxy is None:
        return  # SQLite's lock would hold the discard's row update for 30 s
    await publisher(PHOTO, "image/jpeg")
    assert len(files_under(media_root)) == 1
    with proxy.cut_off():
        assert await publisher.discard() == 0  # the answer is not spoilt for it
    assert files_under(media_root) == []


async def test_a_database_failing_on_a_read_mid_job_is_503_and_the_job_closed(
    client: httpx.AsyncClient,
    database: Database,
    session_factory: SessionFactory,
    gemini_fake: GeminiFake,
) -> None:
    """A read between admission and the provider (the slot's template images)
    fails: the job is closed `failed/provider_unavailable`, the answer a 503."""
    await put_setting(session_factory, "gemini_api_key", gemini.API_KEY)
    await configure_slot(
        session_factory, "slot-001", provider="gemini", operation="edit", settings={"prompt": "x"}
    )

    def lose_the_connection(
        _connection: Connection, _cursor: object, statement: str, *_args: object
    ) -> None:
        if "FROM template_media" in statement:
            raise OperationalError(statement, None, ConnectionResetError("connection lost"))

    event.listen(database.units_engine, "before_cursor_execute", lose_the_connection)
    try:
        response = await post(client)
    finally:
        event.remove(database.units_engine, "before_cursor_execute", lose_the_connection)
    body = assert_error(response, 503, "provider_unavailable")
    assert body["details"] == "the database is unavailable"
    assert gemini_fake.received == []
    job = await finished_job(session_factory, await only_job_id(session_factory))
    assert (job.status, job.failure_reason) == ("failed", "provider_unavailable")


async def only_job_id(factory: SessionFactory) -> str:
    async with factory() as session:
        return (await session.scalars(select(Job.id))).one()


async def test_closes_still_waiting_for_the_database_are_given_up_at_shutdown(
    app: FastAPI,
    database: Database,
    database_url: str,
    proxy: TcpProxy | None,
    session_factory: SessionFactory,
) -> None:
    """Stopping the server cancels them, and leaves their jobs `pending` for
    start-up recovery (`interrupted`), as a crash would."""
    async with session_factory() as session, session.begin():
        session.add(pending_job_row("job-waiting"))
    closer = JobCloser(database, app.state.services.store)
    with database_down(database_url, proxy):
        await closer.close(
            "job-waiting", JobStatus.failed, {"failure_reason": "provider_error"},
            deadline=Deadline.start(0.0),
        )  # fmt: skip
        assert closer.deferred == 1
        await closer.stop()
    assert closer.deferred == 0
    async with session_factory() as session:
        job = await session.get(Job, "job-waiting")
    assert job is not None
    assert job.status == "pending"
