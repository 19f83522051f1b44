"""The app's own OpenAPI document, loaded into schemathesis with this run's
size (run_profile.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.schemas import OpenApiSchema

from fuzz.run_profile import PROFILE
from fuzz.target import fuzz_settings
from photochanger.app import create_app

PROVIDER_ANSWERS = ["2xx", "3xx", "4xx", "502", "503", "504"]
"""What the booth contract answers (SPEC §3.2) besides a fault: 502 the provider
failed, 503 it is not configured, 504 the sync window ran out. Only a 500 is the
server's own fault; the fuzzer reaches these when it reconfigures a slot."""

PHOTO_OPERATIONS = ("POST /api/ingest/{slot_id}", "POST /api/slots/{slot_id}/test-run")


def app_document() -> dict[str, Any]:
    """What `/openapi.json` serves. It does not depend on the database: the app
    is built, never started."""
    config = fuzz_settings(Path("/nonexistent"), "sqlite+aiosqlite:///:memory:")
    return create_app(config).openapi()


def fuzz_config(*, fuzzing_only: bool = False) -> SchemathesisConfig:
    data: dict[str, Any] = {
        # Hypothesis' example database would replay old failures into `make test`.
        "generation": {"max-examples": PROFILE.examples, "database": "none"},
        "operations": [
            {
                "include-name": name,
                "checks": {"not_a_server_error": {"expected-statuses": PROVIDER_ANSWERS}},
            }
            for name in PHOTO_OPERATIONS
        ],
    }
    if fuzzing_only:
        data["phases"] = {"examples": {"enabled": False}, "coverage": {"enabled": False}}
        # Valid data only: such a test replaces parts of each case, which would
        # leave a negative case's record of what it broke untrue.
        data["generation"]["mode"] = "positive"
    if PROFILE.seed is not None:
        data["seed"] = PROFILE.seed
    return SchemathesisConfig.from_dict(data)


DOCUMENT = app_document()
SCHEMA: OpenApiSchema = schemathesis.openapi.from_dict(DOCUMENT, config=fuzz_config())
FUZZING_SCHEMA: OpenApiSchema = schemathesis.openapi.from_dict(
    DOCUMENT, config=fuzz_config(fuzzing_only=True)
)
"""For tests that draw values of their own (`@given`), which schemathesis runs
in its fuzzing phase only, and that replace parts of each case."""


def only(schema: OpenApiSchema, *names: str) -> OpenApiSchema:
    """`schema` with just these operations. (Not `include(name=…)`: the
    per-operation section of `fuzz_config` adds an include of its own, and
    schemathesis keeps an operation that any include takes.)"""
    return schema.exclude(func=lambda context: context.operation.label not in names)
