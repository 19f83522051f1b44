"""The admin token: a JWT (HS256, scope `admin`, 168 h) through PyJWT."""

from __future__ import annotations

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


def issue_token(username: str, secret: str, now: datetime) -> tuple[str, TokenClaims]:
    claims = TokenClaims(username=username, issued_at=now, csrf=secrets.token_urlsafe(18))
    payload = {
        "sub": username,
        "scope": SCOPE,
        "iat": int(now.timestamp()),
        "exp": int((now + TOKEN_LIFETIME).timestamp()),
        "csrf": claims.csrf,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM), claims


def read_token(token: str, secret: str) -> TokenClaims | None:
    """The claims of a valid, unexpired admin token; None for anything else."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat", "scope", "csrf"]},
        )
    except jwt.PyJWTError:
        return None
    if payload["scope"] != SCOPE or not isinstance(payload["sub"], str):
        return None
    issued = datetime.fromtimestamp(int(payload["iat"]), tz=UTC)
    return TokenClaims(username=payload["sub"], issued_at=issued, csrf=str(payload["csrf"]))
