"""Request values as the OpenAPI document's JSON Schema reads them.

pydantic's lax mode reads `true` and `"5"` as the integer 1 and 5, `0` as the
date 1970-01-01, `"0.5"` as a time half a second after 1970; the document says
`integer`, `format: date`, `format: date-time`, and the API takes what it says
(a JSON number, `41.0` included, is an integer when it has no fraction). Text
that is stored holds no NUL character, and an update's field that may be left
out but not sent as null is documented so."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Strict

NUL = "\x00"
WITHOUT_NUL = "^[^\\x00]*$"
"""The `pattern` of text that is stored: PostgreSQL refuses a NUL character in
text and JSON (SQLite would keep it), so the API refuses it on both."""

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?")
"""RFC 3339; the time zone is optional here so that a caller can name its
absence in a message of its own."""


def json_number(value: object) -> object:
    """A model's `field_validator(..., mode="before")` of its number fields.
    (Not an `Annotated` type: the limits of an optional field, `Field(ge=…)`,
    would then reach the document as `ge` rather than `minimum`.)"""
    if isinstance(value, str | bool):
        raise ValueError("must be a number")
    return value


def _written(kind: type, pattern: re.Pattern[str], example: str) -> BeforeValidator:
    """Text in `pattern`'s form, or (from Python code, not a request) a `kind`."""

    def check(value: object) -> object:
        if isinstance(value, kind) or (isinstance(value, str) and pattern.fullmatch(value)):
            return value
        raise ValueError(f"must be written like {example}")

    return BeforeValidator(check)


JsonBool = Annotated[bool, Strict()]
JsonDate = Annotated[date, _written(date, DATE, "2026-12-07")]
JsonDateTime = Annotated[datetime, _written(datetime, DATE_TIME, "2026-12-07T10:00:00Z")]


def not_null(schema: dict[str, Any]) -> None:
    """`json_schema_extra` of an update's field that is left out to keep its value
    and refused as null: the document shows the value's own type, without null
    and without the default."""
    (kept,) = [option for option in schema.pop("anyOf") if option.get("type") != "null"]
    schema.pop("default", None)
    schema.update(kept)
