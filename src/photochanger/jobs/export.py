"""The job log as CSV, streamed page by page (SPEC §6.4).

Rows come in keyset pages, each page its own short read, so an export of a
million jobs holds one page in memory and no transaction open for minutes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from photochanger.db import Database
from photochanger.jobs.queries import EXPORT_COLUMNS, Cursor, JobLog
from photochanger.jobs.schemas import JobFilter

PAGE_ROWS = 2000
HEADER = [column.key for column in EXPORT_COLUMNS]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV
# injection, OWASP). Failure details and booth metadata carry text from
# providers and booths, so such cells get a leading apostrophe: shown as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str | int:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _lines(rows: list[Row[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


async def csv_stream(database: Database, where: JobFilter) -> AsyncIterator[str]:
    """The header, then every matching job newest first."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(HEADER)
    yield buffer.getvalue()
    after: Cursor | None = None
    while True:

        def read(connection: Connection, after: Cursor | None = after) -> tuple[Any, Any]:
            return JobLog(connection).page(
                where, limit=PAGE_ROWS, after=after, columns=EXPORT_COLUMNS
            )

        rows, after = await database.read(read)
        if rows:
            yield _lines(rows)
        if after is None:
            return
