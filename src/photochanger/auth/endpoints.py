from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from photochanger.auth.dependencies import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AdminUser,
    AuthServiceDep,
    bearer_scheme,
    cookie_scheme,
)
from photochanger.dependencies import ConfigDep
from photochanger.errors import (
    InternalError,
    InvalidCredentials,
    InvalidRequest,
    NotAuthenticated,
    RateLimited,
    ValidationFailed,
    error_responses,
)

router = APIRouter(tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(
        min_length=1,
        max_length=64,
        # No control characters: no account has them, and PostgreSQL cannot
        # even store a NUL to count the failure.
        pattern=r"^[^\x00-\x1f\x7f]+$",
    )
    password: str = Field(min_length=1, max_length=1024)


class LoginAnswer(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires (168 h).")
    csrf_token: str = Field(
        description="Send it as `X-CSRF-Token` on changes made with the session cookie."
    )


class WhoAmI(BaseModel):
    username: str


@router.post(
    "/api/login",
    responses=error_responses(
        InvalidRequest, ValidationFailed, InvalidCredentials, RateLimited, InternalError
    ),
)
async def login(
    body: LoginRequest, request: Request, auth: AuthServiceDep, config: ConfigDep
) -> JSONResponse:
    """Log an admin in: a JWT (HS256, scope `admin`, valid 168 h) in the body, and
    the same token as an HttpOnly SameSite=Lax cookie for the web UI.

    Ten failures for a username, or from one IP, within 15 minutes lock further
    attempts for 15 minutes (429 with `retry_after`), on every replica."""
    ip = request.client.host if request.client else "unknown"
    token = await auth.login(body.username, body.password, ip)
    answer = LoginAnswer(
        access_token=token.access_token, expires_in=token.expires_in, csrf_token=token.csrf_token
    )
    response = JSONResponse(answer.model_dump(), headers={"Cache-Control": "no-store"})
    secure = config.public_base_url.startswith("https://")
    response.set_cookie(
        SESSION_COOKIE,
        token.access_token,
        max_age=token.expires_in,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    # Readable by the UI's script, which echoes it in X-CSRF-Token.
    response.set_cookie(
        CSRF_COOKIE, token.csrf_token, max_age=token.expires_in, samesite="lax", secure=secure
    )
    return response


@router.post(
    "/api/logout",
    status_code=204,
    responses=error_responses(InternalError),
    # Credentials are optional here: without them it only clears the cookies.
    openapi_extra={"security": [{}, {"HTTPBearer": []}, {"APIKeyCookie": []}]},
)
async def logout(
    auth: AuthServiceDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Response:
    """End the session: the token sent (Bearer header, else the session cookie)
    is revoked on every replica, and the browser's session cookies are cleared.
    Without a valid token it only clears the cookies."""
    token = bearer.credentials if bearer is not None else cookie
    if token:
        await auth.logout(token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/api/me", responses=error_responses(NotAuthenticated))
async def who_am_i(admin: AdminUser) -> WhoAmI:
    """The admin the token belongs to; 401 when it is missing or no longer valid."""
    return WhoAmI(username=admin.username)
