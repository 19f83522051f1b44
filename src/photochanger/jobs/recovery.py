from __future__ import annotations

from photochanger.db import Database
from photochanger.jobs.repository import JobRepository

OVERDUE_GRACE_SECONDS = 60.0
"""A pending job this long past its window has no live process behind it."""


async def close_interrupted_jobs(database: Database, instance_id: str) -> int:
    """At start-up: close as `failed/interrupted` the jobs our previous run left
    pending, and any replica's jobs long past their deadline (SPEC §3.4)."""
    return await database.write(
        lambda connection: JobRepository(connection).close_interrupted(
            instance_id=instance_id, grace_seconds=OVERDUE_GRACE_SECONDS
        )
    )
