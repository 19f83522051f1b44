"""The async engine and `Database`, the units of work run over it. Created in the
app lifespan (or a CLI command), never at import time."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

# Any constant works; it only has to be the same on every replica.
ADMISSION_LOCK_KEY = 0x50484F544F  # "PHOTO"
SQLITE_BUSY_TIMEOUT_SECONDS = 30
"""How long a SQLite statement waits for another process's lock by default."""

DATABASE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, PoolTimeout, OSError)
"""What a unit of work raises when the database cannot be reached, drops the
connection, or stays locked past the wait allowed (asyncpg raises a refused
connection as a bare `OSError`): the database is unavailable, not a bug."""

T = TypeVar("T")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine (the sessions of the admin API); on SQLite with WAL, foreign
    keys, a busy timeout and an explicit `BEGIN` for every transaction."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, **kwargs
        )
        _configure_sqlite(engine.sync_engine)
        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def _configure_sqlite(engine: Engine, *, begin: bool = True) -> None:
    """WAL, foreign keys; the driver's own transaction handling off. With `begin`,
    SQLAlchemy's transactions issue the `BEGIN` (the documented pysqlite recipe);
    `Database` issues its own, so its engine has no per-statement events to fire."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    if not begin:
        return

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        _driver_begin(conn, "DEFERRED")


def _driver_begin(connection: Connection, mode: str) -> None:
    # Straight to the driver: SQLAlchemy's execute machinery around one BEGIN
    # cost more than the statement (measured, three transactions an ingest).
    driver = connection.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    statement = f"BEGIN {mode}"
    try:
        cursor.execute(statement)
    except sqlite3.Error as error:
        # Wrapped as SQLAlchemy would ("database is locked" past the busy
        # timeout), so callers and the app's handler see a `DBAPIError`.
        raise OperationalError(statement, None, error) from error
    finally:
        cursor.close()


def _busy_timeout(connection: Connection, milliseconds: int) -> None:
    driver = connection.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
    finally:
        cursor.close()


def _milliseconds(seconds: float) -> int:
    # 0 would mean "no limit" to PostgreSQL; SQLite's 1 ms fails as fast.
    return max(1, int(seconds * 1000))


class Database:
    """Runs units of work: plain functions of a sync `Connection`, committed when
    they return, rolled back when they raise.

    The ingest's own SQL goes through here. On SQLite a unit of work is one call
    on a thread over the standard library driver: one thread hop per transaction,
    where aiosqlite pays three or four per statement (bench/README.md: that cost
    most of the CPU of a small ingest). Writes run on one thread, so this
    process's writers queue in order instead of polling SQLite's unfair busy
    handler against each other; other processes still meet `BEGIN IMMEDIATE`.
    On PostgreSQL the same function runs through `AsyncConnection.run_sync` over
    asyncpg, and a write that must be serialized across replicas takes a
    transaction advisory lock first."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._sqlite: Engine | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        if self.dialect == "sqlite":
            self._sqlite = create_sync_engine(
                engine.url.set(drivername="sqlite+pysqlite"),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                pool_size=4,
                max_overflow=4,
            )
            # No "begin" listener: any engine event makes SQLAlchemy dispatch
            # events around every statement (measured: a tenth of these threads' CPU).
            _configure_sqlite(self._sqlite, begin=False)
            self._local = threading.local()
            self._connections: list[Connection] = []
            self._connections_lock = threading.Lock()
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
            self._readers = ThreadPoolExecutor(2, thread_name_prefix="sqlite-reader")

    @property
    def units_engine(self) -> Engine:
        """The engine whose connections run the units of work (to listen to its
        statements)."""
        return self._sqlite if self._sqlite is not None else self.engine.sync_engine

    async def read(self, work: Callable[[Connection], T]) -> T:
        if self._sqlite is None:
            async with self.engine.connect() as connection:
                return await connection.run_sync(work)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_sqlite, work, "DEFERRED")

    async def write(
        self,
        work: Callable[[Connection], T],
        *,
        serialized: bool = False,
        lock_timeout: float | None = None,
    ) -> T:
        """A writing transaction. `serialized`: it holds the cluster-wide admission
        lock until it commits (SQLite's single write lock already is one).

        `lock_timeout`: the longest, in seconds from now, to wait for a lock
        another transaction holds (SQLite's write lock, counted from this call,
        so time queued behind this process's other writes counts too;
        PostgreSQL's `lock_timeout`); past it the write fails with an
        `OperationalError`. A request's writes pass what is left of its window,
        so a database locked by another process cannot hold the answer past it."""
        if self._sqlite is None:
            async with self.engine.begin() as connection:
                if lock_timeout is not None:
                    milliseconds = f"{_milliseconds(lock_timeout)}ms"
                    await connection.execute(
                        select(func.set_config("lock_timeout", milliseconds, True))
                    )
                if serialized:
                    await connection.execute(select(func.pg_advisory_xact_lock(ADMISSION_LOCK_KEY)))
                return await connection.run_sync(work)
        loop = asyncio.get_running_loop()
        give_up = None if lock_timeout is None else time.monotonic() + lock_timeout
        return await loop.run_in_executor(
            self._writer, self._run_sqlite, work, "IMMEDIATE", give_up
        )

    def _run_sqlite(
        self, work: Callable[[Connection], T], mode: str, give_up: float | None = None
    ) -> T:
        connection = self._thread_connection()
        if give_up is None:
            with connection.begin():
                _driver_begin(connection, mode)
                return work(connection)
        _busy_timeout(connection, _milliseconds(give_up - time.monotonic()))
        try:
            with connection.begin():
                _driver_begin(connection, mode)
                return work(connection)
        finally:
            _busy_timeout(connection, SQLITE_BUSY_TIMEOUT_SECONDS * 1000)

    def _thread_connection(self) -> Connection:
        """Each of the few database threads keeps its own connection: checking
        one out of the pool and resetting it for every transaction cost more
        than the ingest's statements (measured)."""
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed or connection.invalidated:
            assert self._sqlite is not None
            connection = self._sqlite.connect()
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    async def dispose(self) -> None:
        if self._sqlite is not None:
            assert self._writer is not None
            assert self._readers is not None
            self._writer.shutdown(wait=True)
            self._readers.shutdown(wait=True)
            for connection in self._connections:
                connection.close()
            self._connections.clear()
            self._sqlite.dispose()
        await self.engine.dispose()
