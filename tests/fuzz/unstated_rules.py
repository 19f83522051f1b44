"""Rules of the API that its OpenAPI document cannot state, as predicates on a
generated case. A case that breaks one may be refused although it matches the
document, so `positive_data_acceptance` ("schema-valid data is accepted") is not
asked of it; every other check still is, and the case is still sent.

Each rule names why JSON Schema cannot say it: a relation between two values, a
value that is only valid once the server handed it out, or bytes whose meaning
is their content."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from schemathesis import Case

from photochanger.errors import PhotoChangerError
from photochanger.media.image_type import SNIFF_BYTES, read_image_header, sniff_image_mime

MAX_TIMESERIES_BUCKETS = 1000


def _query(case: Case) -> Mapping[str, object]:
    return case.query or {}


def _form(case: Case) -> Mapping[str, object]:
    return case.body if isinstance(case.body, dict) else {}


def _opaque_cursor(case: Case) -> str | None:
    # A keyset cursor is valid only as a `next_cursor` the server handed out.
    return "an opaque cursor the server did not hand out" if "cursor" in _query(case) else None


def _too_many_buckets(case: Case) -> str | None:
    # `window_minutes / bucket_minutes` may not exceed 1000: a relation of two values.
    query = _query(case)
    try:
        window = int(str(query.get("window_minutes", 24 * 60)))
        bucket = int(str(query.get("bucket_minutes", 60)))
    except ValueError:
        return None  # not a number: the document's own rule
    if bucket > 0 and window // bucket + 2 > MAX_TIMESERIES_BUCKETS:
        return "more than 1000 buckets"
    return None


def _not_an_image(field: str) -> Callable[[Case], str | None]:
    # `format: binary` cannot say "a JPEG, PNG or WebP by its bytes, not empty".
    def rule(case: Case) -> str | None:
        data = _form(case).get(field)
        if not isinstance(data, bytes) or not data:
            return f"`{field}` is missing or empty (400)"
        try:
            read_image_header(sniff_image_mime(data[:SNIFF_BYTES]), data)
        except PhotoChangerError as refusal:
            return f"`{field}` is not a JPEG, PNG or WebP one can read ({refusal.status_code})"
        return None

    return rule


def _slot_configuration(case: Case) -> str | None:
    # Settings are validated by the model of the provider and operation named
    # beside them, which the server's registry picks at runtime; template media
    # ids are valid only once uploaded.
    body = _form(case)
    named = {"provider", "operation", "settings", "fallback", "template_media"}
    if named & body.keys():
        return "a configuration checked against the provider's own settings model"
    return None


def _slot_payload(case: Case) -> str | None:
    if "slot_payload" in _form(case):
        return "`slot_payload`: a configuration checked against the provider's model"
    return _not_an_image("test_image")(case)


RULES: dict[str, Callable[[Case], str | None]] = {
    "GET /api/jobs": _opaque_cursor,
    "GET /api/stats/timeseries": _too_many_buckets,
    "PUT /api/slots/{slot_id}": _slot_configuration,
    "POST /api/ingest/{slot_id}": _not_an_image("fileToUpload"),
    "POST /api/slots/{slot_id}/test-run": _slot_payload,
    "POST /api/template-media": _not_an_image("file"),
}


def unstated_rule(case: Case) -> str | None:
    """Why this case may be refused though the document allows it, or None."""
    rule = RULES.get(case.operation.label)
    return rule(case) if rule is not None else None
