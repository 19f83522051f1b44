"""POST /api/login, the admin token, the session cookie and its CSRF check
(SPEC §6.1)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, select, update

from photochanger.auth.dependencies import AdminUser
from photochanger.auth.service import JWT_SECRET_SETTING, delete_account, set_account_password
from photochanger.db import Database
from photochanger.models import AdminAccount, Setting
from photochanger.models.base import utcnow
from support import ADMIN_PASSWORD, ADMIN_USERNAME, assert_error

LOGIN = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}


def stored_secret(connection: Connection) -> str:
    return str(
        connection.execute(select(Setting.value).where(Setting.key == JWT_SECRET_SETTING)).scalar()
    )


async def test_login_answers_a_168_hour_admin_jwt_and_sets_the_cookies(
    client: httpx.AsyncClient, admin_token: str, database: Database
) -> None:
    response = await client.post("/api/login", json=LOGIN)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 168 * 3600
    claims = jwt.decode(
        body["access_token"], await database.read(stored_secret), algorithms=["HS256"]
    )
    assert claims["sub"] == ADMIN_USERNAME
    assert claims["scope"] == "admin"
    assert claims["exp"] - claims["iat"] == 168 * 3600
    assert claims["csrf"] == body["csrf_token"]
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("photochanger_session="))
    assert "HttpOnly" in session
    assert "SameSite=lax" in session
    assert body["access_token"] in session
    csrf = next(c for c in cookies if c.startswith("photochanger_csrf="))
    assert "HttpOnly" not in csrf
    assert response.headers["cache-control"] == "no-store"


async def test_wrong_password_and_unknown_user_get_the_same_401(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    wrong = await client.post("/api/login", json={**LOGIN, "password": "not-it"})
    unknown = await client.post("/api/login", json={"username": "nobody", "password": "x"})
    assert_error(wrong, 401, "invalid_credentials")
    assert_error(unknown, 401, "invalid_credentials")
    assert wrong.json()["details"] == unknown.json()["details"]
    assert "set-cookie" not in wrong.headers


async def test_a_malformed_login_is_a_422_with_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/login", json={"username": ""})
    assert_error(response, 422, "validation_error")
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"username", "password"}


async def test_admin_routes_take_a_bearer_token_and_refuse_bad_ones(
    client: httpx.AsyncClient, admin_token: str, database: Database
) -> None:
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {admin_token}"})
    assert me.status_code == 200
    assert me.json() == {"username": ADMIN_USERNAME}

    assert_error(await client.get("/api/me"), 401, "not_authenticated")
    secret = await database.read(stored_secret)
    now = utcnow()
    forged = {
        "other key": jwt.encode(
            {
                "sub": ADMIN_USERNAME,
                "scope": "admin",
                "iat": 1,
                "exp": 2**40,
                "csrf": "x",
                "jti": "y",
            },
            "another-secret-of-at-least-32-bytes!",
            algorithm="HS256",
        ),
        "expired": jwt.encode(
            {
                "sub": ADMIN_USERNAME,
                "scope": "admin",
                "iat": int((now - timedelta(hours=200)).timestamp()),
                "exp": int((now - timedelta(hours=32)).timestamp()),
                "csrf": "x",
                "jti": "y",
            },
            secret,
            algorithm="HS256",
        ),
        "wrong scope": jwt.encode(
            {"sub": ADMIN_USERNAME, "scope": "guest", "iat": 1, "exp": 2**40, "csrf": "x"},
            secret,
            algorithm="HS256",
        ),
        "unsigned": jwt.encode(
            {
                "sub": ADMIN_USERNAME,
                "scope": "admin",
                "iat": 1,
                "exp": 2**40,
                "csrf": "x",
                "jti": "y",
            },
            None,
            algorithm="none",
        ),
        "garbage": "not.a.token",
    }
    for name, token in forged.items():
        response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name


async def test_a_password_change_or_deleted_account_ends_old_tokens(
    client: httpx.AsyncClient, admin_token: str, database: Database
) -> None:
    def backdate(connection: Connection) -> None:
        connection.execute(
            update(AdminAccount).values(password_changed_at=utcnow() - timedelta(minutes=10))
        )

    await database.write(backdate)
    five_minutes_old = jwt.encode(
        {
            "sub": ADMIN_USERNAME,
            "scope": "admin",
            "iat": int((utcnow() - timedelta(minutes=5)).timestamp()),
            "exp": 2**40,
            "csrf": "x",
            "jti": "five-minutes-old",
        },
        await database.read(stored_secret),
        algorithm="HS256",
    )
    headers = {"Authorization": f"Bearer {five_minutes_old}"}
    assert (await client.get("/api/me", headers=headers)).status_code == 200

    await set_account_password(database, ADMIN_USERNAME, "a-new-password")
    assert_error(await client.get("/api/me", headers=headers), 401, "not_authenticated")
    assert_error(await client.post("/api/login", json=LOGIN), 401, "invalid_credentials")
    login = await client.post(
        "/api/login", json={"username": ADMIN_USERNAME, "password": "a-new-password"}
    )
    fresh = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/me", headers=fresh)).status_code == 200

    await delete_account(database, ADMIN_USERNAME)
    assert_error(await client.get("/api/me", headers=fresh), 401, "not_authenticated")


@pytest.fixture
async def probe_app(app: FastAPI) -> FastAPI:
    """The real app with one state-changing admin route, to try the CSRF rule on."""

    @app.post("/api/test-only/probe")
    async def probe(admin: AdminUser) -> dict[str, str]:
        return {"admin": admin.username}

    return app


async def test_cookie_sessions_work_and_changes_need_the_csrf_header(
    probe_app: FastAPI, admin_token: str
) -> None:
    transport = httpx.ASGITransport(app=probe_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://booth.test") as browser:
        login = await browser.post("/api/login", json=LOGIN)
        assert login.status_code == 200
        csrf = browser.cookies["photochanger_csrf"]
        assert csrf == login.json()["csrf_token"]
        assert (await browser.get("/api/me")).json() == {"username": ADMIN_USERNAME}

        assert_error(await browser.post("/api/test-only/probe"), 403, "csrf_failed")
        wrong = await browser.post("/api/test-only/probe", headers={"X-CSRF-Token": "guess"})
        assert_error(wrong, 403, "csrf_failed")
        right = await browser.post("/api/test-only/probe", headers={"X-CSRF-Token": csrf})
        assert right.json() == {"admin": ADMIN_USERNAME}

        logout = await browser.post("/api/logout")
        assert logout.status_code == 204
        assert "photochanger_session" not in browser.cookies
        assert_error(await browser.get("/api/me"), 401, "not_authenticated")


async def test_a_bearer_request_needs_no_csrf_header(probe_app: FastAPI, admin_token: str) -> None:
    transport = httpx.ASGITransport(app=probe_app)
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://booth.test", headers=headers
    ) as api:
        assert (await api.post("/api/test-only/probe")).status_code == 200
