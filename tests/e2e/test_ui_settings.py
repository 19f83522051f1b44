"""The settings page in Chromium (issue 16): the window and limits saved and kept,
the ingest password shown and changed only after a confirm, provider keys
write-only (an empty field keeps the key, only "Remove" erases it)."""

from __future__ import annotations

import httpx
from playwright.async_api import Dialog, Page, expect

from e2e_support import PHONE, WebServer, assert_accessible, assert_no_horizontal_scroll, screenshot
from support import INGEST_PASSWORD, booth_fields, make_image

GEMINI_KEY = "AIza-test-key-for-the-ui-7781"


async def open_settings(page: Page) -> None:
    await page.goto("/settings")
    await expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()


async def test_the_window_and_limits_are_saved_and_kept(
    admin_page: Page, admin_api: httpx.AsyncClient
) -> None:
    page = admin_page
    await open_settings(page)
    try:
        await page.get_by_role("spinbutton", name="Keep results (hours)").fill("72")
        await page.get_by_role("spinbutton", name="Answer within (seconds)").fill("45")
        await page.get_by_role("button", name="Save", exact=True).click()
        await expect(page.get_by_text("Settings saved.")).to_be_visible()
        await page.reload()
        ttl = page.get_by_role("spinbutton", name="Keep results (hours)")
        await expect(ttl).to_have_value("72")
        window = page.get_by_role("spinbutton", name="Answer within (seconds)")
        await expect(window).to_have_value("45")
        await expect(page.get_by_text("changed").first).to_be_visible()
        await screenshot(page, "settings-desktop")
        await assert_accessible(page)
        await page.set_viewport_size(PHONE)
        await assert_no_horizontal_scroll(page)
        await screenshot(page, "settings-phone")
    finally:
        await admin_api.put(
            "/api/settings", json={"result_ttl_hours": 168, "sync_response_seconds": 48}
        )


async def test_the_ingest_password_changes_only_after_a_confirm(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer
) -> None:
    page = admin_page
    await open_settings(page)
    card = page.locator("form", has=page.get_by_role("heading", name="Ingest password"))
    await expect(card.locator("code.secret")).to_have_text(INGEST_PASSWORD)
    answers: list[bool] = []

    async def answer(dialog: Dialog) -> None:
        answers.append(True)
        # The first time the admin changes their mind, the second time not.
        if len(answers) == 1:
            await dialog.dismiss()
        else:
            await dialog.accept()

    page.on("dialog", answer)
    try:
        await card.get_by_label("New password").fill("new-booth-password")
        await card.get_by_role("button", name="Change the password").click()
        await expect(card.locator("code.secret")).to_have_text(INGEST_PASSWORD)
        assert (await admin_api.get("/api/settings")).json()["ingest_password"][
            "value"
        ] == INGEST_PASSWORD
        await card.get_by_role("button", name="Change the password").click()
        card = page.locator("form", has=page.get_by_role("heading", name="Ingest password"))
        await expect(card.locator("code.secret")).to_have_text("new-booth-password")
        async with httpx.AsyncClient(base_url=web_server.base_url, timeout=60) as booth:
            old = await booth.post(
                "/api/ingest/slot-005",
                data=booth_fields(),
                files={"fileToUpload": ("a.jpg", make_image(), "image/jpeg")},
            )
        assert old.status_code == 401
        assert answers == [True, True]
    finally:
        await admin_api.put("/api/settings", json={"ingest_password": INGEST_PASSWORD})


async def test_provider_keys_are_write_only_and_an_empty_field_keeps_the_key(
    admin_page: Page, admin_api: httpx.AsyncClient
) -> None:
    page = admin_page
    page.on("dialog", lambda dialog: dialog.accept())
    await open_settings(page)
    gemini = page.locator("[data-provider='gemini']")
    try:
        await gemini.get_by_role("textbox", name="Google Gemini").fill(GEMINI_KEY)
        await page.get_by_role("button", name="Save the keys typed").click()
        await expect(gemini.locator(".key-state")).to_contain_text("…7781")
        # The key is never rendered into the page, only its last 4.
        assert GEMINI_KEY not in await page.content()
        await expect(gemini.get_by_role("textbox", name="Google Gemini")).to_have_value("")
        # Saving another provider's key with Gemini's field empty keeps Gemini's.
        openai = page.locator("[data-provider='openai']")
        await openai.get_by_role("textbox", name="OpenAI").fill("sk-test-openai-key-0042")
        await page.get_by_role("button", name="Save the keys typed").click()
        await expect(openai.locator(".key-state")).to_contain_text("…0042")
        keys = (await admin_api.get("/api/settings")).json()["provider_keys"]
        assert keys["gemini"]["configured"] is True
        assert keys["gemini"]["last4"] == "7781"
        await screenshot(page, "settings-keys")
        # Only the explicit button erases.
        await gemini.get_by_role("button", name="Remove the Google Gemini API key").click()
        await expect(gemini.locator(".key-state")).to_contain_text("not set")
        keys = (await admin_api.get("/api/settings")).json()["provider_keys"]
        assert keys["gemini"]["configured"] is False
        assert keys["openai"]["configured"] is True
    finally:
        keys_off = {"provider_keys": {"gemini": None, "openai": None}}
        await admin_api.put("/api/settings", json=keys_off)
