"""The job log in Chromium (issue 16): filters kept in the URL, keyset pages
older and back, the CSV of the same filters, a job's detail (attempts, the
failure in words and the provider's message as it came, the result with its
preview) as a dialog and as a deep link; phone, axe, Russian. Issue 17: a
degraded answer is its own outcome (pill, filter), each job shows its cost, the
detail explains the degraded reason, each call's usage and cost, and what was
sent. Data: photos through slot-009, slot-010 and slot-003 only (job_data.py)."""

from __future__ import annotations

import csv
import io
import re

import httpx
from playwright.async_api import Browser, Locator, Page, expect

from e2e_support import (
    PHONE,
    WebServer,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshot,
)
from fakes.gemini import GeminiFake
from job_data import (
    FAILING_SLOT,
    FAILURE_MESSAGE,
    OK_SLOT,
    PAID_SLOT,
    SAFETY_REASON,
    arrange_jobs,
    arrange_spend,
    russian_admin_page,
)
from photochanger.jobs.export import csv_cell


def rows(page: Page) -> Locator:
    return page.locator("table.jobs-table tbody tr")


def row(page: Page, job_id: str) -> Locator:
    return page.locator(f"table.jobs-table tbody tr[data-job='{job_id}']")


async def shown_ids(page: Page) -> list[str]:
    return [str(await row.get_attribute("data-job")) for row in await rows(page).all()]


async def test_filters_live_in_the_url_and_the_csv_has_the_same_jobs(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer
) -> None:
    arranged = await arrange_jobs(admin_api, web_server.base_url)
    page = admin_page
    # A link of before the outcome filter (`status=`) still works.
    await page.goto(f"/jobs?slot={FAILING_SLOT}&status=failed")
    await expect(page.get_by_role("heading", name="Job log", level=1)).to_be_visible()
    await expect(page.get_by_label("Slot", exact=True)).to_have_value(FAILING_SLOT)
    await expect(page.get_by_label("Outcome", exact=True)).to_have_value("failed")
    await expect(rows(page).first).to_be_visible()
    ids = await shown_ids(page)
    assert set(arranged.failed) <= set(ids)
    await expect(rows(page).locator(".pill")).to_have_text(["failed"] * len(ids))
    await expect(rows(page).first).to_contain_text(
        "The provider failed and returned no usable image."
    )

    await page.get_by_label("Outcome", exact=True).focus()
    await page.get_by_label("Outcome", exact=True).select_option("success")
    await expect(page).to_have_url(re.compile(rf"/jobs\?slot={FAILING_SLOT}&outcome=success$"))
    await expect(page.get_by_label("Outcome", exact=True)).to_be_focused()
    await expect(rows(page).locator(".pill").first).to_have_text("done")
    done_ids = await shown_ids(page)
    assert set(arranged.done[3:]) <= set(done_ids)
    assert not set(arranged.failed) & set(done_ids)
    await page.get_by_label("Time", exact=True).select_option("1h")
    await expect(page).to_have_url(re.compile(r"&range=1h$"))
    await page.reload()
    await expect(page.get_by_label("Time", exact=True)).to_have_value("1h")
    await expect(page.get_by_label("Outcome", exact=True)).to_have_value("success")

    link = page.get_by_role("link", name="Download CSV")
    href = str(await link.get_attribute("href"))
    assert href.startswith(f"/api/jobs.csv?slot_id={FAILING_SLOT}&outcome=success&from=")
    answer = await page.request.get(href)
    assert answer.ok
    table = list(csv.DictReader(io.StringIO(await answer.text())))
    # An id starting with "-" is guarded as a spreadsheet formula would be.
    assert {row["id"] for row in table} == {csv_cell(i) for i in await shown_ids(page)}
    await screenshot(page, "jobs-desktop")
    await assert_accessible(page)

    # A time range that holds nothing says so.
    await page.get_by_label("Time", exact=True).select_option("custom")
    await page.get_by_label("From", exact=True).fill("2035-01-01T10:00")
    await page.get_by_label("From", exact=True).dispatch_event("change")
    await expect(page.get_by_text("No photos match these filters.")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"range=custom&from=2035-01-01T"))

    await page.set_viewport_size(PHONE)
    await page.goto(f"/jobs?slot={OK_SLOT}")
    await expect(rows(page).first).to_be_visible()
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "jobs-phone")


