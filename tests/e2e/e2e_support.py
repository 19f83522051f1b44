"""What the browser tests share: the server they run against, the problems a
page must never have, screenshots, and the checks every page passes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.async_api import BrowserContext, ConsoleMessage, Page, Response
from playwright.async_api import Error as PlaywrightError

from support import ADMIN_PASSWORD, ADMIN_USERNAME, INGEST_PASSWORD, free_port

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parents[2] / "build" / "screenshots"
CHROMIUM_ARGS = [
    # As root in a container: no sandbox. The rest keep Chromium off the network
    # (this machine reaches nothing but loopback) and quiet.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}


@dataclass
class WebServer:
    base_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "photochanger", *args],
            env={**server_env(self.data_dir, self.base_url), **self.extra_env},
            input=stdin.encode() if stdin is not None else None,
            capture_output=True,
            check=True,
            timeout=60,
        )
        return result.stdout.decode()


def start_web_server(data_dir: Path, extra_env: dict[str, str] | None = None) -> WebServer:
    """`photochanger serve` on a free loopback port with a fresh SQLite data dir,
    migrated, with the test admin account; returns once /healthz answers.
    `extra_env` adds variables (a provider's base URL pointing at a fake)."""
    data_dir.mkdir(parents=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**server_env(data_dir, base_url), **(extra_env or {})}
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
    server = WebServer(base_url, data_dir, process, log_path, extra_env or {})
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise AssertionError("the server did not start")
        time.sleep(0.1)


def server_env(data_dir: Path, base_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PHOTOCHANGER_ENVIRONMENT": "test",
        "PHOTOCHANGER_DATA_DIR": str(data_dir),
        "PHOTOCHANGER_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'photochanger.db'}",
        "PHOTOCHANGER_INGEST_PASSWORD": INGEST_PASSWORD,
        "PHOTOCHANGER_ENABLE_TEST_PROVIDERS": "true",
        "PHOTOCHANGER_PUBLIC_BASE_URL": base_url,
        "PHOTOCHANGER_LOCAL_WORKERS": "1",
        "PHOTOCHANGER_CLEANUP_ENABLED": "false",
    }


@dataclass
class PageProblems:
    """What a page must never do: log a console error, throw, or get a 5xx."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    allowed_console: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        # A 4xx the page asked for on purpose (a wrong password, a 409, a 422)
        # is logged by Chromium as a failed resource load; the page handles it.
        if re.search(r"status of 4\d\d", text) or any(p.search(text) for p in self.allowed_console):
            return
        self.console_errors.append(text)

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    def assert_clean(self) -> None:
        assert not self.page_errors, self.page_errors
        assert not self.console_errors, self.console_errors
        assert not self.server_errors, self.server_errors


async def log_in(context: BrowserContext) -> None:
    """Log the context in the way the login page does (cookies from /api/login)."""
    answer = await context.request.post(
        "/api/login", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert answer.ok, await answer.text()


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


WIDTH_PROBE = """() => [
  document.documentElement.scrollWidth,
  window.innerWidth,
  [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1
      && getComputedStyle(e).position !== "fixed" && !e.closest(".table-wrap, .offscreen"))
    .slice(0, 5)
    .map((e) => e.outerHTML.slice(0, 120)),
]"""
"""The page's width, the viewport's, and the first elements that stick out."""


async def assert_no_horizontal_scroll(page: Page) -> None:
    widths = await page.evaluate(WIDTH_PROBE)
    scroll_width, viewport, wide = widths
    assert scroll_width <= viewport, f"{page.url}: {scroll_width}px > {viewport}px: {wide}"


async def assert_accessible(page: Page) -> None:
    """0 serious or critical axe-core violations (axe runs inside the page)."""
    from axe_playwright_python.async_playwright import Axe

    try:
        results = await Axe().run(page)
    except PlaywrightError as error:  # pragma: no cover - a broken page, not a pass
        raise AssertionError(f"axe could not run on {page.url}: {error}") from None
    bad = [
        f"{item['id']} ({item['impact']}): {[node['target'] for node in item['nodes']][:5]}"
        for item in results.response["violations"]
        if item["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: {bad}"
