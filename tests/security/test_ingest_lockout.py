"""SECURITY.md T5: the ingest password is compared in constant time, and wrong
passwords are limited per client address — a booth URL is on the open internet.
Ten wrong passwords within 15 minutes lock the address out of the ingest,
right password or not, on every replica; other addresses and right passwords
are never slowed or counted."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from photochanger.app import create_app
from photochanger.config import Settings
from photochanger.db import Database
from photochanger.ingest import validation
from photochanger.ingest.lockout import (
    INGEST_LOCKOUT_FAILURES,
    INGEST_LOCKOUT_WINDOW,
    locked_until,
)
from photochanger.models import IngestFailure, Job
from photochanger.models.base import utcnow
from support import assert_error, booth_fields, make_image

PHOTO = make_image()
ATTACKER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"


def booth(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://booth.test")


async def send(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(password=password),
        files={"fileToUpload": ("p.jpg", PHOTO, "image/jpeg")},
    )


@pytest.fixture
async def attacker(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with booth(app, ATTACKER) as client:
        yield client


async def count(database: Database, model: type[IngestFailure] | type[Job]) -> int:
    query = select(func.count()).select_from(model)
    return int(await database.read(lambda c: c.execute(query).scalar_one()))


async def test_the_tenth_wrong_password_locks_the_address_even_for_the_right_one(
    app: FastAPI, attacker: httpx.AsyncClient, database: Database
) -> None:
    for _ in range(INGEST_LOCKOUT_FAILURES):
        assert_error(await send(attacker, "guess"), 401, "invalid_password")

    refused = await send(attacker, "booth-secret")
    body = assert_error(refused, 429, "rate_limited")
    assert 14 * 60 < int(body["retry_after"]) <= 15 * 60
    assert "password" in str(body["details"])
    assert await count(database, Job) == 0

    async with booth(app, NEIGHBOUR) as neighbour:
        assert (await send(neighbour, "booth-secret")).status_code == 200


async def test_right_passwords_are_never_counted(
    attacker: httpx.AsyncClient, database: Database
) -> None:
    for _ in range(INGEST_LOCKOUT_FAILURES + 2):
        assert (await send(attacker, "booth-secret")).status_code == 200
    assert await count(database, IngestFailure) == 0
    assert_error(await send(attacker, "guess"), 401, "invalid_password")
    assert await count(database, IngestFailure) == 1


async def test_failures_older_than_the_window_do_not_lock(
    attacker: httpx.AsyncClient, database: Database
) -> None:
    for _ in range(INGEST_LOCKOUT_FAILURES - 1):
        await send(attacker, "guess")
    old = utcnow() - INGEST_LOCKOUT_WINDOW - timedelta(minutes=1)
    await database.write(lambda c: c.execute(update(IngestFailure).values(failed_at=old)))
    assert_error(await send(attacker, "guess"), 401, "invalid_password")
    assert (await send(attacker, "booth-secret")).status_code == 200


async def test_a_lock_holds_on_another_replica_from_its_first_wrong_password(
    attacker: httpx.AsyncClient, config: Settings
) -> None:
    for _ in range(INGEST_LOCKOUT_FAILURES):
        await send(attacker, "guess")
    replica = create_app(config.model_copy(update={"instance_id": "replica-2"}))
    async with replica.router.lifespan_context(replica), booth(replica, ATTACKER) as other:
        assert_error(await send(other, "guess"), 401, "invalid_password")
        assert_error(await send(other, "booth-secret"), 429, "rate_limited")


def test_a_lock_ends_fifteen_minutes_after_the_last_of_ten_failures() -> None:
    now = utcnow()

    def spaced(minutes: int) -> list[datetime]:
        return [now - timedelta(minutes=minutes * i) for i in range(INGEST_LOCKOUT_FAILURES)]

    assert locked_until(spaced(1)) == now + INGEST_LOCKOUT_WINDOW
    assert locked_until(spaced(2)) is None  # the ten span 18 minutes
    assert locked_until(spaced(1)[:-1]) is None


def test_the_password_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A spy on `hmac.compare_digest`, calling through: the comparison is the
    library's constant-time one, on every check, right or wrong."""
    seen: list[tuple[bytes, bytes]] = []
    compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(validation.hmac, "compare_digest", spy)
    validation.check_password("booth-secret", "booth-secret")
    with pytest.raises(validation.InvalidPassword):
        validation.check_password("booth-secreT", "booth-secret")
    assert seen == [(b"booth-secret", b"booth-secret"), (b"booth-secreT", b"booth-secret")]
