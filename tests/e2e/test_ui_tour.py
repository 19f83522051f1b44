"""Every page, as a phone and as a desktop, in English and Russian: rendered
without a console error or a 5xx, no horizontal scrolling at 360 px, no serious
or critical axe-core violation, and the language switch remembered."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from e2e_support import (
    DESKTOP,
    PHONE,
    PageProblems,
    WebServer,
    assert_accessible,
    assert_no_horizontal_scroll,
    log_in,
    screenshot,
)

ADMIN_PAGES = ["/", "/slots/slot-001", "/settings", "/jobs", "/stats", "/gallery"]
PUBLIC_PAGES = ["/login", "/pubgallery", "/r/no-such-result"]


async def visit(page: Page, path: str) -> None:
    await page.goto(path)
    await page.wait_for_load_state("networkidle")
    await expect(page.locator("main h1").first).to_be_visible()


def shot_name(path: str, language: str, size: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.strip("/")) or "dashboard"
    return f"tour-{slug}-{language}-{size}"


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_every_page_renders_on_a_phone_and_a_desktop_and_passes_axe(
    browser: Browser, web_server: WebServer, problems: PageProblems, language: str
) -> None:
    for size_name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = await browser.new_context(
            base_url=web_server.base_url,
            viewport=viewport,
            locale="ru-RU" if language == "ru" else "en-GB",
            extra_http_headers={"Accept-Language": "ru-RU,ru" if language == "ru" else "en-GB,en"},
        )
        context.on("page", problems.watch)
        try:
            page = await context.new_page()
            for path in PUBLIC_PAGES:
                await visit(page, path)
                assert await page.get_attribute("html", "lang") == language
                await assert_no_horizontal_scroll(page)
                await assert_accessible(page)
                await screenshot(page, shot_name(path, language, size_name), full_page=False)
            await log_in(context)
            for path in ADMIN_PAGES:
                await visit(page, path)
                assert await page.get_attribute("html", "lang") == language
                await assert_no_horizontal_scroll(page)
                await assert_accessible(page)
                await screenshot(page, shot_name(path, language, size_name), full_page=False)
        finally:
            await context.close()
    problems.assert_clean()


async def test_the_language_switch_is_remembered_across_pages(admin_page: Page) -> None:
    page = admin_page
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Slots", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Русский").click()
    await expect(page.get_by_role("heading", name="Слоты", exact=True)).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await page.get_by_role("link", name="Настройки").click()
    await expect(page.get_by_role("heading", name="Настройки", exact=True)).to_be_visible()
    await screenshot(page, "language-switched-ru")
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()


async def test_a_session_that_ends_sends_the_admin_to_login_and_back(
    admin_page: Page, context: BrowserContext
) -> None:
    page = admin_page
    await page.goto("/?view=event")
    await expect(page.locator("article.slot-card")).to_have_count(15)
    await context.clear_cookies()
    # The dashboard's next refresh is a 401: it goes to login, naming the way back.
    await expect(page).to_have_url(re.compile(r"/login\?next=%2F%3Fview%3Devent$"), timeout=15_000)
    await log_in(context)
    await page.reload()
    await expect(page).to_have_url(re.compile(r"/\?view=event$"))


async def test_logout_ends_the_session(admin_page: Page) -> None:
    page = admin_page
    await page.goto("/")
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.goto("/settings")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Fsettings$"))
