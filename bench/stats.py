"""Statistics and job-log benchmark (not part of CI): every `/api/stats/*` endpoint
and the job list, through the real app, over 1,000,000 job rows, on SQLite and
PostgreSQL, against a baseline of the same calls over 10,000 rows.

    .venv/bin/python bench/stats.py                 # both databases, ~5 minutes
    .venv/bin/python bench/stats.py --help          # --rows, --runs, --explain, ...

PostgreSQL: PHOTOCHANGER_TEST_PG_URL when set; otherwise the script re-runs
itself under scripts/with-postgres.sh (a throw-away server). It prints one table
and PASS/FAIL against the targets of issue 20 (at 1M rows, the median of every
statistics endpoint under 100 ms over a 24 h or 1 h window, under 250 ms over 7
days) and exits 0: a report, not a test. The rows are loaded with the rollup
triggers off and the rollups then rebuilt, as `photochanger migrate` does for the
jobs already there when it adds them; that time is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from photochanger.app import create_app
from photochanger.auth.passwords import hash_password
from photochanger.auth.repository import AccountRepository
from photochanger.config import Settings
from photochanger.db import Database, create_engine
from photochanger.migrate import upgrade_to_head
from photochanger.models.job_rollup_sql import ROLLUP_TABLES, rebuild_statements

ROOT = Path(__file__).resolve().parents[1]
TARGETS_MS = {"24h": 100.0, "1h": 100.0, "7d": 250.0}
"""The median's target by the window in an endpoint's name."""
USERNAME, PASSWORD = "bench", "bench-password-123"
DAY = timedelta(days=1)
NOW = datetime.now(UTC)

WEEK = {"window_minutes": 7 * 1440}
ENDPOINTS: dict[str, tuple[str, dict[str, Any]]] = {
    "stats/overview 1h": ("/api/stats/overview", {"window_minutes": 60}),
    "stats/timeseries 1h/5m": (
        "/api/stats/timeseries",
        {"window_minutes": 60, "bucket_minutes": 5},
    ),
    "stats/overview 24h": ("/api/stats/overview", {"window_minutes": 1440}),
    "stats/slots 24h": ("/api/stats/slots", {"window_minutes": 1440}),
    "stats/timeseries 24h/60m": ("/api/stats/timeseries", {"window_minutes": 1440}),
    "stats/timeseries 24h slot": (
        "/api/stats/timeseries",
        {"window_minutes": 1440, "slot_id": "slot-001"},
    ),
    "stats/timeseries 30d/1d": (
        "/api/stats/timeseries",
        {"window_minutes": 43200, "bucket_minutes": 1440},
    ),
    "stats/failures 24h": ("/api/stats/failures", {"window_minutes": 1440}),
    "stats/overview 7d": ("/api/stats/overview", WEEK),
    "stats/slots 7d": ("/api/stats/slots", WEEK),
    "stats/timeseries 7d/6h": ("/api/stats/timeseries", {**WEEK, "bucket_minutes": 360}),
    "stats/failures 7d": ("/api/stats/failures", WEEK),
    "stats/spend 7d": ("/api/stats/spend", {"days": 7}),
    "jobs list": ("/api/jobs", {}),
    "jobs list slot+status": ("/api/jobs", {"slot_id": "slot-003", "status": "timeout"}),
    "jobs list page 2": ("/api/jobs", {"limit": 500, "cursor": "<page 2>"}),
}
STATS_PREFIX = "stats/"  # the targets are for these


def target_of(endpoint: str) -> float | None:
    if not endpoint.startswith(STATS_PREFIX):
        return None
    return next((ms for window, ms in TARGETS_MS.items() if f" {window}" in endpoint), None)


# --------------------------------------------------------------------------- data

SLOT_WEIGHTS = [20, 15, 12, 10, 8, 8, 6, 5, 4, 3, 3, 2, 2, 1, 1]
OUTCOMES = [  # status, failure_reason, weight
    ("done", None, 850),
    ("timeout", "provider_timeout", 40),
    ("failed", "provider_error", 80),
    ("failed", "provider_unavailable", 15),
    ("failed", "internal_error", 5),
    ("failed", "interrupted", 10),
]
JOB_COLUMNS = [
    "id", "slot_id", "source", "status", "failure_reason", "failure_details", "provider",
    "operation", "instance_id", "started_at", "deadline_at", "finished_at", "duration_ms",
    "input_size", "input_mime", "input_sha1", "input_sha256", "client_hash_mismatch",
    "booth_metadata", "attempts", "produced_by", "result_key", "result_mime", "result_size",
    "result_expires_at",
]  # fmt: skip
MEDIA_COLUMNS = ["id", "kind", "key", "size", "mime", "job_id", "slot_id", "created_at",
                 "expires_at", "cleaned_at"]  # fmt: skip
METADATA = '{"model": "Canon EOS R6", "profile": "wedding", "version": "3.30"}'


def job_rows(count: int, seed: int) -> Iterator[tuple[list[Any], list[list[Any]]]]:
    """(job, its media rows) of a studio's month: 15 % of the jobs in the last
    24 h, the rest spread over the 29 days before; 2 % admin test runs. A done
    job has a result and a preview file, live for 7 days, then cleaned."""
    rng = random.Random(seed)
    slots = [f"slot-{n:03d}" for n in range(1, 16)]
    outcomes = [outcome[:2] for outcome in OUTCOMES]
    outcome_weights = [outcome[2] for outcome in OUTCOMES]
    for _ in range(count):
        recent = rng.random() < 0.15
        age = rng.random() * (DAY if recent else 29 * DAY) + (timedelta(0) if recent else DAY)
        started = NOW - age
        status, reason = rng.choices(outcomes, outcome_weights)[0]
        if status == "done":
            duration: int | None = min(47_000, max(400, int(rng.lognormvariate(8.8, 0.5))))
        elif status == "timeout":
            duration = 48_000
        elif reason == "interrupted":
            duration = None
        else:
            duration = rng.randint(300, 30_000)
        job_id = secrets.token_urlsafe(18)
        slot = rng.choices(slots, SLOT_WEIGHTS)[0]
        finished = None if duration is None else started + timedelta(milliseconds=duration)
        if reason == "interrupted":
            finished = started + timedelta(seconds=60)
        done = status == "done"
        expires = finished + timedelta(hours=168) if done and finished else None
        size = rng.randint(200_000, 3_000_000)
        job = [
            job_id, slot, "ui_test" if rng.random() < 0.02 else "ingest", status, reason,
            None if done else "provider said no", "gemini", "edit", "bench", started,
            started + timedelta(seconds=48), finished, duration, size, "image/jpeg",
            rng.randbytes(20).hex(), rng.randbytes(32).hex(), False, METADATA, "[]",
            "gemini" if done else None, f"results/{job_id}.jpg" if done else None,
            "image/jpeg" if done else None, size if done else None, expires,
        ]  # fmt: skip
        media: list[list[Any]] = []
        if done and expires is not None and age < 10 * DAY:
            cleaned = expires if expires < NOW else None
            for kind, key, mime, stored in (
                ("result", f"results/{job_id}.jpg", "image/jpeg", size),
                ("preview", f"previews/{job_id}.webp", "image/webp", size // 40),
            ):
                row = [secrets.token_hex(16), kind, key, stored, mime, job_id, slot, finished]
                media.append([*row, expires, cleaned])
        yield job, media


def sqlite_text(value: Any) -> Any:
    """How SQLAlchemy stores a UTC datetime on SQLite: naive text."""
    if isinstance(value, datetime):
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    return value


def chunks(count: int, seed: int, size: int = 50_000) -> Iterator[tuple[list[Any], list[Any]]]:
    jobs: list[Any] = []
    media: list[Any] = []
    for job, files in job_rows(count, seed):
        jobs.append(job)
        media.extend(files)
        if len(jobs) >= size:
            yield jobs, media
            jobs, media = [], []
    if jobs:
        yield jobs, media


def insert_sql(table: str, columns: list[str]) -> str:
    """A parameterized INSERT; the names are this script's own constants."""
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