async def test_keyset_pages_go_older_newer_and_back_to_the_newest(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer
) -> None:
    await arrange_jobs(admin_api, web_server.base_url)
    everything = await admin_api.get("/api/jobs", params={"slot_id": OK_SLOT, "limit": 500})
    expected = [job["id"] for job in everything.json()["jobs"]]
    assert len(expected) >= 3
    page = admin_page
    await page.goto(f"/jobs?slot={OK_SLOT}&limit=2")
    await expect(rows(page)).to_have_count(2)
    first = await shown_ids(page)
    assert first == expected[:2]
    await expect(page.get_by_role("button", name="Newer")).to_have_count(0)

    await page.get_by_role("button", name="Older").click()
    await expect(page).to_have_url(re.compile(r"cursor="))
    await expect(rows(page).first).not_to_have_attribute("data-job", first[0])
    second = await shown_ids(page)
    assert second == expected[2:4]
    # The page survives a reload, "Newer" included.
    await page.reload()
    await expect(rows(page).first).to_have_attribute("data-job", second[0])
    await page.get_by_role("button", name="Newer").click()
    await expect(rows(page).first).to_have_attribute("data-job", first[0])
    await page.get_by_role("button", name="Older").click()
    await expect(rows(page).first).to_have_attribute("data-job", second[0])
    await page.go_back()
    await expect(rows(page).first).to_have_attribute("data-job", first[0])
    await page.go_forward()
    await expect(rows(page).first).to_have_attribute("data-job", second[0])
    await page.get_by_role("button", name="Back to the newest").click()
    await expect(page).to_have_url(re.compile(rf"/jobs\?slot={OK_SLOT}&limit=2$"))
    await expect(rows(page).first).to_have_attribute("data-job", first[0])


async def test_a_failed_jobs_detail_shows_attempts_and_the_providers_message(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer
) -> None:
    arranged = await arrange_jobs(admin_api, web_server.base_url)
    failed = arranged.failed[0]
    page = admin_page
    await page.goto(f"/jobs?slot={FAILING_SLOT}")
    await rows(page).locator(f"[href='/jobs?job={failed}']").click()
    dialog = page.get_by_role("dialog", name="Photo job")
    await expect(dialog).to_be_visible()
    await expect(page).to_have_url(re.compile(rf"&job={failed}$"))
    await expect(dialog.locator(".job-head code")).to_have_text(failed)
    await expect(dialog).to_contain_text("The provider failed and returned no usable image.")
    attempt = dialog.locator("table tbody tr")
    await expect(attempt).to_have_count(1)
    await expect(attempt).to_contain_text("echo")
    await expect(attempt).to_contain_text(FAILURE_MESSAGE)
    await expect(attempt.locator(".pill")).to_have_text("failed")
    await expect(dialog).to_contain_text("IMG_")  # the booth's metadata
    await screenshot(page, "jobs-detail-failed", full_page=False)
    await assert_accessible(page)

    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(page).to_have_url(re.compile(rf"/jobs\?slot={FAILING_SLOT}$"))
    await expect(rows(page).locator(f"[href='/jobs?job={failed}']")).to_be_focused()


