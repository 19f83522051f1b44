"""`AdminUser`: the dependency every admin route takes (SPEC §6.1); and
`AuthServiceDep`, the service behind it and the login.

A token is accepted from `Authorization: Bearer …` or from the HttpOnly session
cookie the login sets. A state-changing request authenticated by the cookie must
also send `X-CSRF-Token` equal to the token's `csrf` claim (signed double-submit:
the login returns it in its body and in the readable `photochanger_csrf` cookie;
another site can make the browser send the session cookie but cannot read it)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from photochanger.auth.service import Admin, AuthService
from photochanger.dependencies import ServicesDep
from photochanger.errors import CsrfFailed, NotAuthenticated

SESSION_COOKIE = "photochanger_session"
CSRF_COOKIE = "photochanger_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = HTTPBearer(auto_error=False, description="The `access_token` of `POST /api/login`.")
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="Set by `POST /api/login`; changes also need the `X-CSRF-Token` header.",
)


async def get_auth_service(services: ServicesDep) -> AuthService:
    return services.auth


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def require_admin(
    request: Request,
    auth: AuthServiceDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Admin:
    if bearer is not None:
        claims = await auth.authenticate(bearer.credentials)
        return Admin(claims.username)
    if not cookie:
        raise NotAuthenticated("log in first: send the admin token as a Bearer header")
    claims = await auth.authenticate(cookie)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), claims.csrf.encode()):
            raise CsrfFailed(f"a change made with the session cookie needs {CSRF_HEADER}")
    return Admin(claims.username)


AdminUser = Annotated[Admin, Depends(require_admin)]
