"""The slot page in Chromium (issue 16): the settings form generated from each
provider's schema, a 422 shown on its field, a template image, a test run with
the result beside the original, save and reload, a 409 from a second tab, and
a warning before leaving with unsaved changes."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.async_api import BrowserContext, Page, expect

from e2e_support import PHONE, assert_accessible, assert_no_horizontal_scroll, screenshot
from support import make_image

SLOT = "/slots/slot-006"


async def open_slot(page: Page, path: str = SLOT) -> None:
    await page.goto(path)
    await expect(page.get_by_role("button", name="Save")).to_be_visible()


async def choose(page: Page, provider: str, operation: str) -> None:
    await page.get_by_label("Provider", exact=True).first.select_option(provider)
    await page.get_by_label("Operation", exact=True).first.select_option(operation)


async def test_the_form_follows_the_schema_of_each_provider(admin_page: Page) -> None:
    page = admin_page
    await open_slot(page)
    settings = page.locator(".provider-block").first
    # local / stylize: an enum as a select, a small range as number + slider.
    await choose(page, "local", "stylize")
    await expect(settings.get_by_label("Style")).to_have_js_property("tagName", "SELECT")
    strength = settings.get_by_role("spinbutton", name="Strength")
    await expect(strength).to_have_attribute("type", "number")
    await expect(strength).to_have_attribute("max", "1")
    await expect(settings.locator("input[type=range]")).to_have_count(2)
    # local / background_replace: #RRGGBB as a colour input, a boolean as a switch.
    await choose(page, "local", "background_replace")
    await expect(settings.get_by_label("Colour", exact=True)).to_have_attribute("type", "color")
    await expect(settings.get_by_role("switch", name="Refine edges")).to_be_checked()
    # gemini: long text as a textarea, anyOf [enum, null] with a default choice,
    # a list of enums as checkboxes.
    await choose(page, "gemini", "edit")
    await expect(settings.get_by_label("Prompt")).to_have_js_property("tagName", "TEXTAREA")
    ratio = settings.get_by_label("Aspect ratio")
    await expect(ratio.locator("option").first).to_have_text("— default —")
    await expect(settings.get_by_role("group", name="Response modalities")).to_be_visible()
    await screenshot(page, "slot-gemini-form")
    # openai and turbotext render too, with their own fields.
    await choose(page, "openai", "edit")
    await expect(settings.get_by_label("Quality")).to_be_visible()
    await choose(page, "turbotext", "generate_image2image")
    await expect(settings.get_by_role("spinbutton", name="Strength")).to_have_attribute("max", "80")
    await assert_accessible(page)


async def test_a_422_is_shown_on_the_field_it_names_and_nothing_typed_is_lost(
    admin_page: Page,
) -> None:
    page = admin_page
    await open_slot(page, "/slots/slot-007")
    await choose(page, "openai", "edit")
    settings = page.locator(".provider-block").first
    await settings.get_by_label("Prompt").fill("Put them on a beach at sunset")
    # A transparent background needs png/webp: the model refuses it as a whole.
    await settings.get_by_label("Background").select_option("transparent")
    await settings.get_by_label("Output format").select_option("jpeg")
    await page.get_by_role("button", name="Save").click()
    top = settings.locator(".schema-form > .form-error")
    await expect(top).to_be_visible()
    await expect(settings.get_by_label("Prompt")).to_have_value("Put them on a beach at sunset")
    await screenshot(page, "slot-422-model")
    # A field's own error lands on that field: Gemini needs IMAGE among the
    # response modalities, which only the server knows.
    await choose(page, "gemini", "edit")
    await settings.get_by_label("Prompt").fill("Put them on a beach at sunset")
    await settings.get_by_label("Text", exact=True).check()
    await page.get_by_role("button", name="Save").click()
    field = settings.locator("[data-field='response_modalities']")
    await expect(field.locator(".field-error")).to_contain_text('must be ["IMAGE"]')
    await expect(field.get_by_label("Text", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(settings.get_by_label("Prompt")).to_have_value("Put them on a beach at sunset")
    await screenshot(page, "slot-422-field")
    await settings.get_by_label("Image", exact=True).check()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text(re.compile(r"Saved \(version \d+\)"))).to_be_visible()


async def test_a_test_run_shows_the_result_beside_the_original(
    admin_page: Page, tmp_path: Path
) -> None:
    page = admin_page
    await open_slot(page, "/slots/slot-008")
    await choose(page, "local", "stylize")
    photo = tmp_path / "guest.jpg"
    photo.write_bytes(make_image(size=(480, 360)))
    await page.get_by_label("Test photo").set_input_files(str(photo))
    await page.get_by_role("button", name="Test", exact=True).click()
    await expect(page.get_by_text(re.compile(r"Done in [\d.]+ s\."))).to_be_visible(timeout=60_000)
    images = page.locator(".side-by-side img")
    await expect(images).to_have_count(2)
    assert await images.nth(1).evaluate("img => img.complete && img.naturalWidth > 0")
    await screenshot(page, "slot-test-run")
    await page.set_viewport_size(PHONE)
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "slot-test-run-phone", full_page=False)


async def test_save_reload_and_a_conflict_from_a_second_tab(
    admin_page: Page, context: BrowserContext, admin_api: httpx.AsyncClient
) -> None:
    page = admin_page
    await open_slot(page, "/slots/slot-013")
    await page.get_by_label("Name").fill("Wedding photo wall")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text(re.compile(r"Saved \(version \d+\)"))).to_be_visible()
    await page.reload()
    await expect(page.get_by_label("Name")).to_have_value("Wedding photo wall")

    second = await context.new_page()
    await open_slot(second, "/slots/slot-013")
    await second.get_by_label("Name").fill("Saved in the second tab")
    await second.get_by_role("button", name="Save").click()
    await expect(second.get_by_text(re.compile(r"Saved \(version \d+\)"))).to_be_visible()

    await page.get_by_label("Name").fill("Saved in the first tab")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text(re.compile("Someone else saved this slot"))).to_be_visible()
    await screenshot(page, "slot-409")
    stored = (await admin_api.get("/api/slots/slot-013")).json()
    assert stored["name"] == "Saved in the second tab"
    await page.get_by_role("button", name="Reload").click()
    await expect(page.get_by_label("Name")).to_have_value("Saved in the second tab")


async def test_leaving_with_unsaved_changes_asks_first(admin_page: Page) -> None:
    page = admin_page
    await open_slot(page, "/slots/slot-015")
    await page.get_by_label("Name").fill("Half-typed name")
    dialogs: list[str] = []

    async def dismiss(dialog: object) -> None:
        dialogs.append(dialog.type)  # type: ignore[attr-defined]
        await dialog.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", dismiss)
    await page.get_by_role("link", name="Statistics").click()
    await expect(page).to_have_url(re.compile("/slots/slot-015$"))
    assert dialogs == ["beforeunload"]


async def test_a_template_image_is_uploaded_previewed_saved_and_removed(
    admin_page: Page, admin_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    page = admin_page
    await open_slot(page, "/slots/slot-014")
    await choose(page, "local", "background_replace")
    zone = page.locator(".zone[data-role='background']")
    await expect(zone).to_be_visible()
    # Gemini reads several roles; the local background replace only this one.
    await expect(page.locator(".zone")).to_have_count(1)
    backdrop = tmp_path / "beach.png"
    backdrop.write_bytes(make_image("PNG", size=(640, 400), seed=7))
    await zone.locator("input[type=file]").set_input_files(str(backdrop))
    preview = zone.locator("img.zone-image")
    await expect(preview).to_be_visible()
    assert await preview.evaluate("img => img.complete && img.naturalWidth > 0")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text(re.compile(r"Saved \(version \d+\)"))).to_be_visible()
    stored = (await admin_api.get("/api/slots/slot-014")).json()
    assert [item["role"] for item in stored["template_media"]] == ["background"]
    await screenshot(page, "slot-template")
    await page.reload()
    zone = page.locator(".zone[data-role='background']")
    await expect(zone.locator("img.zone-image")).to_be_visible()
    await zone.get_by_role("button", name="Remove the image Background").click()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text(re.compile(r"Saved \(version \d+\)"))).to_be_visible()
    stored = (await admin_api.get("/api/slots/slot-014")).json()
    assert stored["template_media"] == []
