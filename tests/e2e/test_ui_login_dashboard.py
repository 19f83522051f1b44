"""Login and the dashboard in Chromium (issue 16): wrong password first, back to
the page asked for, the 15 slots with their ingest URLs, text escaped, photos
arriving while the page is open; today's spend and a slot at its daily budget
flagged (issue 17)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from e2e_support import (
    PHONE,
    WebServer,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshot,
    start_web_server,
)
from fakes.gemini import GeminiFake
from job_data import DAILY_BUDGET, PAID_NAME, PAID_SLOT, arrange_spend, russian_admin_page
from support import ADMIN_PASSWORD, ADMIN_USERNAME, INGEST_PASSWORD, booth_fields, make_image

HOSTILE_NAME = "<img src=x onerror=alert(1)>"


async def test_login_refuses_a_wrong_password_then_returns_to_the_page_asked_for(
    context: BrowserContext,
) -> None:
    page = await context.new_page()
    await page.goto("/?from=bookmark")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2F%3Ffrom%3Dbookmark$"))
    await page.get_by_label("Username").fill(ADMIN_USERNAME)
    await page.get_by_label("Password", exact=True).fill("not-the-password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    await screenshot(page, "login-wrong-password")
    await assert_accessible(page)

    password = page.get_by_label("Password", exact=True)
    await page.get_by_label("Show password").check()
    assert await password.get_attribute("type") == "text"
    await password.fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile(r"/\?from=bookmark$"))
    await expect(page.get_by_role("heading", name="Slots", exact=True)).to_be_visible()


async def test_login_page_refuses_to_send_the_admin_to_another_site(
    context: BrowserContext,
) -> None:
    page = await context.new_page()
    await page.goto("/login?next=//example.com/phish")
    await page.get_by_label("Username").fill(ADMIN_USERNAME)
    await page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Slots", exact=True)).to_be_visible()
    assert page.url.rstrip("/") == context_base(page)


def context_base(page: Page) -> str:
    return re.sub(r"^(https?://[^/]+).*$", r"\1", page.url)


async def test_dashboard_shows_the_15_slots_with_escaped_names_and_the_booth_password(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer
) -> None:
    (await admin_api.put("/api/slots/slot-014", json={"name": HOSTILE_NAME})).raise_for_status()
    page = admin_page
    alerts: list[str] = []
    page.on("dialog", lambda dialog: alerts.append(dialog.message))
    await page.goto("/")
    cards = page.locator("article.slot-card")
    await expect(cards).to_have_count(15)
    hostile = page.locator("[data-slot='slot-014']")
    await expect(hostile.get_by_role("link")).to_have_text(HOSTILE_NAME)
    assert await hostile.locator("img").count() == 0
    assert alerts == []
    first = page.locator("[data-slot='slot-001']")
    await expect(first.locator("code.url")).to_have_text(
        f"{web_server.base_url}/api/ingest/slot-001"
    )
    await expect(page.locator(".booth code.secret")).to_have_text(INGEST_PASSWORD)
    await screenshot(page, "dashboard-desktop")
    await assert_accessible(page)

    await page.set_viewport_size(PHONE)
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "dashboard-phone")


async def test_dashboard_shows_a_photo_arriving_without_a_reload(
    admin_page: Page, web_server: WebServer
) -> None:
    page = admin_page
    await page.goto("/")
    card = page.locator("[data-slot='slot-005']")
    await expect(card).to_be_visible()
    async with httpx.AsyncClient(timeout=60) as booth:
        answer = await booth.post(
            f"{web_server.base_url}/api/ingest/slot-005",
            data=booth_fields(),
            files={"fileToUpload": ("IMG_0001.jpg", make_image(), "image/jpeg")},
        )
    assert answer.status_code == 200, answer.text
    # The page polls every 5 s: the card shows the new photo without a reload.
    await expect(card.locator(".pill.done")).to_have_text("done", timeout=15_000)
    await expect(card.locator(".last time")).to_be_visible()


async def test_dashboard_shows_todays_spend_and_flags_a_slot_at_its_daily_budget(
    admin_page: Page,
    admin_api: httpx.AsyncClient,
    web_server: WebServer,
    gemini_fake: GeminiFake,
    browser: Browser,
) -> None:
    await arrange_spend(admin_api, web_server.base_url, gemini_fake)
    listed = (await admin_api.get("/api/slots")).json()
    assert listed["currency"] == "USD"
    assert listed["spent_today"] > 0
    page = admin_page
    await page.goto("/")
    spend = page.locator(".spend-card")
    await expect(spend.get_by_role("heading", name="Spent today")).to_be_visible()
    # The total of every slot today, in the price table's currency.
    await expect(spend.locator(".stat-value")).to_have_text(re.compile(r"^\$\d+\.\d{2,4}$"))
    await expect(spend.locator(".stat-value")).not_to_have_text("$0.00")
    await expect(spend).to_contain_text(re.compile(r"Slots at their daily budget: [1-9]"))
    paid = page.locator(f"[data-slot='{PAID_SLOT}']")
    await expect(paid.get_by_role("link")).to_have_text(PAID_NAME)
    await expect(paid.locator(".spend")).to_have_text(
        re.compile(rf"^Spent today: \$0\.\d+ of \${DAILY_BUDGET:.2f}$")
    )
    await expect(paid.locator(".budget-flag")).to_have_text(
        "Daily budget reached — answering without the paid provider"
    )
    # A slot that spent nothing today says nothing about money.
    await expect(page.locator("[data-slot='slot-002'] .spend")).to_have_count(0)
    await expect(page.locator(".budget-flag")).not_to_have_count(0)
    await paid.scroll_into_view_if_needed()
    await screenshot(page, "dashboard-spend-desktop", full_page=False)
    await assert_accessible(page)
    await page.set_viewport_size(PHONE)
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "dashboard-spend-phone")

    await spend.get_by_role("link", name="Spend per slot and day").click()
    await expect(page).to_have_url(re.compile(r"/stats\?window=1440#spend$"))
    await expect(page.locator("#spend tr[data-slot='slot-003']")).to_be_visible()

    async with russian_admin_page(browser, web_server) as russian:
        await russian.goto("/")
        await expect(russian.locator(".spend-card h2")).to_have_text("Потрачено сегодня")
        card = russian.locator(f"[data-slot='{PAID_SLOT}']")
        await expect(card.locator(".budget-flag")).to_have_text(
            "Дневной бюджет исчерпан — ответы без платного провайдера"
        )
        await expect(card.locator(".spend")).to_contain_text("из 0,01 $")
        await screenshot(russian, "dashboard-spend-ru-desktop")
        await russian.set_viewport_size(PHONE)
        await assert_no_horizontal_scroll(russian)
        await card.scroll_into_view_if_needed()
        await screenshot(russian, "dashboard-spend-ru-phone", full_page=False)


@pytest.fixture
def lockable_server(tmp_path: Path) -> Iterator[WebServer]:
    """A server of its own: locking out an IP must not lock the other tests out."""
    server = start_web_server(tmp_path / "data")
    yield server
    server.stop()


async def test_a_locked_out_login_says_for_how_many_minutes(
    browser: Browser, lockable_server: WebServer
) -> None:
    context = await browser.new_context(base_url=lockable_server.base_url)
    try:
        page = await context.new_page()
        await page.goto("/login")
        await page.get_by_label("Username").fill(ADMIN_USERNAME)
        for _ in range(10):
            await page.get_by_label("Password", exact=True).fill("wrong")
            await page.get_by_role("button", name="Log in").click()
            await expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
            await page.evaluate("document.querySelector('[role=alert]').hidden = true")
        await page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("alert")).to_have_text(
            re.compile(r"Too many failed attempts: logging in is locked for 1[45] min\.")
        )
        await screenshot(page, "login-locked")
    finally:
        await context.close()