def fill_sqlite(path: Path, count: int) -> float:
    """Loads the rows; returns the seconds the rollups' rebuild took."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")
    triggers = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name IN ('job', "
        "'media_object')"
    ).fetchall()
    for name, _ in triggers:
        connection.execute(f"DROP TRIGGER {name}")
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name IN ('job', "
        "'media_object') AND sql IS NOT NULL"
    ).fetchall()
    connection.execute("BEGIN")
    # Indexes are built once after the load: much faster than row by row.
    for name, _ in indexes:
        connection.execute(f"DROP INDEX {name}")
    job_sql = insert_sql("job", JOB_COLUMNS)
    media_sql = insert_sql("media_object", MEDIA_COLUMNS)
    for jobs, media in chunks(count, seed=count):
        connection.executemany(job_sql, ([sqlite_text(v) for v in row] for row in jobs))
        connection.executemany(media_sql, ([sqlite_text(v) for v in row] for row in media))
    for _, sql in indexes:
        connection.execute(sql)
    connection.execute("COMMIT")
    for _, sql in triggers:
        connection.execute(sql)
    started = time.perf_counter()
    connection.execute("BEGIN")
    for statement in rebuild_statements("sqlite"):
        connection.execute(statement)
    connection.execute("COMMIT")
    rebuilt = time.perf_counter() - started
    connection.execute("ANALYZE")
    connection.close()
    return rebuilt


async def fill_postgres(url: str, count: int) -> float:
    """Loads the rows; returns the seconds the rollups' rebuild took."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for table in ("job", "media_object"):
            await connection.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('job', "
            "'media_object') AND indexname NOT LIKE 'pk_%' AND indexname NOT LIKE 'uq_%'"
        )
        for index in indexes:
            await connection.execute(f"DROP INDEX {index['indexname']}")
        for jobs, media in chunks(count, seed=count):
            await connection.copy_records_to_table("job", records=jobs, columns=JOB_COLUMNS)
            await connection.copy_records_to_table(
                "media_object", records=media, columns=MEDIA_COLUMNS
            )
        for index in indexes:
            await connection.execute(index["indexdef"])
        # Autovacuum would do it within minutes of such a load; the index-only
        # scans of the statistics need the visibility map it sets.
        for table in ("job", "media_object"):
            await connection.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        started = time.perf_counter()
        async with connection.transaction():
            for statement in rebuild_statements("postgresql"):
                await connection.execute(statement)
        rebuilt = time.perf_counter() - started
        await connection.execute("VACUUM ANALYZE job")
        await connection.execute("VACUUM ANALYZE media_object")
        for table in ROLLUP_TABLES:
            await connection.execute(f"VACUUM ANALYZE {table}")
        return rebuilt
    finally:
        await connection.close()


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    database: str
    rows: int
    endpoint: str
    median_ms: float
    max_ms: float


