"""The statistics rollups (migration 0008): kept by triggers on every path that
writes a job or a media row, equal to what a rebuild sums from the tables,
and the percentiles they give (SPEC §6.6)."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta
from typing import Any

import httpx
from alembic import command
from sqlalchemy import Connection, insert, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from photochanger.db import Database
from photochanger.jobs.repository import JobRepository, NewJob
from photochanger.media.repository import MediaRepository
from photochanger.migrate import alembic_config
from photochanger.models import Job, MediaObject
from photochanger.models.base import utcnow
from photochanger.models.job import JobStatus
from photochanger.models.job_rollup_sql import ROLLUP_TABLES, rebuild, trigger_ddl
from photochanger.stats.rollup import nearest_rank_of_bins
from support import SessionFactory, insert_jobs, job_row, photochanger

HOUR = timedelta(hours=1)


def snapshot(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    for table in ROLLUP_TABLES:
        rows = connection.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
        found[table] = sorted(tuple(str(value) for value in row) for row in rows if any(row[3:]))
    return found


def new_job(job_id: str, started_at: datetime, **values: Any) -> NewJob:
    fields: dict[str, Any] = {
        "id": job_id,
        "slot_id": "slot-001",
        "source": "ingest",
        "provider": "gemini",
        "operation": "background_replace",
        "slot_version": 1,
        "instance_id": "test",
        "started_at": started_at,
        "deadline_at": started_at + timedelta(seconds=48),
        "input_size": 1,
        "input_mime": "image/jpeg",
        "input_sha1": "0" * 40,
        "input_sha256": "0" * 64,
        "client_hash": None,
        "client_hash_mismatch": False,
        "booth_metadata": {},
    }
    return NewJob(**{**fields, **values})


FINISHES: list[tuple[JobStatus, dict[str, Any]]] = [
    (JobStatus.done, {}),
    (JobStatus.done, {"degraded_reason": "budget", "cost_micros": 0}),
    (JobStatus.done, {"degraded_reason": "provider_error:IMAGE_SAFETY", "cost_micros": 120}),
    (JobStatus.failed, {"failure_reason": "provider_error", "cost_micros": 68_603}),
    (JobStatus.failed, {"failure_reason": "internal_error"}),
    (JobStatus.timeout, {"failure_reason": "provider_timeout", "cost_micros": 5}),
]


async def test_triggers_keep_the_rollups_as_a_rebuild_sums_them(database: Database) -> None:
    """Jobs admitted and finished as the ingest does, some left pending and
    closed as interrupted at start-up, finished rows inserted whole, media
    added, cleaned and restored: the triggers' rollups are what a rebuild sums."""
    rng = random.Random(20)
    now = utcnow()
    starts = [now - timedelta(minutes=rng.randrange(0, 3 * 24 * 60), seconds=rng.random() * 60)]
    starts += [now.replace(minute=0, second=0, microsecond=0) - timedelta(microseconds=1)]
    starts += [now - timedelta(seconds=rng.randrange(0, 7200)) for _ in range(150)]

    def write(connection: Connection) -> None:
        jobs, media = JobRepository(connection), MediaRepository(connection)
        for n, started in enumerate(starts):
            job_id = f"job-{n}"
            jobs.insert(
                new_job(
                    job_id,
                    started,
                    slot_id=f"slot-00{rng.randrange(1, 4)}",
                    source=rng.choice(["ingest", "ingest", "ui_test"]),
                    instance_id=rng.choice(["this", "other"]),
                )
            )
            if rng.random() < 0.8:
                status, values = rng.choice(FINISHES)
                duration = rng.choice([0, 7, 31, 32, 999, 6_600, 48_000, rng.randrange(90_000)])
                jobs.finish(job_id, status, duration_ms=duration, **values)
                jobs.finish(job_id, JobStatus.failed, duration_ms=1)  # no second finish
            if rng.random() < 0.5:
                key = f"results/{job_id}.jpg"
                media.add(
                    kind="result",
                    key=key,
                    size=rng.randrange(1, 10**7),
                    mime="image/jpeg",
                    job_id=job_id,
                    slot_id=rng.choice(["slot-001", None]),
                    expires_at=now,
                    created_at=now,
                )
                if rng.random() < 0.5:
                    media.mark_cleaned(key, now)
                if rng.random() < 0.3:
                    connection.execute(
                        update(MediaObject).where(MediaObject.key == key).values(cleaned_at=None)
                    )
        jobs.insert(new_job("fresh", now - timedelta(seconds=5), instance_id="other"))
        jobs.close_interrupted(instance_id="this", grace_seconds=0)
        connection.execute(
            insert(Job),
            [job_row(f"whole-{n}", now - n * HOUR, status="timeout") for n in range(5)],
        )

    await database.write(write)
    kept = await database.read(snapshot)
    await database.write(rebuild)
    assert await database.read(snapshot) == kept
    assert len(kept["job_minute_counts"]) > 100
    assert len(kept["job_hour_durations"]) > 50
    assert kept["job_minute_failures"]
    assert kept["media_usage"]

    def pending(connection: Connection) -> int:
        query = text("SELECT SUM(pending) FROM job_hour_counts")
        return int(connection.execute(query).scalar_one())

    # The other instance's pending jobs are still in their window: still pending.
    assert await database.read(pending) > 0


