"""The SQL that keeps the statistics rollups (`models/job_rollup.py`): triggers
on `job` and `media_object`, and the rebuild from those tables.

The triggers run inside the statement that writes the row, so a rollup is
committed or rolled back with the job it counts, on every replica, whichever
code path wrote the job (the ingest, the background close, the start-up close of
interrupted jobs, a restore). A job counts when it is inserted (`pending`, or
finished at once) and moves from `pending` to its outcome once, when it
finishes (SPEC §3.4: status only moves forward), so the triggers fire on the
insert and on that one update.

The same expressions build the rebuild (`photochanger stats-rebuild`), which
sums the tables from scratch. These statements are part of the schema: migration
0008 creates them; a change here needs a migration that recreates them (a test
compares the database's triggers with this module)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from sqlalchemy import Connection

COUNTED = {
    "jobs": "TRUE",
    "successes": "{r}.status = 'done' AND {r}.degraded_reason IS NULL",
    "degraded": "{r}.status = 'done' AND {r}.degraded_reason IS NOT NULL",
    "timeouts": "{r}.status = 'timeout'",
    "provider_errors": "{r}.status = 'failed' AND {r}.failure_reason = 'provider_error'",
    "other_failures": (
        "{r}.status = 'failed' AND ({r}.failure_reason IS NULL "
        "OR {r}.failure_reason <> 'provider_error')"
    ),
    "pending": "{r}.status = 'pending'",
    "timed": "{r}.status <> 'pending' AND {r}.duration_ms IS NOT NULL",
    "priced": "{r}.cost_micros IS NOT NULL",
}
"""Each count's condition on a job row `{r}`."""
COUNT_COLUMNS = (*COUNTED, "cost_micros")
TIMED = COUNTED["timed"]
FAILED = (
    "({r}.status IN ('failed', 'timeout') "
    "OR ({r}.status = 'done' AND {r}.degraded_reason IS NOT NULL))"
)
OUTCOME = "CASE WHEN {r}.status = 'done' THEN 'degraded' ELSE {r}.status END"
REASON = (
    "COALESCE(CASE WHEN {r}.status = 'done' THEN {r}.degraded_reason "
    "ELSE {r}.failure_reason END, '')"
)
BIN = "(SELECT bin FROM duration_bin WHERE lo <= {r}.duration_ms ORDER BY lo DESC LIMIT 1)"
COUNT_TABLES = {"job_minute_counts": "minute", "job_hour_counts": "hour"}
JOB_TRIGGERS = ("trg_job_rollup_insert", "trg_job_rollup_finish")
MEDIA_TRIGGERS = ("trg_media_usage_insert", "trg_media_usage_update", "trg_media_usage_delete")
EXACT_BELOW_MS = 32
BIN_GROWTH = 1.04
LONGEST_BIN_MS = 24 * 60 * 60 * 1000


def duration_bins() -> list[int]:
    """Each bin's lower bound in ms: one per ms below 32, then 4 % wider each,
    to a day (a longer duration falls in the last bin)."""
    bounds = list(range(EXACT_BELOW_MS))
    step = 0
    while bounds[-1] < LONGEST_BIN_MS:
        bounds.append(math.ceil(EXACT_BELOW_MS * BIN_GROWTH**step))
        step += 1
    return bounds


def _flag(condition: str, row: str) -> str:
    return f"CASE WHEN {condition.format(r=row)} THEN 1 ELSE 0 END"


def _count_value(column: str, row: str) -> str:
    if column == "cost_micros":
        return f"COALESCE({row}.cost_micros, 0)"
    return _flag(COUNTED[column], row)


def _minute(dialect: str, row: str) -> str:
    if dialect == "postgresql":
        return f"CAST(floor(extract(epoch FROM {row}.started_at) / 60) AS bigint)"
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' and its date functions round to
    # the millisecond (23:59:59.9999995 would be the next day): read the minute's text.
    return f"(CAST(strftime('%s', substr({row}.started_at, 1, 16)) AS INTEGER) / 60)"


def _period(dialect: str, table: str, row: str) -> str:
    minute = _minute(dialect, row)
    return minute if COUNT_TABLES[table] == "minute" else f"({minute} / 60)"


def _pair(dialect: str, name: str) -> str:
    """SQLite's two-argument min() and max() are PostgreSQL's LEAST and GREATEST."""
    if dialect != "postgresql":
        return name
    return "LEAST" if name == "min" else "GREATEST"