class StatementLog:
    """The SQL each request ran, to EXPLAIN it afterwards."""

    def __init__(self, database: Database) -> None:
        self.statements: list[tuple[str, Any]] = []
        engine = database._sqlite or database.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.statements.append((statement, parameters))


async def explain(database: Database, statements: list[tuple[str, Any]]) -> None:
    prefix = "EXPLAIN QUERY PLAN " if database.dialect == "sqlite" else "EXPLAIN "

    def plan(connection: Connection) -> list[str]:
        lines = []
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cursor = connection.exec_driver_sql(prefix + statement, parameters)
            rows = [" | ".join(str(cell) for cell in row) for row in cursor]
            lines.append(" ".join(statement.split())[:160] + "\n      " + "\n      ".join(rows))
        return lines

    for line in await database.read(plan):
        print("    " + line)


async def measure(url: str, rows: int, label: str, runs: int, show_plans: bool) -> list[Timing]:
    data_dir = Path(tempfile.mkdtemp(prefix="photochanger-bench-stats-"))
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=data_dir,
        database_url=url,
        ingest_password="bench",  # noqa: S106 - a throw-away bench database
        instance_id="bench",
    )
    app = create_app(config)
    timings = []
    try:
        async with app.router.lifespan_context(app):
            await time_endpoints(app, rows, label, runs, show_plans, timings)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return timings


