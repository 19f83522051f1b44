"""Jobs for the dashboard, statistics and job-log pages, made the way a booth
makes them: photos posted to the ingest API of slot-009 (the local provider:
done) and slot-010 (echo: done, then told to fail); and, for spend (SPEC §10),
of slot-003 on Gemini — the fake on loopback (conftest.py), which reports its
usage, so each call has a cost: an edit, a safety refusal answered with the
guest's own photo (degraded), then a daily budget reached (degraded, no call).
Only these slots are touched, so other tests' data never mixes in; the shared
server may already hold more of theirs (from a previous test), so tests assert
at least, not exactly."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from playwright.async_api import Browser, Page

from e2e_support import DESKTOP, PageProblems, WebServer, log_in
from fakes import gemini
from fakes.gemini import GeminiFake
from support import booth_fields, make_image

OK_SLOT = "slot-009"
FAILING_SLOT = "slot-010"
OK_NAME = "Garden party"
FAILING_NAME = "Neon wall"
FAILURE_MESSAGE = "the model answered NO_IMAGE"
PAID_SLOT = "slot-003"
PAID_NAME = "Paid portrait"
SAFETY_REASON = "provider_error:IMAGE_SAFETY"
DAILY_BUDGET = 0.01
"""Below one fake Gemini call's cost (about 0.07 USD at the list price): reached
after the first."""
_SEEDS = itertools.count(random.randrange(10**6) * 100)
"""Every photo different: the ingest answers a repeated photo with the first
one's job instead of making a new one."""


@dataclass
class Arranged:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def configure(admin_api: httpx.AsyncClient, slot_id: str, **changes: object) -> None:
    answer = await admin_api.put(f"/api/slots/{slot_id}", json={"active": True, **changes})
    assert answer.status_code == 200, answer.text


async def post_photo(base_url: str, slot_id: str) -> httpx.Response:
    seed = next(_SEEDS)
    async with httpx.AsyncClient(timeout=60) as booth:
        return await booth.post(
            f"{base_url}/api/ingest/{slot_id}",
            data=booth_fields(id=f"IMG_{seed}"),
            files={"fileToUpload": (f"IMG_{seed}.jpg", make_image(seed=seed), "image/jpeg")},
        )


async def arrange_jobs(admin_api: httpx.AsyncClient, base_url: str) -> Arranged:
    """Three photos done by slot-009, two done and two failed by slot-010."""
    arranged = Arranged()
    await configure(
        admin_api,
        OK_SLOT,
        name=OK_NAME,
        provider="local",
        operation="stylize",
        settings={"style": "color_grade", "grade": "warm"},
    )
    await configure(
        admin_api, FAILING_SLOT, name=FAILING_NAME, provider="echo", operation="echo", settings={}
    )
    for slot_id in (OK_SLOT, OK_SLOT, OK_SLOT, FAILING_SLOT, FAILING_SLOT):
        answer = await post_photo(base_url, slot_id)
        assert answer.status_code == 200, answer.text
        arranged.done.append(answer.headers["x-job-id"])
    await configure(
        admin_api,
        FAILING_SLOT,
        settings={"fail_with": FAILURE_MESSAGE, "fail_kind": "permanent"},
    )
    for _ in range(2):
        answer = await post_photo(base_url, FAILING_SLOT)
        assert answer.status_code == 502, answer.text
    # A failure's answer names no job: the job log does.
    log = await admin_api.get(
        "/api/jobs", params={"slot_id": FAILING_SLOT, "status": "failed", "limit": 2}
    )
    assert log.status_code == 200, log.text
    arranged.failed = [job["id"] for job in log.json()["jobs"]]
    return arranged


@dataclass
class Spent:
    edited: str
    """Done with Gemini's edit, costed."""
    refused: str
    """Gemini refused (IMAGE_SAFETY): answered with the guest's photo, costed."""
    over_budget: str
    """The budget reached: Gemini not called, answered with the guest's photo."""


async def arrange_spend(
    admin_api: httpx.AsyncClient, base_url: str, gemini_fake: GeminiFake
) -> Spent:
    """Three photos through slot-003 on the fake Gemini with `on_failure:
    original`; its daily budget is reached at the end (and stays so today)."""
    keys = {"provider_keys": {"gemini": gemini.API_KEY}}
    answer = await admin_api.put("/api/settings", json=keys)
    assert answer.status_code == 200, answer.text
    await configure(
        admin_api,
        PAID_SLOT,
        name=PAID_NAME,
        provider="gemini",
        operation="edit",
        settings={"prompt": "Put the guests on a snowy mountain."},
        on_failure="original",
        daily_budget=None,
    )
    ids = []
    gemini_fake.queue(gemini.success(), gemini.no_image("IMAGE_SAFETY", "Unsafe image."))
    for expected in (None, SAFETY_REASON):
        answer = await post_photo(base_url, PAID_SLOT)
        assert answer.status_code == 200, answer.text
        assert answer.headers.get("x-photochanger-degraded") == expected
        ids.append(answer.headers["x-job-id"])
    await configure(admin_api, PAID_SLOT, daily_budget=DAILY_BUDGET)
    calls = len(gemini_fake.received)
    answer = await post_photo(base_url, PAID_SLOT)
    assert answer.status_code == 200, answer.text
    assert answer.headers.get("x-photochanger-degraded") == "budget"
    assert len(gemini_fake.received) == calls
    return Spent(ids[0], ids[1], answer.headers["x-job-id"])


@asynccontextmanager
async def russian_admin_page(browser: Browser, web_server: WebServer) -> AsyncIterator[Page]:
    """A logged-in admin's page in a browser set to Russian, watched like the
    `context` fixture's."""
    problems = PageProblems()
    context = await browser.new_context(
        base_url=web_server.base_url, viewport=DESKTOP, locale="ru-RU"
    )
    context.on("page", problems.watch)
    try:
        await log_in(context)
        yield await context.new_page()
    finally:
        await context.close()
    problems.assert_clean()
