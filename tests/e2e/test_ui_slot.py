"""The slot page in Chromium (issue 16): the settings form generated from each
provider's schema, a 422 shown on its field, a template image, a test run with
the result beside the original, save and reload, a 409 from a second tab, and
a warning before leaving with unsaved changes. Issue 17: `on_failure`, the
largest photo sent, `keep_metadata` and `daily_budget` saved and kept, a 422 on
the budget, and a test run answered with the guest's original photo shown as
degraded, in English and Russian, on a desktop and a phone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from playwright.async_api import BrowserContext, Page, expect

from e2e_support import (
    DESKTOP,
    PHONE,
    WebServer,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshot,
)
from support import make_image

SLOT = "/slots/slot-006"
POLICY_SLOT = "slot-004"
"""No other browser test uses it: its budget and test runs disturb nobody's counts."""


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


async def test_the_failure_answer_photo_limit_privacy_and_budget_are_saved_and_kept(
    admin_page: Page, admin_api: httpx.AsyncClient
) -> None:
    page = admin_page
    await open_slot(page, f"/slots/{POLICY_SLOT}")
    try:
        # Both answers are explained, with the header and the margin before the window.
        original = page.get_by_role("radio", name="The guest's original photo")
        await expect(page.get_by_role("radio", name="An error")).to_be_checked()
        await expect(page.locator(".radio-choices")).to_contain_text("X-PhotoChanger-Degraded")
        await expect(page.locator(".radio-choices")).to_contain_text(
            "3 s before the 48 s answer window closes"
        )
        await original.check()
        await page.get_by_label("Largest photo sent to the provider (megapixels)").fill("2.5")
        keep = page.get_by_role("switch", name="Keep the guest photo's metadata in results")
        await expect(keep).not_to_be_checked()
        await expect(page.locator("[data-field='keep_metadata'] .help")).to_contain_text("GPS")
        await keep.check()
        budget = page.get_by_label("Daily budget (USD)")
        await expect(budget).to_have_attribute("placeholder", "no budget")
        await budget.fill("12.5")
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_text(re.compile(r"Saved \(version \d+\)"))).to_be_visible()
        stored = (await admin_api.get(f"/api/slots/{POLICY_SLOT}")).json()
        assert stored["on_failure"] == "original"
        assert stored["max_input_megapixels"] == 2.5
        assert stored["keep_metadata"] is True
        assert stored["daily_budget"] == 12.5

        await page.reload()
        await expect(page.get_by_role("radio", name="The guest's original photo")).to_be_checked()
        await expect(
            page.get_by_label("Largest photo sent to the provider (megapixels)")
        ).to_have_value("2.5")
        await expect(
            page.get_by_role("switch", name="Keep the guest photo's metadata in results")
        ).to_be_checked()
        await expect(page.get_by_label("Daily budget (USD)")).to_have_value("12.5")
        await screenshot(page, "slot-policy-desktop-en")
        await assert_accessible(page)

        # An empty budget is no budget: saved as null, not as 0.
        await page.get_by_label("Daily budget (USD)").fill("")
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_text(re.compile(r"Saved \(version \d+\)"))).to_be_visible()
        stored = (await admin_api.get(f"/api/slots/{POLICY_SLOT}")).json()
        assert stored["daily_budget"] is None
        assert stored["on_failure"] == "original"
    finally:
        await reset_policy(admin_api)


async def reset_policy(admin_api: httpx.AsyncClient) -> None:
    answer = await admin_api.put(
        f"/api/slots/{POLICY_SLOT}",
        json={
            "on_failure": "error",
            "max_input_megapixels": 4,
            "keep_metadata": False,
            "daily_budget": None,
        },
    )
    answer.raise_for_status()