async def test_the_database_runs_the_triggers_this_code_writes(database: Database) -> None:
    """The triggers are part of the schema (migration 0008): a change to their
    SQL needs a migration, which this catches."""

    def stored(connection: Connection) -> set[str]:
        if connection.dialect.name == "postgresql":
            query = (
                "SELECT prosrc FROM pg_proc WHERE proname IN ('job_rollup', 'media_usage_rollup')"
            )
            return {row[0].strip() for row in connection.exec_driver_sql(query)}
        query = "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%rollup%'"
        rows = connection.exec_driver_sql(query).all()
        rows += connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'trg_media_usage%'"
        ).all()
        return {row[0] for row in rows}

    found = await database.read(stored)
    dialect = database.engine.dialect.name
    if dialect == "postgresql":
        written = {
            ddl.split("$$")[1].strip() for ddl in trigger_ddl(dialect) if "FUNCTION" in ddl[:20]
        }
    else:
        written = set(trigger_ddl(dialect))
    assert found == written
    assert len(found) == (2 if dialect == "postgresql" else 5)


def test_nearest_rank_from_bins() -> None:
    assert nearest_rank_of_bins([], 50) is None
    one = [(40, 1, 700, 700)]
    assert (nearest_rank_of_bins(one, 50), nearest_rank_of_bins(one, 95)) == (700, 700)
    # 10 durations: rank 5 (p50) is the last of the first bin, rank 10 (p95)
    # the last of the second; a rank inside a bin lies between its ends.
    bins = [(70, 5, 100, 104), (80, 5, 200, 208)]
    assert nearest_rank_of_bins(bins, 50) == 104
    assert nearest_rank_of_bins(bins, 95) == 208
    assert nearest_rank_of_bins(bins, 60) == 200
    assert nearest_rank_of_bins(bins, 80) == 204
    assert nearest_rank_of_bins(list(reversed(bins)), 80) == 204


