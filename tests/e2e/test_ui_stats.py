"""The statistics page in Chromium (issue 16): with photos done and failed
through slot-009 and slot-010, the overview, the charts, the per-slot rates,
the failures by provider and reason and the last failures show them; the
window and slot live in the URL; every view fits a phone, passes axe, and
reads in Russian. Empty windows say so in words. Issue 17: degraded answers
(slot-003 on the fake Gemini) are their own outcome in the cards, tables and
chart; the Spend section shows the cost per slot and day, its days picker and
its CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path

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
    DAILY_BUDGET,
    FAILING_NAME,
    FAILING_SLOT,
    OK_NAME,
    OK_SLOT,
    PAID_NAME,
    PAID_SLOT,
    arrange_jobs,
    arrange_spend,
    russian_admin_page,
)


def stat_value(page: Page, label: str) -> Locator:
    return page.locator(".stat", has=page.locator("dt", has_text=re.compile(f"^{label}$"))).locator(
        ".stat-value"
    )


def section(page: Page, heading: str) -> Locator:
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


def percent(ratio: float) -> str:
    """As the page writes a share: at most one decimal."""
    return f"{100 * ratio:.1f}".removesuffix(".0") + "%"


async def number(locator: Locator) -> int:
    return int(re.sub(r"\D", "", await locator.inner_text()))


async def test_statistics_with_data_show_outcomes_rates_charts_and_failures(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer
) -> None:
    arranged = await arrange_jobs(admin_api, web_server.base_url)
    page = admin_page
    await page.goto("/stats")
    await expect(page.get_by_role("heading", name="Statistics", level=1)).to_be_visible()
    # The default view is the last 24 hours of the booths' photos, written into
    # the URL so that it can be bookmarked.
    await expect(page).to_have_url(re.compile(r"/stats\?window=1440$"))
    await expect(page.get_by_role("button", name="24 hours")).to_have_attribute(
        "aria-pressed", "true"
    )

    per_slot = section(page, "Per slot")
    ok_row = per_slot.locator(f"tr[data-slot='{OK_SLOT}']")
    await expect(ok_row.get_by_role("link")).to_have_text(OK_NAME)
    failing_row = per_slot.locator(f"tr[data-slot='{FAILING_SLOT}']")
    await expect(failing_row.get_by_role("link")).to_have_text(FAILING_NAME)
    cells = failing_row.locator("td")
    jobs, done, degraded, _, provider_errors = [await number(cells.nth(i)) for i in range(5)]
    assert jobs >= 4
    assert done >= 2
    assert degraded == 0
    assert provider_errors >= 2
    await expect(cells.nth(6)).to_have_text(percent(done / jobs))

    # Both charts are drawn (uPlot's canvas), with their numbers as a table.
    await expect(page.locator(".chart canvas")).to_have_count(2)
    # Pointing at the newest bar reads its numbers out beside the chart.
    plot_area = page.locator(".chart .u-over").first
    box = await plot_area.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] / 2)
    await expect(page.locator(".readout").first).to_contain_text(
        re.compile(
            r"Photos: \d+ · Done: \d+ · Degraded: \d+ · Timed out: 0 · Provider errors: [1-9]"
        )
    )
    await page.get_by_text("Show the numbers").click()
    await expect(page.locator("details.numbers tbody tr").first).to_be_visible()

    failures = section(page, "Failures by provider and reason")
    echo_row = failures.locator(f"tr[data-slot='{FAILING_SLOT}']")
    await expect(echo_row.locator(".provider")).to_have_text("echo")
    await expect(echo_row).to_contain_text("The provider failed and returned no usable image.")
    await expect(echo_row.locator(".meter rect")).to_have_count(2)

    last = section(page, "Last failures")
    newest = last.locator(f"tr[data-job='{arranged.failed[0]}']")
    await expect(newest).to_contain_text(FAILING_NAME)
    await expect(newest.get_by_role("link").first).to_have_attribute(
        "href", f"/jobs?job={arranged.failed[0]}"
    )
    await screenshot(page, "stats-desktop")
    await assert_accessible(page)

    # One slot: the cards are that slot's; the choice survives a reload.
    await page.get_by_label("Slot", exact=True).select_option(FAILING_SLOT)
    await expect(page).to_have_url(re.compile(rf"window=1440&slot={FAILING_SLOT}$"))
    await expect(stat_value(page, "Provider errors")).not_to_have_text("0")
    assert await number(stat_value(page, "Photos")) >= 4
    assert await number(stat_value(page, "Provider errors")) >= 2
    await expect(stat_value(page, "Last error")).not_to_have_text("never")
    await expect(page.locator(f"tr[data-slot='{OK_SLOT}']")).to_have_count(0)
    await expect(per_slot.locator("tbody tr")).to_have_count(1)
    await page.get_by_role("button", name="Last hour").click()
    await expect(page).to_have_url(re.compile(rf"window=60&slot={FAILING_SLOT}$"))
    await expect(page.get_by_role("button", name="Last hour")).to_be_focused()
    await page.reload()
    await expect(page.get_by_role("button", name="Last hour")).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(page.get_by_label("Slot", exact=True)).to_have_value(FAILING_SLOT)
    await expect(page.locator(".chart canvas")).to_have_count(2)
    await screenshot(page, "stats-slot-desktop")

    # A failure links to its job's detail on the job log.
    await last.locator(f"tr[data-job='{arranged.failed[0]}'] a").first.click()
    await expect(page).to_have_url(re.compile(rf"/jobs\?job={arranged.failed[0]}$"))


async def test_degraded_answers_are_their_own_outcome_and_spend_is_shown_per_slot_and_day(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer, gemini_fake: GeminiFake
) -> None:
    await arrange_spend(admin_api, web_server.base_url, gemini_fake)
    page = admin_page
    await page.goto(f"/stats?slot={PAID_SLOT}")
    # The cards: two degraded answers, not counted as done; the window's cost.
    await expect(stat_value(page, "Degraded")).not_to_have_text("0")
    assert await number(stat_value(page, "Degraded")) >= 2
    assert await number(stat_value(page, "Done")) >= 1
    await expect(stat_value(page, "Estimated cost")).to_have_text(re.compile(r"^\$0\.\d+$"))
    await expect(stat_value(page, "Estimated cost")).not_to_have_text("$0.00")
    await expect(page.locator(".stat.degraded-outcome")).to_have_count(1)

    paid = section(page, "Per slot").locator(f"tr[data-slot='{PAID_SLOT}']")
    await expect(paid.get_by_role("link")).to_have_text(PAID_NAME)
    cells = paid.locator("td")
    jobs, done, degraded = [await number(cells.nth(i)) for i in range(3)]
    assert jobs >= 3
    assert degraded >= 2
    assert done + degraded <= jobs
    await expect(cells.nth(7)).to_have_text(percent(degraded / jobs))
    await expect(cells.nth(9)).to_have_text(re.compile(r"^\$0\.\d+$"))
    # The chart's legend and its numbers name the outcome too.
    await expect(page.locator(".legend li").filter(has_text="Degraded")).to_have_count(1)
    await page.get_by_text("Show the numbers").click()
    numbers = page.locator("details.numbers thead th")
    await expect(numbers.nth(3)).to_have_text("Degraded")

    failures = section(page, "Failures by provider and reason")
    refused = failures.locator("tr", has_text="IMAGE_SAFETY")
    await expect(refused.locator(".pill")).to_have_text("degraded")
    await expect(refused.locator(".provider")).to_have_text("gemini")
    budget = failures.locator("tr", has_text="daily budget was reached")
    await expect(budget.locator(".pill")).to_have_text("degraded")

    spend = page.locator("#spend")
    await expect(spend.get_by_role("heading", name="Spend")).to_be_visible()
    await expect(spend.get_by_role("button", name="7 days")).to_have_attribute(
        "aria-pressed", "true"
    )
    row = spend.locator(f"tbody tr[data-slot='{PAID_SLOT}']")
    await expect(row.get_by_role("link")).to_have_text(PAID_NAME)
    cells = row.locator("td")
    await expect(cells.nth(0)).to_have_text(re.compile(r"^\$0\.\d+$"))  # the 7 days
    await expect(cells.nth(2)).to_have_text(f"${DAILY_BUDGET:.2f} reached")
    await expect(cells.nth(3)).to_have_text(await cells.nth(0).inner_text())  # today, first
    headers = spend.locator("thead th")
    await expect(headers).to_have_count(4 + 7)
    await expect(headers.nth(4)).to_have_text("Today")
    await expect(spend.locator("tfoot th")).to_have_text("All slots")
    # Only the slot picked, the totals of every slot below it.
    await expect(spend.locator("tbody tr")).to_have_count(1)
    await expect(spend).to_contain_text("in USD")

    link = spend.get_by_role("link", name="Download CSV")
    href = str(await link.get_attribute("href"))
    assert href == "/api/stats/spend.csv?days=7&source=ingest"
    async with page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = await asyncio.to_thread(Path(str(await download.path())).read_text, "utf-8")
    table = list(csv.DictReader(io.StringIO(text)))
    paid_rows = [item for item in table if item["slot_id"] == PAID_SLOT]
    assert paid_rows, table
    assert paid_rows[-1]["slot_name"] == PAID_NAME
    assert float(paid_rows[-1]["cost"]) > 0
    assert paid_rows[-1]["currency"] == "USD"
    await spend.scroll_into_view_if_needed()
    await screenshot(page, "stats-spend-desktop")
    await assert_accessible(page)

    # The days picker changes the table only, keeps the focus, and lives in the URL.
    await spend.get_by_role("button", name="30 days").click()
    await expect(page).to_have_url(re.compile(rf"slot={PAID_SLOT}&days=30$"))
    await expect(headers).to_have_count(4 + 30)
    await expect(spend.get_by_role("button", name="30 days")).to_be_focused()
    await expect(link).to_have_attribute("href", "/api/stats/spend.csv?days=30&source=ingest")
    await page.get_by_label("Slot", exact=True).select_option("")
    await expect(spend.locator(f"tbody tr[data-slot='{PAID_SLOT}']")).to_be_visible()
    await page.reload()
    await expect(spend.get_by_role("button", name="30 days")).to_have_attribute(
        "aria-pressed", "true"
    )
    await spend.get_by_role("button", name="Today").click()
    await expect(headers).to_have_count(4 + 1)
    await page.set_viewport_size(PHONE)
    await expect(spend.locator(f"tbody tr[data-slot='{PAID_SLOT}']")).to_be_visible()
    await assert_no_horizontal_scroll(page)
    await spend.scroll_into_view_if_needed()
    await screenshot(page, "stats-spend-phone", full_page=False)


async def test_statistics_fit_a_phone_in_the_dark(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer
) -> None:
    await arrange_jobs(admin_api, web_server.base_url)
    page = admin_page
    await page.emulate_media(color_scheme="dark")
    await page.set_viewport_size(PHONE)
    await page.goto("/stats?window=10080")
    await expect(page.locator(".chart canvas")).to_have_count(2)
    await expect(
        section(page, "Per slot").locator(f"tr[data-slot='{FAILING_SLOT}']")
    ).to_be_visible()
    await assert_no_horizontal_scroll(page)
    # The chart follows its container: within the phone's width.
    widths = await page.locator(".chart canvas").evaluate_all(
        "(canvases) => canvases.map((c) => c.getBoundingClientRect().right)"
    )
    assert all(right <= PHONE["width"] for right in widths), widths
    await screenshot(page, "stats-phone-dark")
    await assert_accessible(page)

    # Back on a desktop, the charts grow with the page.
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.wait_for_function(
        "() => document.querySelector('.chart canvas').getBoundingClientRect().width > 400"
    )
    await screenshot(page, "stats-desktop-dark")


async def test_an_empty_window_says_so_in_words(admin_page: Page) -> None:
    # No admin ever ran a test photo through slot-009: its test runs are empty.
    page = admin_page
    await page.goto(f"/stats?window=60&slot={OK_SLOT}&source=ui_test")
    await expect(page.get_by_label("Photos from")).to_have_value("ui_test")
    chart_empty = page.get_by_text("No photos in this window: nothing to chart yet.")
    await expect(chart_empty).to_be_visible()
    await expect(page.get_by_text("No active slot had photos in this window.")).to_be_visible()
    await expect(page.get_by_text("No failures in this window.")).to_be_visible()
    await expect(page.get_by_text("No failed or timed-out photos in this window.")).to_be_visible()
    await expect(stat_value(page, "Photos")).to_have_text("0")
    await screenshot(page, "stats-empty")
    await assert_accessible(page)


async def test_statistics_in_russian(
    browser: Browser, web_server: WebServer, admin_api: httpx.AsyncClient, gemini_fake: GeminiFake
) -> None:
    await arrange_jobs(admin_api, web_server.base_url)
    await arrange_spend(admin_api, web_server.base_url, gemini_fake)
    async with russian_admin_page(browser, web_server) as page:
        await page.goto("/stats")
        await expect(page.get_by_role("heading", name="Статистика", level=1)).to_be_visible()
        await expect(page.get_by_role("button", name="24 часа")).to_have_attribute(
            "aria-pressed", "true"
        )
        failures = page.get_by_role("heading", name="Сбои по провайдерам и причинам")
        await expect(failures).to_be_visible()
        await expect(page.locator(".chart canvas")).to_have_count(2)
        await expect(
            section(page, "По слотам").locator(f"tr[data-slot='{FAILING_SLOT}']")
        ).to_be_visible()
        spend = page.locator("#spend")
        await expect(spend.get_by_role("heading", name="Расходы")).to_be_visible()
        await expect(spend.get_by_role("link", name="Скачать CSV")).to_be_visible()
        await expect(spend.locator(f"tr[data-slot='{PAID_SLOT}']")).to_contain_text("исчерпан")
        await expect(page.locator(".legend").first).to_contain_text("Ухудшенные")
        await screenshot(page, "stats-ru-desktop")
        await page.set_viewport_size(PHONE)
        await assert_no_horizontal_scroll(page)
        await screenshot(page, "stats-ru-phone")
        await spend.scroll_into_view_if_needed()
        await screenshot(page, "stats-spend-ru-phone", full_page=False)
        await assert_accessible(page)
