"""The admin's job log and job records (SPEC §6.4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Connection

from photochanger.config import Settings
from photochanger.db import Database
from photochanger.errors import JobNotFound, ValidationFailed
from photochanger.jobs.export import csv_stream
from photochanger.jobs.queries import Cursor, InvalidCursor, JobLog
from photochanger.jobs.repository import JobRepository
from photochanger.jobs.schemas import JobDetail, JobFilter, JobPage, JobSummary
from photochanger.models.base import utcnow


class JobService:
    """Reads the job log for the admin: pages, the CSV export and one job's record."""

    def __init__(self, database: Database, config: Settings) -> None:
        self._database = database
        self._public_base_url = config.public_base_url

    async def page(self, where: JobFilter, *, limit: int, cursor: str | None) -> JobPage:
        """A page of the log, newest first, after the page `cursor` ends (422
        for a cursor this list did not hand out)."""
        try:
            after = Cursor.decode(cursor) if cursor is not None else None
        except InvalidCursor as error:
            raise ValidationFailed(
                "the cursor is not valid", [{"field": "query.cursor", "message": str(error)}]
            ) from None

        def read(connection: Connection) -> tuple[list[Any], Cursor | None]:
            return JobLog(connection).page(where, limit=limit, after=after)

        rows, following = await self._database.read(read)
        return JobPage(
            jobs=[JobSummary.of(row) for row in rows],
            next_cursor=following.encode() if following is not None else None,
        )

    def export(self, where: JobFilter) -> AsyncIterator[str]:
        """Every matching job as CSV lines, read page by page while it streams."""
        return csv_stream(self._database, where)

    async def detail(self, job_id: str) -> JobDetail:
        if len(job_id) > 64:
            raise JobNotFound("no such job")
        row = await self._database.read(lambda connection: JobRepository(connection).get(job_id))
        if row is None:
            raise JobNotFound("no such job")
        return JobDetail.of_row(row, public_base_url=self._public_base_url, now=utcnow())
