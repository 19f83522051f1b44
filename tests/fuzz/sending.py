"""How every fuzzed case is sent and judged, and the admin credentials it
carries (schemathesis auth providers: it then knows a case's credentials are
real, takes them away to check that a route needs them, and does not count a
token it generated as broken data when a real one replaced it)."""

from __future__ import annotations

import itertools

from schemathesis import AuthContext, Case
from schemathesis.checks import CheckFunction, positive_data_acceptance

from fuzz.handed_over import checks_aside
from fuzz.target import FuzzTarget, admin_token
from fuzz.unstated_rules import unstated_rule
from photochanger.auth.dependencies import SESSION_COOKIE

_addresses = itertools.count(1)


class AdminBearer:
    """A fresh admin token on every case: a fuzzed logout revokes the token it
    is sent with."""

    def get(self, case: Case, context: AuthContext) -> str:
        return admin_token()

    def set(self, case: Case, data: str, context: AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


class AdminSessionCookie:
    """The web UI's session cookie of a fresh login, without its CSRF token."""

    def get(self, case: Case, context: AuthContext) -> str:
        return admin_token()

    def set(self, case: Case, data: str, context: AuthContext) -> None:
        case.cookies = {**(case.cookies or {}), SESSION_COOKIE: data}


def client_headers() -> dict[str, str]:
    """A client address of its own for each case (`X-Forwarded-For`, which the
    server believes from loopback): the fuzzer sends wrong ingest and login
    passwords by the hundred, and the lockouts (ten per address) would
    otherwise answer 429 to everything after the first few."""
    n = next(_addresses)
    return {"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}


def excluded_checks(case: Case) -> list[CheckFunction]:
    excluded = checks_aside(case)
    if unstated_rule(case) is not None:
        excluded.append(positive_data_acceptance)
    return excluded


def send(case: Case, target: FuzzTarget) -> None:
    """Send `case` to the fuzzed server and run every check on its answer."""
    case.call_and_validate(
        base_url=target.base_url,
        headers=client_headers(),
        excluded_checks=excluded_checks(case),
    )
