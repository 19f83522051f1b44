"""The job log as CSV, streamed page by page (SPEC §6.4).

Rows come in keyset pages, each page its own short read, so an export of a
million jobs holds one page in memory and no transaction open for minutes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row

from photochanger.db import Database
from photochanger.jobs.queries import EXPORT_COLUMNS, Cursor, JobLog
from photochanger.jobs.schemas import JobFilter
from photochanger.providers.pricing import MICROS

PAGE_ROWS = 2000
EXPORT_NAMES = {"cost_micros": "cost"}
"""Columns the file names otherwise: the cost is an amount of the currency."""
HEADER = [EXPORT_NAMES.get(column.key, column.key) for column in EXPORT_COLUMNS]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV
# injection, OWASP). Failure details and booth metadata carry text from
# providers and booths, so such cells get a leading apostrophe: shown as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def amount_text(micros: int) -> str:
    """Micros of the currency as an exact amount with six decimals."""
    return f"{Decimal(micros) / MICROS:.6f}"


def csv_cell(value: Any) -> str | int:
    """A value as a CSV cell: empty for null, ISO 8601 times, JSON for
    structures, numbers as they are, text that a spreadsheet would run as a
    formula behind an apostrophe."""
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
    for row in rows:
        values = row._asdict()
        if values.get("cost_micros") is not None:
            values["cost_micros"] = amount_text(values["cost_micros"])
        writer.writerow([csv_cell(value) for value in values.values()])
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
