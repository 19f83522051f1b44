"""The statistics page in Chromium (issue 16): with photos done and failed
through slot-009 and slot-010, the overview, the charts, the per-slot rates,
the failures by provider and reason and the last failures show them; the
window and slot live in the URL; every view fits a phone, passes axe, and
reads in Russian. Empty windows say so in words."""

from __future__ import annotations

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
from job_data import (
    FAILING_NAME,
    FAILING_SLOT,
    OK_NAME,
    OK_SLOT,
    arrange_jobs,
    russian_admin_page,
)


def stat_value(page: Page, label: str) -> Locator:
    return page.locator(".stat", has=page.locator("dt", has_text=re.compile(f"^{label}$"))).locator(
        ".stat-value"
    )


def section(page: Page, heading: str) -> Locator:
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


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
    jobs, done, _, provider_errors = [await number(cells.nth(i)) for i in range(4)]
    assert jobs >= 4
    assert done >= 2
    assert provider_errors >= 2
    await expect(cells.nth(5)).to_have_text(f"{round(100 * done / jobs)}%")

    # Both charts are drawn (uPlot's canvas), with their numbers as a table.
    await expect(page.locator(".chart canvas")).to_have_count(2)
    # Pointing at the newest bar reads its numbers out beside the chart.
    plot_area = page.locator(".chart .u-over").first
    box = await plot_area.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] / 2)
    await expect(page.locator(".readout").first).to_contain_text(
        re.compile(r"Photos: \d+ · Done: \d+ · Timed out: 0 · Provider errors: [1-9]")
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
    browser: Browser, web_server: WebServer, admin_api: httpx.AsyncClient
) -> None:
    await arrange_jobs(admin_api, web_server.base_url)
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
        await screenshot(page, "stats-ru-desktop")
        await page.set_viewport_size(PHONE)
        await assert_no_horizontal_scroll(page)
        await screenshot(page, "stats-ru-phone")
        await assert_accessible(page)
