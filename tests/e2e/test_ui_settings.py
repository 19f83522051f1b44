"""The settings page in Chromium (issue 16): the window and limits saved and kept,
the ingest password shown and changed only after a confirm, provider keys
write-only (an empty field keeps the key, only "Remove" erases it). Issue 17:
the margin before the window for an original-photo answer, and the price table
edited (a price changed, a row added, a row removed), saved whole and kept, a
422 on a price shown on it, in English and Russian, on a desktop and a phone."""

from __future__ import annotations

import httpx
from playwright.async_api import BrowserContext, Dialog, Locator, Page, expect

from e2e_support import (
    DESKTOP,
    PHONE,
    WebServer,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshot,
)
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


async def test_the_margin_for_an_original_photo_is_saved_and_kept(
    admin_page: Page, admin_api: httpx.AsyncClient
) -> None:
    page = admin_page
    await open_settings(page)
    name = "Margin for the original photo (seconds)"
    try:
        margin = page.get_by_role("spinbutton", name=name)
        await expect(margin).to_have_value("3")
        await expect(margin).to_have_attribute("max", "9")
        await margin.fill("5")
        await page.get_by_role("button", name="Save", exact=True).click()
        await expect(page.get_by_text("Settings saved.")).to_be_visible()
        await page.reload()
        await expect(page.get_by_role("spinbutton", name=name)).to_have_value("5")
        view = (await admin_api.get("/api/settings")).json()
        assert view["on_failure_margin_seconds"]["value"] == 5
    finally:
        await admin_api.put("/api/settings", json={"on_failure_margin_seconds": 3})


def price_input(page: Page, model: str, column: str) -> Locator:
    return page.get_by_role("spinbutton", name=f"{model}: {column}", exact=True)


async def test_the_price_table_is_edited_saved_whole_and_kept(
    admin_page: Page, admin_api: httpx.AsyncClient
) -> None:
    page = admin_page
    before = (await admin_api.get("/api/settings")).json()["prices"]
    await open_settings(page)
    card = page.locator("#prices")
    try:
        if before["defaults"]:
            await expect(card).to_contain_text(
                "These are the providers' list prices as of 7 December 2026."
            )
        await expect(card.get_by_label("Currency")).to_have_value(before["value"]["currency"])
        await expect(
            price_input(page, "gemini/gemini-3.1-flash-image", "Output image, per 1M tokens")
        ).to_have_value("60")
        await screenshot(page, "settings-prices-desktop-en")
        # A price changed, a Turbotext row added, a model removed.
        await price_input(page, "openai/gpt-image-1-mini", "Output image, per 1M tokens").fill(
            "9.5"
        )
        await card.get_by_label("Add a model (provider/model)").fill("turbotext/mix_images")
        await card.get_by_role("button", name="Add the row").click()
        added = price_input(page, "turbotext/mix_images", "Per image")
        await expect(added).to_have_value("0")
        await added.fill("0.02")
        # The same key twice is refused before anything is sent.
        await card.get_by_label("Add a model (provider/model)").fill("turbotext/mix_images")
        await card.get_by_role("button", name="Add the row").click()
        await expect(card.locator("tr[data-model='turbotext/mix_images']")).to_have_count(1)
        await card.get_by_label("Add a model (provider/model)").fill("")
        await card.get_by_role(
            "button", name="Remove the prices of openai/gpt-image-1", exact=True
        ).click()
        await expect(card.locator("tr[data-model='openai/gpt-image-1']")).to_have_count(0)
        await card.get_by_role("button", name="Save the prices").click()
        await expect(page.get_by_text("Settings saved.")).to_be_visible()

        saved = (await admin_api.get("/api/settings")).json()["prices"]
        assert saved["defaults"] is False
        assert saved["updated_by"] == "studio"
        models = saved["value"]["models"]
        assert models["openai/gpt-image-1-mini"]["output_image_per_million"] == 9.5
        assert models["turbotext/mix_images"]["per_image"] == 0.02
        assert "openai/gpt-image-1" not in models
        assert (
            models["gemini/gemini-3.1-flash-image"]
            == before["value"]["models"]["gemini/gemini-3.1-flash-image"]
        )

        await page.reload()
        card = page.locator("#prices")
        await expect(
            price_input(page, "openai/gpt-image-1-mini", "Output image, per 1M tokens")
        ).to_have_value("9.5")
        await expect(price_input(page, "turbotext/mix_images", "Per image")).to_have_value("0.02")
        await expect(card.locator("tr[data-model='openai/gpt-image-1']")).to_have_count(0)
        await expect(card).not_to_contain_text("list prices as of")
        await expect(card).to_contain_text("by studio")
        await screenshot(page, "settings-prices-saved")
        await assert_accessible(page)
    finally:
        restore = {"prices": before["value"]}
        (await admin_api.put("/api/settings", json=restore)).raise_for_status()


async def test_a_422_on_a_price_is_shown_on_its_cell(admin_page: Page) -> None:
    page = admin_page
    await open_settings(page)
    card = page.locator("#prices")
    cell = price_input(page, "openai/gpt-image-2", "Per image")
    # Past the browser's own check (max), the server's 422 names the cell.
    await cell.evaluate("input => input.removeAttribute('max')")
    await cell.fill("2000000")
    await card.get_by_role("button", name="Save the prices").click()
    box = card.locator("[data-field='prices.models.openai/gpt-image-2.per_image']")
    await expect(box.locator(".field-error")).to_contain_text("less than or equal to")
    await expect(cell).to_have_attribute("aria-invalid", "true")
    await expect(cell).to_be_focused()
    await screenshot(page, "settings-prices-422")
    # A lower-case currency is made upper case as it is typed.
    currency = card.get_by_label("Currency")
    await currency.fill("eur")
    await expect(currency).to_have_value("EUR")


async def test_the_settings_page_in_both_languages_on_a_phone_and_a_desktop(
    context: BrowserContext, web_server: WebServer, admin_page: Page
) -> None:
    page = admin_page
    texts = {"en": ("Prices", "Save the prices"), "ru": ("Цены", "Сохранить цены")}
    for language, (heading, save) in texts.items():
        await context.add_cookies(
            [{"name": "photochanger_lang", "value": language, "url": web_server.base_url}]
        )
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            await page.set_viewport_size(viewport)
            await page.goto("/settings")
            await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            await expect(page.get_by_role("button", name=save)).to_be_visible()
            await assert_no_horizontal_scroll(page)
            await screenshot(page, f"settings-page-{size}-{language}")
