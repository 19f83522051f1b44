"""The web UI in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright's async API so it shares the process with pytest-asyncio).

One `photochanger serve` per test worker on loopback, with its own SQLite data
dir, an admin account and the test providers; each test opens a fresh browser
and context. Every test fails on a console error, an uncaught page error or a
5xx answer; screenshots go to build/screenshots/ for a person to look at."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from e2e_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PageProblems,
    WebServer,
    log_in,
    start_web_server,
)
from fakes.gemini import GeminiFake
from support import ADMIN_PASSWORD, ADMIN_USERNAME


@pytest.fixture(scope="session")
def web_server(
    tmp_path_factory: pytest.TempPathFactory, gemini_server: GeminiFake
) -> Iterator[WebServer]:
    if not Path(CHROMIUM).exists():
        raise pytest.UsageError(f"{CHROMIUM} is missing: run scripts/system-deps.sh")
    # Gemini is the fake on loopback: jobs with a reported usage and a cost
    # (job_data.arrange_spend), a safety refusal, a daily budget reached.
    server = start_web_server(
        tmp_path_factory.mktemp("web") / "data",
        {"PHOTOCHANGER_GEMINI_BASE_URL": gemini_server.base_url},
    )
    yield server
    server.stop()


@pytest.fixture
async def admin_api(web_server: WebServer) -> AsyncIterator[httpx.AsyncClient]:
    """The admin API of the server, with a Bearer token (to arrange data)."""
    async with httpx.AsyncClient(base_url=web_server.base_url, timeout=60) as client:
        answer = await client.post(
            "/api/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
        answer.raise_for_status()
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        client.cookies.clear()
        yield client


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
async def context(
    browser: Browser, web_server: WebServer, problems: PageProblems
) -> AsyncIterator[BrowserContext]:
    """A browser context in English at desktop size; every page it opens is watched."""
    context = await browser.new_context(
        base_url=web_server.base_url, viewport=DESKTOP, locale="en-GB"
    )
    context.on("page", problems.watch)
    yield context
    await context.close()
    problems.assert_clean()


@pytest.fixture
async def admin_page(context: BrowserContext) -> Page:
    """A page of a logged-in admin."""
    await log_in(context)
    return await context.new_page()
