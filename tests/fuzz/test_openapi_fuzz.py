"""Schemathesis against the app's own OpenAPI document (issue 19): every
operation, once without credentials (an admin route must answer its documented
401), once with an admin's Bearer token and, for every admin change, once with
the web UI's session cookie but no CSRF token (a documented 403); with all of
schemathesis' checks — no 500, no status, content type, header or body outside the document, invalid
input refused and valid input taken — except those set aside in
handed_over.py and unstated_rules.py, each with its reason. Each operation runs
schemathesis' example, coverage (boundaries, missing and wrong-typed values,
other methods) and fuzzing phases; run_profile.py sets how many cases.

The app runs as `photochanger serve` (uvicorn, a real socket; target.py), not
in-process: schemathesis' ASGI transport is Starlette's synchronous TestClient,
which runs each request on an event loop of its own, while the app's engine,
pools and lifespan belong to the one loop they were made on; a real server also
fuzzes what a booth meets, the HTTP parser and the streaming multipart reader
included. The document is `create_app().openapi()`, what `/openapi.json`
serves, read at collection so that each operation is a test of its own.

Every admin case carries a fresh token (sending.py): a fuzzed `POST /api/logout`
revokes the token it is sent with. The ingest is fuzzed here like every route (its multipart
body generated from the document); test_booth_fuzz.py sends it real photos."""

from __future__ import annotations

from schemathesis import Case

from fuzz.document import SCHEMA
from fuzz.handed_over import COOKIE_PASS_ASIDE
from fuzz.sending import AdminBearer, AdminSessionCookie, send
from fuzz.target import FuzzTarget


@SCHEMA.parametrize()
def test_anonymous(case: Case, fuzz_target: FuzzTarget) -> None:
    send(case, fuzz_target)


@SCHEMA.parametrize()
@SCHEMA.auth(AdminBearer, refresh_interval=None)
def test_admin(case: Case, fuzz_target: FuzzTarget) -> None:
    send(case, fuzz_target)


ADMIN_CHANGES = (
    SCHEMA.exclude(method=["GET", "HEAD", "OPTIONS"])
    .exclude(func=lambda context: "security" not in context.operation.definition.raw)
    .exclude(name=list(COOKIE_PASS_ASIDE))
)
"""The operations that change something and need an admin."""


@ADMIN_CHANGES.parametrize()
@SCHEMA.auth(AdminSessionCookie, refresh_interval=None)
def test_session_cookie_without_csrf_token(case: Case, fuzz_target: FuzzTarget) -> None:
    """The web UI's session cookie without the `X-CSRF-Token` a change made with
    it needs: every change an admin may make must answer its documented 403
    (`csrf_failed`)."""
    send(case, fuzz_target)
