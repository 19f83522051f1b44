"""Ten failed logins for a username, or from an IP, within 15 minutes lock
further attempts for 15 minutes, on every replica (SPEC §6.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, update

from photochanger.app import create_app
from photochanger.config import Settings
from photochanger.db import Database
from photochanger.models import LoginFailure
from photochanger.models.base import utcnow
from support import ADMIN_PASSWORD, ADMIN_USERNAME, assert_error

LOGIN = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
WRONG = {"username": ADMIN_USERNAME, "password": "guess"}


def client_from(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://booth.test")


@pytest.fixture
async def second_replica(config: Settings, app: FastAPI) -> AsyncIterator[FastAPI]:
    replica = create_app(config.model_copy(update={"instance_id": "replica-2"}))
    async with replica.router.lifespan_context(replica):
        yield replica


async def test_ten_failures_lock_the_username_on_every_replica_for_15_minutes(
    app: FastAPI, second_replica: FastAPI, admin_token: str, database: Database
) -> None:
    async with client_from(app, "10.0.0.1") as first, client_from(app, "10.0.0.2") as other_ip:
        for _ in range(10):
            assert_error(await first.post("/api/login", json=WRONG), 401, "invalid_credentials")
        locked = await first.post("/api/login", json=LOGIN)  # even the right password
        body = assert_error(locked, 429, "rate_limited")
        assert 890 <= int(body["retry_after"]) <= 900  # type: ignore[call-overload]
        assert locked.headers["retry-after"] == str(body["retry_after"])
        # The username is locked, from any address.
        assert_error(await other_ip.post("/api/login", json=LOGIN), 429, "rate_limited")
    async with client_from(second_replica, "10.0.0.3") as elsewhere:
        assert_error(await elsewhere.post("/api/login", json=LOGIN), 429, "rate_limited")

    def sixteen_minutes_later(connection: Connection) -> None:
        connection.execute(update(LoginFailure).values(failed_at=utcnow() - timedelta(minutes=16)))

    await database.write(sixteen_minutes_later)
    async with client_from(app, "10.0.0.1") as first:
        assert (await first.post("/api/login", json=LOGIN)).status_code == 200
        # Success forgot the username's failures: one more mistake does not lock.
        assert_error(await first.post("/api/login", json=WRONG), 401, "invalid_credentials")
        assert (await first.post("/api/login", json=LOGIN)).status_code == 200


async def test_ten_failures_from_one_ip_lock_that_ip_for_any_username(
    app: FastAPI, admin_token: str
) -> None:
    async with client_from(app, "10.9.9.9") as attacker, client_from(app, "10.1.1.1") as studio:
        for n in range(10):
            guess = {"username": f"user{n}", "password": "guess"}
            assert_error(await attacker.post("/api/login", json=guess), 401, "invalid_credentials")
        assert_error(await attacker.post("/api/login", json=LOGIN), 429, "rate_limited")
        assert (await studio.post("/api/login", json=LOGIN)).status_code == 200


async def test_failures_spread_over_more_than_15_minutes_do_not_lock(
    app: FastAPI, admin_token: str, database: Database
) -> None:
    async with client_from(app, "10.0.0.5") as booth:
        for _ in range(9):
            await booth.post("/api/login", json=WRONG)

        def age(connection: Connection) -> None:
            connection.execute(
                update(LoginFailure).values(failed_at=utcnow() - timedelta(minutes=20))
            )

        await database.write(age)
        assert_error(await booth.post("/api/login", json=WRONG), 401, "invalid_credentials")
        assert (await booth.post("/api/login", json=LOGIN)).status_code == 200
