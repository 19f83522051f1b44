"""SECURITY.md T3: an admin token ends at logout — on every replica, whether
it came as a Bearer header or as the web UI's session cookie — and a token
without the claims of today's tokens is refused."""

from __future__ import annotations

import httpx
import jwt
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.db import Database
from photochanger.models import Setting
from photochanger.models.base import utcnow
from support import ADMIN_PASSWORD, ADMIN_USERNAME, assert_error

LOGIN = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}


async def test_a_bearer_token_is_refused_on_every_replica_after_its_logout(
    client: httpx.AsyncClient, second_replica: httpx.AsyncClient, admin_token: str
) -> None:
    bearer = {"Authorization": f"Bearer {admin_token}"}
    assert (await second_replica.get("/api/me", headers=bearer)).status_code == 200

    assert (await client.post("/api/logout", headers=bearer)).status_code == 204

    assert_error(await client.get("/api/me", headers=bearer), 401, "not_authenticated")
    assert_error(await second_replica.get("/api/me", headers=bearer), 401, "not_authenticated")


async def test_a_logout_ends_only_its_own_token(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    other = (await client.post("/api/login", json=LOGIN)).json()["access_token"]
    await client.post("/api/logout", headers={"Authorization": f"Bearer {admin_token}"})
    still = await client.get("/api/me", headers={"Authorization": f"Bearer {other}"})
    assert still.status_code == 200


async def test_the_session_cookie_is_revoked_not_only_forgotten(
    app: FastAPI, admin_token: str
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://booth.test") as browser:
        assert (await browser.post("/api/login", json=LOGIN)).status_code == 200
        session = browser.cookies["photochanger_session"]
        assert (await browser.get("/api/me")).status_code == 200

        logout = await browser.post("/api/logout")
        assert logout.status_code == 204
        assert "photochanger_session" not in browser.cookies

    # A copy of the cookie taken before the logout opens nothing afterwards.
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://booth.test",
        cookies={"photochanger_session": session},
    ) as stolen:
        assert_error(await stolen.get("/api/me"), 401, "not_authenticated")
        assert (await stolen.get("/settings", follow_redirects=False)).status_code == 303


async def test_logout_without_a_valid_token_only_clears_the_cookies(
    client: httpx.AsyncClient,
) -> None:
    for headers in ({}, {"Authorization": "Bearer not.a.token"}):
        response = await client.post("/api/logout", headers=headers)
        assert response.status_code == 204
        assert "photochanger_session=" in response.headers["set-cookie"]


async def test_a_token_without_a_token_id_is_refused(
    client: httpx.AsyncClient, admin_token: str, database: Database
) -> None:
    """What tokens issued before revocation existed look like: signed with the
    right key, unexpired, but without `jti`, so no logout could end them."""
    assert "jti" in jwt.decode(admin_token, options={"verify_signature": False})
    secret = await database.read(
        lambda c: str(c.execute(select(Setting.value).where(Setting.key == "jwt_secret")).scalar())
    )
    now = int(utcnow().timestamp())
    legacy = jwt.encode(
        {"sub": ADMIN_USERNAME, "scope": "admin", "iat": now, "exp": now + 3600, "csrf": "x"},
        secret,
        algorithm="HS256",
    )
    assert_error(
        await client.get("/api/me", headers={"Authorization": f"Bearer {legacy}"}),
        401,
        "not_authenticated",
    )
