"""Fixtures of the Turbotext tests: the fake Turbotext (one server per module,
reset by each test), the real app served by uvicorn on the test's loop so the
fake can fetch our provider-media URLs over HTTP, and the started driver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from turbotext_bench import Turbotext

from fakes.turbotext import FakeTurbotext, running_fake
from photochanger.db import SessionFactory
from photochanger.providers.turbotext import TurbotextDriver


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeTurbotext]:
    yield from running_fake()


@pytest.fixture
def fake(fake_server: FakeTurbotext) -> FakeTurbotext:
    fake_server.reset()
    return fake_server


@pytest.fixture
async def public_url(app: FastAPI) -> AsyncIterator[str]:
    """The real app served by uvicorn on this test's loop: the fake fetches our
    provider-media URLs from it over HTTP."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the app did not start under uvicorn"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def turbotext(
    fake: FakeTurbotext, factory: SessionFactory, app: FastAPI, public_url: str
) -> AsyncIterator[Turbotext]:
    driver = TurbotextDriver(fake.base_url + "/")
    await driver.start()
    yield Turbotext(driver, fake, factory, app, public_url)
    await driver.close()