async def test_a_deep_link_opens_a_done_jobs_detail_with_its_result(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer
) -> None:
    arranged = await arrange_jobs(admin_api, web_server.base_url)
    done = arranged.done[0]
    page = admin_page
    await page.set_viewport_size(PHONE)
    await page.goto(f"/jobs?job={done}")
    dialog = page.get_by_role("dialog", name="Photo job")
    await expect(dialog.locator(".pill").first).to_have_text("done")
    preview = dialog.get_by_role("img", name="The edited photo")
    await expect(preview).to_be_visible()
    await page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=await preview.element_handle()
    )
    await expect(dialog.get_by_role("link", name="Open the result")).to_have_attribute(
        "href", f"{web_server.base_url}/public/results/{done}"
    )
    await expect(dialog).to_contain_text("local")
    await expect(dialog).to_contain_text("succeeded")
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "jobs-detail-done-phone", full_page=False)
    await assert_accessible(page)
    await dialog.get_by_role("button", name="Close").click()
    await expect(page).to_have_url(re.compile(r"/jobs$"))

    # An unknown job says so in words.
    await page.goto("/jobs?job=no-such-job")
    await expect(page.get_by_role("dialog").get_by_role("alert")).to_have_text("No such job.")


async def test_degraded_answers_have_their_own_outcome_cost_and_explained_detail(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer, gemini_fake: GeminiFake
) -> None:
    spent = await arrange_spend(admin_api, web_server.base_url, gemini_fake)
    refused = (await admin_api.get(f"/api/jobs/{spent.refused}")).json()
    assert refused["outcome"] == "degraded"
    assert refused["cost"] > 0
    page = admin_page
    await page.goto(f"/jobs?slot={PAID_SLOT}")
    await expect(page.get_by_label("Outcome", exact=True)).to_have_value("")
    edited = row(page, spent.edited)
    await expect(edited.locator(".pill")).to_have_text("done")
    # The cost column: the edit's estimated cost, in the price table's currency.
    await expect(edited.locator("td").nth(6)).to_have_text(re.compile(r"^\$0\.\d{2,4}$"))

    await page.get_by_label("Outcome", exact=True).select_option("degraded")
    await expect(page).to_have_url(re.compile(rf"/jobs\?slot={PAID_SLOT}&outcome=degraded$"))
    await expect(row(page, spent.edited)).to_have_count(0)
    ids = await shown_ids(page)
    assert {spent.refused, spent.over_budget} <= set(ids)
    assert spent.edited not in ids
    await expect(rows(page).locator(".pill")).to_have_text(["degraded"] * len(ids))
    budget_row = row(page, spent.over_budget)
    await expect(budget_row).to_contain_text("daily budget was reached")
    await expect(budget_row.locator("code").last).to_have_text("gemini → original")
    refused_row = row(page, spent.refused)
    await expect(refused_row).to_contain_text(
        "The provider failed and returned no usable image. (IMAGE_SAFETY)"
    )
    href = str(await page.get_by_role("link", name="Download CSV").get_attribute("href"))
    assert href == f"/api/jobs.csv?slot_id={PAID_SLOT}&outcome=degraded"
    table = list(csv.DictReader(io.StringIO(await (await page.request.get(href)).text())))
    assert {row["id"] for row in table} == {csv_cell(i) for i in ids}
    await screenshot(page, "jobs-degraded-desktop")
    await assert_accessible(page)

    await refused_row.get_by_role("link").first.click()
    dialog = page.get_by_role("dialog", name="Photo job")
    await expect(dialog.locator(".job-head .pill")).to_have_text("degraded")
    await expect(dialog.get_by_role("heading", name="Why the answer is degraded")).to_be_visible()
    await expect(dialog).to_contain_text("counts as degraded, not as a success")
    await expect(dialog).to_contain_text(SAFETY_REASON)
    await expect(dialog).to_contain_text("the guest's own photo (not edited)")
    original = dialog.get_by_role("img", name="The guest's own photo, as answered")
    await expect(original).to_be_visible()
    cost = f"${refused['cost']:.4f}".rstrip("0")
    await expect(dialog.locator(".facts").filter(has_text="Estimated cost")).to_contain_text(cost)
    attempt = dialog.locator("table tbody tr")
    await expect(attempt).to_have_count(1)
    await expect(attempt).to_contain_text("IMAGE_SAFETY")
    usage = dialog.locator(".usage-list li")
    await expect(usage.locator(".usage-head")).to_have_text(
        f"#1 gemini · gemini-3.1-flash-image · {cost}"
    )
    await expect(usage).to_contain_text("Input image tokens")
    await screenshot(page, "jobs-detail-degraded", full_page=False)
    await usage.get_by_text("As the provider reported it").click()
    await expect(usage.locator("pre")).to_contain_text("promptTokenCount")
    # What Gemini got (downscaled, cleaned) beside what the booth sent.
    await expect(dialog).to_contain_text(
        re.compile(r"Sent to the provider\s*[\d,]+ × [\d,]+ px · [\d.]+ [KM]?B \(\d+")
    )
    await screenshot(page, "jobs-detail-degraded-usage", full_page=False)
    await assert_accessible(page)
    await page.keyboard.press("Escape")

    # Over the budget: no call was made, so nothing was sent and nothing spent.
    await page.set_viewport_size(PHONE)
    await page.goto(f"/jobs?job={spent.over_budget}")
    dialog = page.get_by_role("dialog", name="Photo job")
    await expect(dialog).to_contain_text("The slot's daily budget was reached")
    await expect(dialog).to_contain_text("nothing: no remote provider was called")
    skipped = dialog.locator("table tbody tr")
    await expect(skipped.locator(".pill")).to_have_text("not called (budget)")
    await expect(dialog.locator(".usage-list")).to_have_count(0)
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "jobs-detail-budget-phone", full_page=False)
    await assert_accessible(page)


