"""The admin token: a JWT (HS256, scope `admin`, 168 h) through PyJWT, with a
random `jti` by which a logout revokes it."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
SCOPE = "admin"
TOKEN_LIFETIME = timedelta(hours=168)


@dataclass(frozen=True)
class TokenClaims:
    username: str
    issued_at: datetime
    csrf: str
    """The CSRF token a cookie-authenticated change must echo in `X-CSRF-Token`."""
    token_id: str
    """The `jti`: what a logout records to revoke this token everywhere."""
    expires_at: datetime


def milliseconds(moment: datetime) -> float:
    """A moment as a JWT NumericDate, cut to the millisecond."""
    return math.floor(moment.timestamp() * 1000) / 1000


def issue_token(username: str, secret: str, now: datetime) -> tuple[str, TokenClaims]:
    issued = milliseconds(now)
    expires = datetime.fromtimestamp(issued + TOKEN_LIFETIME.total_seconds(), tz=UTC)
    claims = TokenClaims(
        username=username,
        issued_at=now,
        csrf=secrets.token_urlsafe(18),
        token_id=secrets.token_urlsafe(18),
        expires_at=expires,
    )
    payload = {
        "sub": username,
        "scope": SCOPE,
        # To the millisecond: a token issued in the second a password changed is
        # on the right side of the change.
        "iat": issued,
        "exp": issued + TOKEN_LIFETIME.total_seconds(),
        "csrf": claims.csrf,
        "jti": claims.token_id,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM), claims


def read_token(token: str, secret: str) -> TokenClaims | None:
    """The claims of a valid, unexpired admin token; None for anything else: a
    token signed with another key or algorithm (`alg: none` included, since only
    HS256 is accepted), expired, or missing a claim (a token issued before
    tokens carried a `jti` too: its admin logs in again)."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat", "scope", "csrf", "jti"]},
        )
    except jwt.PyJWTError:
        return None
    if payload["scope"] != SCOPE or not isinstance(payload["sub"], str):
        return None
    return TokenClaims(
        username=payload["sub"],
        issued_at=_moment(payload["iat"]),
        csrf=str(payload["csrf"]),
        token_id=str(payload["jti"])[:64],
        expires_at=_moment(payload["exp"]),
    )


def _moment(value: float) -> datetime:
    """A NumericDate PyJWT accepted, as a datetime; one past year 9999 is kept
    as the last moment a datetime holds."""
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.max.replace(tzinfo=UTC)