async def time_endpoints(
    app: Any, rows: int, label: str, runs: int, show_plans: bool, timings: list[Timing]
) -> None:
    database: Database = app.state.services.database
    await database.write(
        lambda connection: AccountRepository(connection).create(USERNAME, hash_password(PASSWORD))
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        login = await client.post("/api/login", json={"username": USERNAME, "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        first = await client.get("/api/jobs", params={"limit": 500})
        page_two = first.json()["next_cursor"]
        statements = StatementLog(database)
        for name, (path, params) in ENDPOINTS.items():
            params = {k: (page_two if v == "<page 2>" else v) for k, v in params.items()}
            await client.get(path, params=params)  # warm caches
            statements.statements.clear()
            spent = []
            for _ in range(runs):
                started = time.perf_counter()
                response = await client.get(path, params=params)
                spent.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
            timing = Timing(label, rows, name, statistics.median(spent), max(spent))
            timings.append(timing)
            print(
                f"  {label} {rows:,} {name}: median {timing.median_ms:.1f} ms, "
                f"max {timing.max_ms:.1f} ms",
                flush=True,
            )
            if show_plans:
                print(f"  {label} {rows:,} {name}:")
                await explain(database, statements.statements[: len(statements.statements) // runs])


# --------------------------------------------------------------------------- databases


async def sqlite_case(rows: int, runs: int, show_plans: bool) -> list[Timing]:
    path = Path(tempfile.mkdtemp(prefix="photochanger-bench-sqlite-")) / "bench.db"
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    started = time.perf_counter()
    rebuilt = await asyncio.to_thread(fill_sqlite, path, rows)
    print(
        f"sqlite: {rows:,} jobs loaded in {time.perf_counter() - started:.0f} s, "
        f"rollups rebuilt in {rebuilt:.1f} s",
        flush=True,
    )
    try:
        return await measure(url, rows, "sqlite", runs, show_plans)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


async def postgres_case(server_url: str, rows: int, runs: int, show_plans: bool) -> list[Timing]:
    name = f"bench_stats_{rows}"
    admin: AsyncEngine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        await connection.execute(text(f"CREATE DATABASE {name}"))
    url = server_url.rsplit("/", 1)[0] + "/" + name
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    started = time.perf_counter()
    rebuilt = await fill_postgres(url, rows)
    print(
        f"postgresql: {rows:,} jobs loaded in {time.perf_counter() - started:.0f} s, "
        f"rollups rebuilt in {rebuilt:.1f} s",
        flush=True,
    )
    try:
        return await measure(url, rows, "postgresql", runs, show_plans)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await admin.dispose()


def report(timings: list[Timing], rows: int, baseline_rows: int) -> None:
    by_key = {(t.database, t.rows, t.endpoint): t for t in timings}
    print()
    print(
        f"{'database':<11} {'endpoint':<27} {'median ms':>10} {'max ms':>8} "
        f"{'@' + format(baseline_rows, ','):>9} {'ratio':>6}  target"
    )
    for timing in timings:
        if timing.rows != rows:
            continue
        base = by_key.get((timing.database, baseline_rows, timing.endpoint))
        ratio = f"{timing.median_ms / base.median_ms:5.1f}x" if base else "-"
        target = target_of(timing.endpoint)
        if target is None:
            verdict = "(no target)"
        else:
            verdict = f"< {target:.0f} " + ("PASS" if timing.median_ms < target else "FAIL")
        print(
            f"{timing.database:<11} {timing.endpoint:<27} {timing.median_ms:10.1f} "
            f"{timing.max_ms:8.1f} {base.median_ms if base else 0:9.1f} {ratio:>6}  {verdict}"
        )
    print(
        f"\ntargets at {rows:,} rows: the median of every stats endpoint under 100 ms over "
        "1 h and 24 h windows, under 250 ms over 7 days"
    )


async def main(args: argparse.Namespace) -> None:
    pg_url = os.environ.get("PHOTOCHANGER_TEST_PG_URL")
    timings: list[Timing] = []
    for rows in (args.baseline_rows, args.rows):
        if not args.skip_sqlite:
            timings += await sqlite_case(rows, args.runs, args.explain)
        if pg_url and not args.skip_postgres:
            timings += await postgres_case(pg_url, rows, args.runs, args.explain)
    report(timings, args.rows, args.baseline_rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15, help="timed calls per endpoint")
    parser.add_argument("--explain", action="store_true", help="print every query's plan")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    arguments = parser.parse_args()
    if not arguments.skip_postgres and "PHOTOCHANGER_TEST_PG_URL" not in os.environ:
        script = str(ROOT / "scripts" / "with-postgres.sh")
        # A throw-away PostgreSQL server around this very command.
        os.execv(script, [script, sys.executable, *sys.argv])  # noqa: S606
    asyncio.run(main(arguments))