async def test_a_422_on_the_daily_budget_is_shown_on_its_field(admin_page: Page) -> None:
    page = admin_page
    await open_slot(page, f"/slots/{POLICY_SLOT}")
    budget = page.get_by_label("Daily budget (USD)")
    # The browser's own check stops a negative budget before it is sent...
    await budget.fill("-5")
    await page.get_by_role("button", name="Save").click()
    assert await budget.evaluate("input => input.validity.rangeUnderflow")
    await expect(page.get_by_text(re.compile(r"Saved \("))).to_have_count(0)
    # ...and without it, the server's 422 lands on the field, the rest kept.
    await budget.evaluate("input => input.removeAttribute('min')")
    await page.get_by_label("Name").fill("Budget typo")
    await page.get_by_role("button", name="Save").click()
    box = page.locator("[data-field='daily_budget']")
    await expect(box.locator(".field-error")).to_contain_text("greater than or equal to 0")
    await expect(budget).to_have_attribute("aria-invalid", "true")
    await expect(budget).to_be_focused()
    await expect(page.get_by_label("Name")).to_have_value("Budget typo")
    await screenshot(page, "slot-422-budget")
    await budget.fill("")
    await page.get_by_label("Name").fill("Budget typo fixed")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text(re.compile(r"Saved \(version \d+\)"))).to_be_visible()
    await expect(budget).not_to_have_attribute("aria-invalid", "true")
    await expect(box.locator(".field-error")).to_be_hidden()


RECORD_FORM_TEXT = """() => {
  const append = FormData.prototype.append;
  window.formText = [];
  FormData.prototype.append = function (name, value, ...rest) {
    if (typeof value === "string") window.formText.push([name, value]);
    return append.call(this, name, value, ...rest);
  };
}"""


async def test_a_test_run_answered_with_the_original_photo_says_so_and_why(
    admin_page: Page, tmp_path: Path
) -> None:
    page = admin_page
    await open_slot(page, f"/slots/{POLICY_SLOT}")
    # Unsaved: the echo test provider refusing the photo, and `original`.
    await choose(page, "echo", "echo")
    settings = page.locator(".provider-block").first
    await settings.get_by_label("Fail with").fill("IMAGE_SAFETY")
    await page.get_by_role("radio", name="The guest's original photo").check()
    photo = tmp_path / "guest.jpg"
    photo.write_bytes(make_image(size=(480, 360), seed=3))
    await page.get_by_label("Test photo").set_input_files(str(photo))
    # Chromium does not hand a multipart body with a file to Playwright: note
    # the form's text parts as the page adds them.
    await page.evaluate(RECORD_FORM_TEXT)
    await page.get_by_role("button", name="Test", exact=True).click()
    notice = page.locator(".test-outcome .degraded")
    await expect(notice).to_be_visible(timeout=60_000)
    parts = dict(await page.evaluate("() => window.formText"))
    payload = json.loads(parts["slot_payload"])
    assert payload["provider"] == "echo"
    assert payload["on_failure"] == "original"
    assert payload["keep_metadata"] is False
    assert payload["max_input_megapixels"] == 4
    await expect(notice).to_contain_text("Answered with the guest's original photo, not an edit")
    await expect(notice).to_contain_text(
        "Reason: The provider failed and returned no usable image. provider_error"
    )
    await expect(notice).to_contain_text("X-PhotoChanger-Degraded: provider_error")
    # Not a plain success.
    await expect(page.locator(".test-outcome .ok-text")).to_have_count(0)
    await expect(page.locator(".side-by-side figcaption").nth(1)).to_have_text(
        "Answer: the original photo"
    )
    await screenshot(page, "slot-test-run-degraded")
    await page.set_viewport_size(PHONE)
    await assert_no_horizontal_scroll(page)
    await notice.scroll_into_view_if_needed()
    await screenshot(page, "slot-test-run-degraded-phone", full_page=False)


async def test_the_slot_page_in_both_languages_on_a_phone_and_a_desktop(
    context: BrowserContext, web_server: WebServer, admin_page: Page
) -> None:
    page = admin_page
    texts = {
        "en": ("Save", "The guest's original photo", "Daily budget (USD)"),
        "ru": ("Сохранить", "Исходное фото гостя", "Дневной бюджет (USD)"),
    }
    for language, (save, original, budget) in texts.items():
        await context.add_cookies(
            [{"name": "photochanger_lang", "value": language, "url": web_server.base_url}]
        )
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            await page.set_viewport_size(viewport)
            await page.goto(f"/slots/{POLICY_SLOT}")
            await expect(page.get_by_role("button", name=save, exact=True)).to_be_visible()
            await expect(page.get_by_role("radio", name=original)).to_be_visible()
            await expect(page.get_by_label(budget)).to_be_visible()
            await assert_no_horizontal_scroll(page)
            await screenshot(page, f"slot-page-{size}-{language}")
