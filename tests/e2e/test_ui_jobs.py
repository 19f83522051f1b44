"""The job log in Chromium (issue 16): filters kept in the URL, keyset pages
older and back, the CSV of the same filters, a job's detail (attempts, the
failure in words and the provider's message as it came, the result with its
preview) as a dialog and as a deep link; phone, axe, Russian. Data: photos
through slot-009 and slot-010 only (job_data.py)."""

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
from job_data import FAILING_SLOT, FAILURE_MESSAGE, OK_SLOT, arrange_jobs, russian_admin_page


def rows(page: Page) -> Locator:
    return page.locator("table.jobs-table tbody tr")


async def shown_ids(page: Page) -> list[str]:
    return [str(await row.get_attribute("data-job")) for row in await rows(page).all()]


async def test_filters_live_in_the_url_and_the_csv_has_the_same_jobs(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer
) -> None:
    arranged = await arrange_jobs(admin_api, web_server.base_url)
    page = admin_page
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
    await page.get_by_label("Outcome", exact=True).select_option("done")
    await expect(page).to_have_url(re.compile(rf"/jobs\?slot={FAILING_SLOT}&status=done$"))
    await expect(page.get_by_label("Outcome", exact=True)).to_be_focused()
    await expect(rows(page).locator(".pill").first).to_have_text("done")
    done_ids = await shown_ids(page)
    assert set(arranged.done[3:]) <= set(done_ids)
    assert not set(arranged.failed) & set(done_ids)
    await page.get_by_label("Time", exact=True).select_option("1h")
    await expect(page).to_have_url(re.compile(r"&range=1h$"))
    await page.reload()
    await expect(page.get_by_label("Time", exact=True)).to_have_value("1h")
    await expect(page.get_by_label("Outcome", exact=True)).to_have_value("done")

    link = page.get_by_role("link", name="Download CSV")
    href = str(await link.get_attribute("href"))
    assert href.startswith(f"/api/jobs.csv?slot_id={FAILING_SLOT}&status=done&from=")
    answer = await page.request.get(href)
    assert answer.ok
    table = list(csv.DictReader(io.StringIO(await answer.text())))
    assert {row["id"] for row in table} == set(await shown_ids(page))
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


async def test_the_job_log_in_russian(
    browser: Browser, web_server: WebServer, admin_api: httpx.AsyncClient
) -> None:
    arranged = await arrange_jobs(admin_api, web_server.base_url)
    async with russian_admin_page(browser, web_server) as page:
        await page.goto(f"/jobs?slot={FAILING_SLOT}&job={arranged.failed[0]}")
        dialog = page.get_by_role("dialog", name="Обработка фото")
        await expect(dialog).to_contain_text("Провайдер не справился")
        await expect(dialog).to_contain_text("Обращения к провайдеру")
        await screenshot(page, "jobs-ru-detail", full_page=False)
        await dialog.get_by_role("button", name="Закрыть").click()
        await expect(page.get_by_role("heading", name="Журнал обработки", level=1)).to_be_visible()
        await screenshot(page, "jobs-ru-desktop")