def _upsert(table: str, keys: dict[str, str], values: dict[str, str], where: str, sets: str) -> str:
    columns = ", ".join([*keys, *values])
    selected = ", ".join([*keys.values(), *values.values()])
    return (
        f"INSERT INTO {table} ({columns}) SELECT {selected} WHERE {where} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    )


def _adding(table: str, columns: tuple[str, ...]) -> str:
    return ", ".join(f"{column} = {table}.{column} + excluded.{column}" for column in columns)


def _counts(dialect: str, table: str, new: str, old: str | None) -> str:
    """Adds the job `new` to its period's counts, less the job as it was (`old`)."""
    keys = {"source": f"{new}.source", "slot_id": f"{new}.slot_id"}
    keys[COUNT_TABLES[table]] = _period(dialect, table, new)
    values = {}
    for column in COUNT_COLUMNS:
        value = _count_value(column, new)
        values[column] = value if old is None else f"({value}) - ({_count_value(column, old)})"
    return _upsert(table, keys, values, "TRUE", _adding(table, COUNT_COLUMNS))


def _durations(dialect: str, row: str) -> str:
    table = "job_hour_durations"
    keys = {
        "source": f"{row}.source",
        "slot_id": f"{row}.slot_id",
        "hour": _period(dialect, "job_hour_counts", row),
        "bin": BIN.format(r=row),
    }
    values = {"jobs": "1", "min_ms": f"{row}.duration_ms", "max_ms": f"{row}.duration_ms"}
    sets = (
        f"jobs = {table}.jobs + 1, "
        f"min_ms = {_pair(dialect, 'min')}({table}.min_ms, excluded.min_ms), "
        f"max_ms = {_pair(dialect, 'max')}({table}.max_ms, excluded.max_ms)"
    )
    return _upsert(table, keys, values, TIMED.format(r=row), sets)


def _failures(dialect: str, row: str) -> str:
    table = "job_minute_failures"
    keys = {
        "source": f"{row}.source",
        "slot_id": f"{row}.slot_id",
        "minute": _minute(dialect, row),
        "provider": f"{row}.provider",
        "outcome": OUTCOME.format(r=row),
        "reason": REASON.format(r=row),
    }
    values = {"jobs": "1", "last_started_at": f"{row}.started_at"}
    latest = _pair(dialect, "max")
    sets = (
        f"jobs = {table}.jobs + 1, "
        f"last_started_at = {latest}({table}.last_started_at, excluded.last_started_at)"
    )
    return _upsert(table, keys, values, FAILED.format(r=row), sets)


def job_statements(dialect: str, *, finishing: bool) -> list[str]:
    """What a job's insert (`NEW`) or its finishing update (`OLD` pending,
    `NEW` final) adds to the rollups."""
    old = "OLD" if finishing else None
    return [
        *(_counts(dialect, table, "NEW", old) for table in COUNT_TABLES),
        _durations(dialect, "NEW"),
        _failures(dialect, "NEW"),
    ]


def _media(row: str, sign: str) -> str:
    table = "media_usage"
    keys = {"slot_id": f"COALESCE({row}.slot_id, '')", "kind": f"{row}.kind"}
    values = {"files": f"{sign}1", "bytes": f"{sign}{row}.size"}
    return _upsert(
        table, keys, values, f"{row}.cleaned_at IS NULL", _adding(table, ("files", "bytes"))
    )


def create_triggers(connection: Connection) -> None:
    for statement in trigger_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


def trigger_ddl(dialect: str) -> Iterator[str]:
    finishing = "OLD.status = 'pending' AND NEW.status <> 'pending'"
    media_update = "UPDATE OF cleaned_at, size, slot_id, kind"
    if dialect == "postgresql":
        inserted = "; ".join(job_statements(dialect, finishing=False))
        finished = "; ".join(job_statements(dialect, finishing=True))
        yield (
            "CREATE FUNCTION job_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'INSERT' THEN {inserted}; ELSE {finished}; END IF; "
            "RETURN NULL; END $$"
        )
        yield (
            "CREATE TRIGGER trg_job_rollup_insert AFTER INSERT ON job "
            "FOR EACH ROW EXECUTE FUNCTION job_rollup()"
        )
        yield (
            "CREATE TRIGGER trg_job_rollup_finish AFTER UPDATE OF status ON job "
            f"FOR EACH ROW WHEN ({finishing}) EXECUTE FUNCTION job_rollup()"
        )
        yield (
            "CREATE FUNCTION media_usage_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {_media('OLD', '-')}; END IF; "
            f"IF TG_OP <> 'DELETE' THEN {_media('NEW', '')}; END IF; "
            "RETURN NULL; END $$"
        )
        for name, event in zip(MEDIA_TRIGGERS, ("INSERT", media_update, "DELETE"), strict=True):
            yield (
                f"CREATE TRIGGER {name} AFTER {event} ON media_object "
                "FOR EACH ROW EXECUTE FUNCTION media_usage_rollup()"
            )
        return
    inserted = "; ".join(job_statements(dialect, finishing=False))
    finished = "; ".join(job_statements(dialect, finishing=True))
    yield f"CREATE TRIGGER trg_job_rollup_insert AFTER INSERT ON job BEGIN {inserted}; END"
    yield (
        "CREATE TRIGGER trg_job_rollup_finish AFTER UPDATE OF status ON job "
        f"WHEN {finishing} BEGIN {finished}; END"
    )
    yield (
        "CREATE TRIGGER trg_media_usage_insert AFTER INSERT ON media_object "
        f"BEGIN {_media('NEW', '')}; END"
    )
    yield (
        f"CREATE TRIGGER trg_media_usage_update AFTER {media_update} ON media_object "
        f"BEGIN {_media('OLD', '-')}; {_media('NEW', '')}; END"
    )
    yield (
        "CREATE TRIGGER trg_media_usage_delete AFTER DELETE ON media_object "
        f"BEGIN {_media('OLD', '-')}; END"
    )


def drop_triggers(connection: Connection) -> None:
    dialect = connection.dialect.name
    for name in JOB_TRIGGERS:
        on = " ON job" if dialect == "postgresql" else ""
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}{on}")
    for name in MEDIA_TRIGGERS:
        on = " ON media_object" if dialect == "postgresql" else ""
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}{on}")
    if dialect == "postgresql":
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS job_rollup()")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS media_usage_rollup()")