async def test_hourly_percentiles_stay_within_a_bin_of_the_exact_ones(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    """2,000 durations spread as real ones are in a past hour: p50 and p95 of
    the hour bucket (from the histogram) within 4 % of nearest rank over the
    durations, and the half-hour buckets (from the jobs) exactly that."""
    rng = random.Random(6)
    hour = utcnow().replace(minute=0, second=0, microsecond=0) - 3 * HOUR
    durations = [max(1, int(rng.lognormvariate(8.8, 0.6))) for _ in range(2000)]
    rows = [
        job_row(f"d-{n}", hour + timedelta(seconds=n * 1.8), duration_ms=value)
        for n, value in enumerate(durations)
    ]
    await insert_jobs(factory, rows)

    def exact(values: list[int], percent: int) -> int:
        ordered = sorted(values)
        return ordered[(percent * len(ordered) + 99) // 100 - 1]

    params = {"window_minutes": 6 * 60, "bucket_minutes": 60}
    body = (await admin_client.get("/api/stats/timeseries", params=params)).json()
    (bucket,) = [b for b in body["buckets"] if datetime.fromisoformat(b["start"]) == hour]
    assert bucket["jobs"] == 2000
    for percent in (50, 95):
        expected = exact(durations, percent)
        got = bucket[f"p{percent}_ms"]
        assert abs(got - expected) <= 0.04 * expected, (percent, got, expected)

    params = {"window_minutes": 6 * 60, "bucket_minutes": 30}
    body = (await admin_client.get("/api/stats/timeseries", params=params)).json()
    halves = {datetime.fromisoformat(b["start"]): b for b in body["buckets"]}
    first = durations[:1000]  # 1.8 s apart: the first 1000 start in the first half hour
    assert halves[hour]["jobs"] == 1000
    assert (halves[hour]["p50_ms"], halves[hour]["p95_ms"]) == (exact(first, 50), exact(first, 95))


async def test_a_window_counts_from_its_first_second(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    """The window's first, partial minute is read from the jobs, its minutes
    to the hour from minute rows, the rest from hour rows: each job once."""
    now = utcnow()
    since = now - timedelta(minutes=150)
    started = [since - timedelta(seconds=3), since + timedelta(seconds=3)]
    started += [since + timedelta(minutes=n, seconds=1) for n in (1, 30, 61, 149)]
    rows = [
        job_row(f"w-{n}", at, status="failed", failure_reason="provider_error")
        for n, at in enumerate(started)
    ]
    await insert_jobs(factory, rows)
    params = {"window_minutes": 150}
    overview = (await admin_client.get("/api/stats/overview", params=params)).json()
    assert overview["system"]["jobs"] == 5
    assert overview["system"]["provider_errors"] == 5
    failures = (await admin_client.get("/api/stats/failures", params=params)).json()["failures"]
    assert [(f["slot_id"], f["jobs"]) for f in failures] == [("slot-001", 5)]
    assert datetime.fromisoformat(failures[0]["last_started_at"]) == started[-1]


async def test_upgrading_sums_the_jobs_already_there(
    engine: AsyncEngine, session_factory: SessionFactory
) -> None:
    def run(connection: Connection, target: str, up: bool) -> None:
        (command.upgrade if up else command.downgrade)(alembic_config(connection), target)

    async with engine.begin() as connection:
        await connection.run_sync(run, "0007", False)
    now = utcnow()
    async with engine.begin() as connection:
        await connection.execute(
            insert(Job), [job_row(f"old-{n}", now - n * HOUR, cost_micros=10) for n in range(4)]
        )
    async with engine.begin() as connection:
        await connection.run_sync(run, "head", True)
    async with engine.connect() as connection:
        query = text("SELECT SUM(jobs), SUM(successes), SUM(cost_micros) FROM job_hour_counts")
        assert tuple((await connection.execute(query)).one()) == (4, 4, 40)


def test_stats_rebuild_command(tmp_path: Any) -> None:
    env = {"PHOTOCHANGER_DATA_DIR": str(tmp_path / "data")}
    assert photochanger("migrate", env=env).returncode == 0

    path = tmp_path / "data" / "photochanger.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO job_hour_counts (source, slot_id, hour, jobs, successes, degraded, "
            "timeouts, provider_errors, other_failures, pending, timed, cost_micros, priced) "
            "VALUES ('ingest', 'slot-001', 499000, 5, 5, 0, 0, 0, 0, 0, 5, 0, 0)"
        )
    result = photochanger("stats-rebuild", env=env)
    assert result.returncode == 0, result.stderr
    assert "Statistics rollups rebuilt" in result.stdout
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM job_hour_counts").fetchone() == (0,)
    unmigrated = photochanger("stats-rebuild", env={"PHOTOCHANGER_DATA_DIR": str(tmp_path / "x")})
    assert unmigrated.returncode == 2
    assert "Traceback" not in unmigrated.stderr
