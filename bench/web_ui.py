"""The web UI's weight and the dashboard's cold render (issue 16 §8).

Prints each page's own JS + CSS (its module graph and the stylesheet) and its vendored
files, then starts `photochanger serve` on loopback with a fresh SQLite data dir and,
in Debian's Chromium, measures from navigation to the 15 slot cards drawn with an
empty cache, five times. The baseline in the same run: the same fresh browser context
loading the login shell and its stylesheet alone (one page, one round trip each), so
the ratio says what the dashboard's scripts and three API calls add.

Usage: .venv/bin/python bench/web_ui.py
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

from photochanger.web import endpoints
from photochanger.web.shell import Page
from photochanger.web.weight import PAGE_BUDGET_BYTES, page_weight

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
USER, PASSWORD = "bench", "bench-password-0123"
REPEATS = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def print_weights() -> None:
    pages = {v.name: v for v in vars(endpoints).values() if isinstance(v, Page)}
    print("| page | own JS + CSS | vendored | budget |")
    print("|---|---|---|---|")
    for name, page in sorted(pages.items()):
        weight = page_weight(page)
        verdict = "PASS" if weight.own_bytes < PAGE_BUDGET_BYTES else "FAIL"
        print(
            f"| {name} | {weight.own_bytes / 1024:.1f} KB | {weight.vendor_bytes / 1024:.1f} KB"
            f" | {verdict} |"
        )


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PHOTOCHANGER_DATA_DIR": str(data),
        "PHOTOCHANGER_PUBLIC_BASE_URL": base,
        "PHOTOCHANGER_CLEANUP_ENABLED": "false",
        "PHOTOCHANGER_LOCAL_WORKERS": "1",
    }
    run = [sys.executable, "-m", "photochanger"]
    subprocess.run([*run, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*run, "admin", "create", USER, "--password-stdin"],
        env=env,
        input=PASSWORD.encode(),
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [*run, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


async def measure(base: str) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        dashboard: list[float] = []
        shell: list[float] = []
        for _ in range(REPEATS):
            context = await browser.new_context(base_url=base)  # empty cache each time
            await context.request.post("/api/login", data={"username": USER, "password": PASSWORD})
            page = await context.new_page()
            started = time.perf_counter()
            await page.goto("/login?next=/x", wait_until="load")
            shell.append((time.perf_counter() - started) * 1000)
            await context.close()
            context = await browser.new_context(base_url=base)
            await context.request.post("/api/login", data={"username": USER, "password": PASSWORD})
            page = await context.new_page()
            started = time.perf_counter()
            await page.goto("/")
            await page.locator("article.slot-card").nth(14).wait_for()
            dashboard.append((time.perf_counter() - started) * 1000)
            await context.close()
        await browser.close()
    med_d, med_s = statistics.median(dashboard), statistics.median(shell)
    print(
        f"\ndashboard cold render (navigation to 15 cards): median {med_d:.0f} ms, "
        f"max {max(dashboard):.0f} ms over {REPEATS}  target < 1000 ms: "
        f"{'PASS' if max(dashboard) < 1000 else 'FAIL'}"
    )
    print(
        f"baseline, the login shell and its stylesheet alone: median {med_s:.0f} ms; "
        f"dashboard/baseline {med_d / med_s:.1f}"
    )


def main() -> None:
    print_weights()
    with tempfile.TemporaryDirectory() as tmp:
        server, base = start_server(Path(tmp) / "data")
        try:
            asyncio.run(measure(base))
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