ROLLUP_TABLES = (
    "job_minute_counts",
    "job_hour_counts",
    "job_hour_durations",
    "job_minute_failures",
    "media_usage",
)


def rebuild_statements(dialect: str) -> Iterator[str]:
    """Every rollup summed again from `job` and `media_object`."""
    for table in ROLLUP_TABLES:
        yield f"DELETE FROM {table}"
    sums = ", ".join(f"SUM({_count_value(column, 'job')})" for column in COUNT_COLUMNS)
    for table, period in COUNT_TABLES.items():
        key = _period(dialect, table, "job")
        yield (
            f"INSERT INTO {table} (source, slot_id, {period}, {', '.join(COUNT_COLUMNS)}) "
            f"SELECT source, slot_id, {key}, {sums} FROM job GROUP BY source, slot_id, {key}"
        )
    yield (
        "INSERT INTO job_hour_durations (source, slot_id, hour, bin, jobs, min_ms, max_ms) "
        "SELECT source, slot_id, hour, bin, COUNT(*), MIN(duration_ms), MAX(duration_ms) "
        f"FROM (SELECT source, slot_id, {_period(dialect, 'job_hour_counts', 'job')} AS hour, "
        f"{BIN.format(r='job')} AS bin, duration_ms FROM job WHERE {TIMED.format(r='job')}) "
        "AS timed GROUP BY source, slot_id, hour, bin"
    )
    failure_keys = (
        f"source, slot_id, {_minute(dialect, 'job')}, provider, "
        f"{OUTCOME.format(r='job')}, {REASON.format(r='job')}"
    )
    yield (
        "INSERT INTO job_minute_failures "
        "(source, slot_id, minute, provider, outcome, reason, jobs, last_started_at) "
        f"SELECT {failure_keys}, COUNT(*), MAX(started_at) FROM job "
        f"WHERE {FAILED.format(r='job')} GROUP BY {failure_keys}"
    )
    yield (
        "INSERT INTO media_usage (slot_id, kind, files, bytes) "
        "SELECT COALESCE(slot_id, ''), kind, COUNT(*), SUM(size) FROM media_object "
        "WHERE cleaned_at IS NULL GROUP BY COALESCE(slot_id, ''), kind"
    )


def rebuild(connection: Connection) -> None:
    """Sums every rollup again, in the caller's transaction. On PostgreSQL the
    job and media tables are locked against writes meanwhile, so no job is
    counted twice or lost; ingests wait (or answer 503 at their deadline)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql("LOCK TABLE job, media_object IN SHARE MODE")
    for statement in rebuild_statements(dialect):
        connection.exec_driver_sql(statement)