async def test_the_job_log_in_russian(
    browser: Browser, web_server: WebServer, admin_api: httpx.AsyncClient, gemini_fake: GeminiFake
) -> None:
    arranged = await arrange_jobs(admin_api, web_server.base_url)
    spent = await arrange_spend(admin_api, web_server.base_url, gemini_fake)
    async with russian_admin_page(browser, web_server) as page:
        await page.goto(f"/jobs?slot={FAILING_SLOT}&job={arranged.failed[0]}")
        dialog = page.get_by_role("dialog", name="Обработка фото")
        await expect(dialog).to_contain_text("Провайдер не справился")
        await expect(dialog).to_contain_text("Обращения к провайдеру")
        await screenshot(page, "jobs-ru-detail", full_page=False)
        await dialog.get_by_role("button", name="Закрыть").click()
        await expect(page.get_by_role("heading", name="Журнал обработки", level=1)).to_be_visible()
        await screenshot(page, "jobs-ru-desktop")

        await page.goto(f"/jobs?slot={PAID_SLOT}&outcome=degraded")
        await expect(row(page, spent.refused).locator(".pill")).to_have_text("ухудшено")
        await expect(page.get_by_label("Исход", exact=True)).to_have_value("degraded")
        await screenshot(page, "jobs-ru-degraded")
        await page.set_viewport_size(PHONE)
        await assert_no_horizontal_scroll(page)
        await screenshot(page, "jobs-ru-degraded-phone")
        await row(page, spent.refused).get_by_role("link").first.click()
        dialog = page.get_by_role("dialog", name="Обработка фото")
        await expect(dialog.get_by_role("heading", name="Почему ответ ухудшенный")).to_be_visible()
        await expect(dialog).to_contain_text("собственное фото гостя (без обработки)")
        await expect(dialog).to_contain_text("Расход и стоимость по обращениям")
        await expect(dialog).to_contain_text("Отправлено провайдеру")
        await assert_no_horizontal_scroll(page)
        await screenshot(page, "jobs-ru-detail-degraded-phone", full_page=False)
        await dialog.locator(".usage-list").scroll_into_view_if_needed()
        await screenshot(page, "jobs-ru-detail-usage-phone", full_page=False)
