"""The web UI in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright's async API so it shares the process with pytest-asyncio).

One `photochanger serve` per test worker on loopback, with its own SQLite data
dir, an admin account and the test providers; each test opens a fresh browser
and context. Every test fails on a console error, an uncaught page error or a
5xx answer; screenshots go to build/screenshots/ for a person to look at."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from e2e_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PageProblems,
    WebServer,
    log_in,
    server_env,
)
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from support import ADMIN_PASSWORD, ADMIN_USERNAME, free_port


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    if not Path(CHROMIUM).exists():
        raise pytest.UsageError(f"{CHROMIUM} is missing: run scripts/system-deps.sh")
    data_dir = tmp_path_factory.mktemp("web") / "data"
    data_dir.mkdir()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = server_env(data_dir, base_url)
    run = [sys.executable, "-m", "photochanger"]
    subprocess.run([*run, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    subprocess.run(
        [*run, "admin", "create", ADMIN_USERNAME, "--password-stdin"],
        env=env,
        input=ADMIN_PASSWORD.encode(),
        check=True,
        capture_output=True,
        timeout=60,
    )
    log_path = data_dir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*run, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = WebServer(base_url, data_dir, process, log_path)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the server did not start")
        time.sleep(0.1)
    yield server
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


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
