"""The galleries and the guest page in Chromium (issue 16, SPEC §6.7, §10): the
admin shares the gallery, a guest who is not logged in opens it and a photo's
guest page in a second browser context, the admin revokes and the guest's page
says closed; the lightbox by keyboard; 404 / 410 guest pages in words; 429 with
a retry. Photos only on slot-011 and slot-012 (the server is shared)."""

from __future__ import annotations

import asyncio
import io
import itertools
import re
import sqlite3
import zipfile
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Literal

import cv2
import httpx
import numpy as np
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from e2e_support import (
    DESKTOP,
    PHONE,
    PageProblems,
    WebServer,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshot,
)
from support import booth_fields, make_image

SLOTS = {"slot-011": "Gallery wall", "slot-012": "Rooftop <b>bar</b>"}
SEEDS = itertools.count(1100)


async def booth_photo(web_server: WebServer, slot_id: str) -> str:
    async with httpx.AsyncClient(base_url=web_server.base_url, timeout=60) as booth:
        answer = await booth.post(
            f"/api/ingest/{slot_id}",
            data=booth_fields(),
            files={"fileToUpload": ("IMG.jpg", make_image(seed=next(SEEDS)), "image/jpeg")},
        )
    assert answer.status_code == 200, answer.text
    return answer.headers["x-job-id"]


@pytest.fixture
async def photos(admin_api: httpx.AsyncClient, web_server: WebServer) -> dict[str, list[str]]:
    """Three booth photos on slot-011 and two on slot-012, newest first, with the
    gallery closed to begin with."""
    for slot_id, name in SLOTS.items():
        answer = await admin_api.put(f"/api/slots/{slot_id}", json={"name": name, "active": True})
        answer.raise_for_status()
    taken = {
        slot_id: [await booth_photo(web_server, slot_id) for _ in range(n)][::-1]
        for slot_id, n in (("slot-011", 3), ("slot-012", 2))
    }
    (await admin_api.delete("/api/gallery/share")).raise_for_status()
    return taken


async def guest_context(
    browser: Browser,
    web_server: WebServer,
    language: str = "en-GB",
    viewport: dict[str, int] = DESKTOP,
    color_scheme: Literal["light", "dark"] = "light",
) -> BrowserContext:
    """A second browser: nobody logged in, its own cookies."""
    return await browser.new_context(
        base_url=web_server.base_url,
        locale=language,
        viewport={"width": viewport["width"], "height": viewport["height"]},
        color_scheme=color_scheme,
    )


def decode_qr(png: bytes) -> str:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert points is not None
    return str(text)


async def goto(page: Page, path: str | None, status: int) -> None:
    """Open `path` (None: reload) and check the answer's status."""
    answer = await (page.reload() if path is None else page.goto(path))
    assert answer is not None
    assert answer.status == status


async def previews_shown(page: Page, slot_ids: list[str]) -> None:
    """Wait until the previews of these slots have loaded (they are made on their
    first request, and lazy images load only near the viewport)."""
    for image in await page.locator(
        ", ".join(f"section[data-slot='{slot_id}'] .thumb img" for slot_id in slot_ids)
    ).all():
        await image.scroll_into_view_if_needed()
        await expect(image).to_have_js_property("complete", True)
        assert await image.evaluate("(image) => image.naturalWidth") > 0
    await page.evaluate("() => window.scrollTo(0, 0)")


async def focused_job(page: Page) -> str | None:
    return await page.evaluate("() => document.activeElement?.dataset?.job ?? null")


async def focus_is_in_dialog(page: Page) -> bool:
    return bool(await page.evaluate("() => !!document.activeElement?.closest('dialog[open]')"))


async def wait_until_public(web_server: WebServer, job_ids: list[str]) -> None:
    """Guests' content is cached for 30 s: an earlier test's share may have
    filled the cache before these photos came."""
    async with httpx.AsyncClient(base_url=web_server.base_url) as guest:
        for _ in range(20):
            answer = await guest.get("/pub/gallery")
            answer.raise_for_status()
            shown = {r["job_id"] for slot in answer.json()["slots"] for r in slot["results"]}
            if set(job_ids) <= shown:
                return
            await asyncio.sleep(2)
    raise AssertionError("the photos never reached the public gallery")


def expire_in_database(web_server: WebServer, job_id: str) -> None:
    """No API makes a result expire (the TTL is at least an hour): move its
    expiry into the past in the server's SQLite file, in the stored format."""
    with closing(sqlite3.connect(web_server.data_dir / "photochanger.db", timeout=10)) as db:
        (stored,) = db.execute(
            "SELECT result_expires_at FROM job WHERE id = ?", (job_id,)
        ).fetchone()
        past = "2001" + str(stored)[4:]
        assert datetime.fromisoformat(past).year == 2001
        with db:
            db.execute("UPDATE job SET result_expires_at = ? WHERE id = ?", (past, job_id))


async def test_the_admin_shares_the_gallery_and_a_guest_opens_it_and_a_photo_page(
    admin_page: Page,
    browser: Browser,
    web_server: WebServer,
    photos: dict[str, list[str]],
    problems: PageProblems,
) -> None:
    base = web_server.base_url
    page = admin_page
    await page.goto("/gallery")
    wall = page.locator("section[data-slot='slot-011']")
    await expect(wall.get_by_role("heading", name="Gallery wall")).to_be_visible()
    wall_jobs = [await b.get_attribute("data-job") for b in await wall.locator(".thumb").all()]
    assert wall_jobs[:3] == photos["slot-011"]  # newest first
    rooftop = page.locator("section[data-slot='slot-012']")
    await expect(rooftop.get_by_role("heading", name=SLOTS["slot-012"])).to_be_visible()
    assert await rooftop.locator("h2 b").count() == 0  # the name is text, not markup
    assert await wall.locator("img").first.get_attribute("loading") == "lazy"
    await previews_shown(page, list(SLOTS))
    pill = page.locator(".share-status .pill")
    await expect(pill).to_have_text("Not shared")
    await expect(page.get_by_role("link", name="Download all (ZIP)")).to_have_count(0)
    await expect(page.locator(".share-card code.url")).to_have_text(f"{base}/pubgallery")
    qr = page.get_by_role("img", name=f"QR code of {base}/pubgallery")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("(image) => image.complete && image.naturalWidth > 100")
    assert decode_qr(await (await page.request.get("/pubgallery/qr.png")).body()) == (
        f"{base}/pubgallery"
    )
    await screenshot(page, "gallery-admin-closed-desktop")
    await page.get_by_role("button", name="Show the QR code large").click()
    large = page.get_by_role("dialog", name="Guests scan this code to open the gallery.")
    await expect(large.get_by_role("link", name="Download")).to_have_attribute(
        "href", "/pubgallery/qr.png"
    )
    await expect(large.get_by_role("img")).to_have_js_property("complete", True)
    await screenshot(page, "gallery-qr-large-desktop", full_page=False)
    await page.keyboard.press("Escape")
    await expect(page.locator("dialog")).to_have_count(0)
    await expect(page.get_by_role("button", name="Show the QR code large")).to_be_focused()

    await page.get_by_role("button", name="Share for 15 minutes").click()
    await expect(pill).to_have_text("Shared")
    await expect(page.get_by_role("status")).to_contain_text("The gallery is shared until")
    countdown = page.locator(".share-status .countdown")
    await expect(countdown).to_have_text(re.compile(r"^\((14:5\d|15:00) left\)$"))
    before = await countdown.text_content()
    await expect(countdown).not_to_have_text(str(before), timeout=3000)  # it is live
    await expect(page.get_by_role("link", name="Download all (ZIP)")).to_have_attribute(
        "href", "/pub/gallery.zip"
    )
    await assert_accessible(page)
    await screenshot(page, "gallery-admin-shared-desktop")

    # The lightbox, by keyboard: focus inside, arrows move, Esc closes and returns.
    every_job = [await b.get_attribute("data-job") for b in await page.locator(".thumb").all()]
    opened = every_job.index(photos["slot-011"][1])
    await wall.locator(".thumb").nth(1).focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_have_accessible_name(re.compile(r"^Gallery wall · \d"))
    assert await focus_is_in_dialog(page)
    position = dialog.locator(".lightbox-position")
    await expect(position).to_have_text(f"{opened + 1} of {len(every_job)}")
    await page.keyboard.press("ArrowRight")
    await expect(position).to_have_text(f"{opened + 2} of {len(every_job)}")
    await page.keyboard.press("ArrowLeft")
    await page.keyboard.press("ArrowLeft")
    await expect(position).to_have_text(f"{opened} of {len(every_job)}")
    assert photos["slot-011"][0] == every_job[opened - 1]
    for key in ["Tab"] * 7 + ["Shift+Tab"] * 9:
        await page.keyboard.press(key)
        assert await focus_is_in_dialog(page), f"focus left the dialog after {key}"
    await expect(dialog.get_by_role("link", name="Guest page")).to_have_attribute(
        "href", f"/r/{photos['slot-011'][0]}"
    )
    async with page.expect_download() as started:
        await dialog.get_by_role("link", name="Download").click()
    download = await started.value
    assert download.suggested_filename == f"photochanger-{photos['slot-011'][0]}.jpg"
    await expect(dialog.locator("img")).to_have_js_property("complete", True)
    await assert_accessible(page)
    await screenshot(page, "gallery-lightbox-desktop", full_page=False)
    await page.keyboard.press("Escape")
    await expect(page.locator("dialog")).to_have_count(0)
    assert await focused_job(page) == photos["slot-011"][1]

    await page.set_viewport_size(PHONE)
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "gallery-admin-shared-phone")
    await wall.locator(".thumb").first.click()
    await expect(dialog).to_be_visible()
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "gallery-lightbox-phone", full_page=False)
    await dialog.get_by_role("button", name="Close").click()
    await expect(page.locator("dialog")).to_have_count(0)

    # A guest in another browser, not logged in.
    ours = [job for jobs in photos.values() for job in jobs]
    await wait_until_public(web_server, ours)
    guest = await guest_context(browser, web_server)
    guest.on("page", problems.watch)
    try:
        public = await guest.new_page()
        await goto(public, "/pubgallery", 200)
        await expect(public.get_by_role("heading", name="Photo gallery", level=1)).to_be_visible()
        section = public.locator("section[data-slot='slot-011']")
        await expect(section.locator(".thumb")).not_to_have_count(0)
        shown = [await b.get_attribute("data-job") for b in await section.locator(".thumb").all()]
        assert shown[:3] == photos["slot-011"]
        await previews_shown(public, list(SLOTS))
        await expect(public.locator(".pub-status")).to_contain_text(
            re.compile(r"Open until .+ \(closes in 1[45]:\d\d\)")
        )
        await expect(public.get_by_role("link", name="Guest page")).to_have_count(0)
        await section.locator(".thumb").first.click()
        await expect(public.get_by_role("dialog")).to_be_visible()
        await expect(
            public.get_by_role("dialog").get_by_role("link", name="Guest page")
        ).to_have_count(0)
        await public.keyboard.press("Escape")
        await expect(public.locator("dialog")).to_have_count(0)
        async with public.expect_download() as started:
            await public.get_by_role("link", name="Download all (ZIP)").click()
        saved = await (await started.value).path()
        archive = zipfile.ZipFile(io.BytesIO(await asyncio.to_thread(Path(saved).read_bytes)))
        names = archive.namelist()
        for slot_id, jobs in photos.items():
            for job in jobs:
                assert any(n.startswith(f"{slot_id}/") and n.endswith(f"-{job}.jpg") for n in names)
        await assert_accessible(public)
        await screenshot(public, "pubgallery-desktop")
        await public.set_viewport_size(PHONE)
        await assert_no_horizontal_scroll(public)
        await screenshot(public, "pubgallery-phone")

        # Rate limited: the page says so, waits as long as the answer says, retries.
        refused = 0

        async def once_rate_limited(route: Route) -> None:
            nonlocal refused
            refused += 1
            if refused > 1:
                await route.continue_()
                return
            await route.fulfill(
                status=429,
                headers={"Retry-After": "3", "Cache-Control": "no-store"},
                json={
                    "status": "error",
                    "failure_reason": "rate_limited",
                    "details": "at most 30 gallery requests a minute",
                    "retry_after": 3,
                },
            )

        await public.route("**/pub/gallery", once_rate_limited)
        await public.reload()
        alert = public.get_by_role("alert")
        await expect(alert).to_contain_text("Too many requests from your network")
        await expect(alert).to_contain_text(re.compile(r"Next try in [1-3] s"))
        await assert_no_horizontal_scroll(public)
        await screenshot(public, "pubgallery-rate-limited-phone")
        await expect(alert).to_be_hidden(timeout=10_000)
        await expect(section.locator(".thumb")).not_to_have_count(0)
        assert refused == 2
        await public.unroute("**/pub/gallery")

        # The photo's guest page, where the booth's QR code leads.
        job = photos["slot-011"][0]
        photo_page = await guest.new_page()
        await goto(photo_page, f"/r/{job}", 200)
        await expect(photo_page.get_by_role("heading", name="Your photo", level=1)).to_be_visible()
        image = photo_page.get_by_role("img", name="Your photo from the photo booth")
        await expect(image).to_have_js_property("complete", True)
        assert await image.evaluate("(image) => image.naturalWidth") == 640
        async with photo_page.expect_download() as started:
            await photo_page.get_by_role("link", name="Download").click()
        assert (await started.value).suggested_filename == f"photochanger-{job}.jpg"
        native_share = await photo_page.evaluate("typeof navigator.share === 'function'")
        await expect(photo_page.get_by_role("button", name="Share")).to_have_count(
            1 if native_share else 0
        )
        qr_png = await (await guest.request.get(f"/public/results/{job}/qr.png")).body()
        assert decode_qr(qr_png) == f"{base}/r/{job}"
        await assert_accessible(photo_page)
        await screenshot(photo_page, "guest-desktop")
        await photo_page.set_viewport_size(PHONE)
        await assert_no_horizontal_scroll(photo_page)
        await screenshot(photo_page, "guest-phone")

        # In Russian, on a phone.
        russian = await guest_context(
            browser, web_server, "ru-RU", viewport=PHONE, color_scheme="dark"
        )
        russian.on("page", problems.watch)
        try:
            ru = await russian.new_page()
            await ru.goto("/pubgallery")
            await expect(ru.get_by_role("heading", name="Фотогалерея", level=1)).to_be_visible()
            await expect(ru.locator(".pub-status")).to_contain_text("Открыта до")
            await expect(ru.locator("section[data-slot='slot-011'] .thumb")).not_to_have_count(0)
            await expect(ru.get_by_role("link", name="Скачать все (ZIP)")).to_be_visible()
            await previews_shown(ru, list(SLOTS))
            await assert_accessible(ru)
            await assert_no_horizontal_scroll(ru)
            await screenshot(ru, "pubgallery-ru-dark-phone")
            await ru.goto(f"/r/{job}")
            await expect(ru.get_by_role("heading", name="Ваше фото", level=1)).to_be_visible()
            await expect(ru.get_by_role("link", name="Скачать")).to_be_visible()
            await assert_no_horizontal_scroll(ru)
            await assert_accessible(ru)
            await screenshot(ru, "guest-ru-dark-phone")

            # The admin stops sharing: the public page says it is closed.
            await page.set_viewport_size(DESKTOP)
            await page.get_by_role("button", name="Stop sharing").click()
            await expect(pill).to_have_text("Not shared")
            await expect(page.get_by_role("link", name="Download all (ZIP)")).to_have_count(0)
            await goto(public, None, 403)
            await expect(
                public.get_by_role("heading", name="The gallery is closed")
            ).to_be_visible()
            await expect(public.locator(".thumb")).to_have_count(0)
            await expect(public.get_by_role("link", name="Download all (ZIP)")).to_be_hidden()
            await assert_accessible(public)
            await assert_no_horizontal_scroll(public)
            await screenshot(public, "pubgallery-closed-phone")
            await goto(ru, "/pubgallery", 403)
            await expect(ru.get_by_role("heading", name="Галерея закрыта")).to_be_visible()
            await screenshot(ru, "pubgallery-closed-ru-dark-phone")
            zip_answer = await guest.request.get("/pub/gallery.zip")
            assert zip_answer.status == 403
        finally:
            await russian.close()
    finally:
        await guest.close()


async def test_a_phone_with_a_share_sheet_shares_the_photo_itself(
    browser: Browser,
    web_server: WebServer,
    admin_api: httpx.AsyncClient,
    problems: PageProblems,
    context: BrowserContext,  # its teardown checks `problems`
) -> None:
    (await admin_api.put("/api/slots/slot-012", json={"active": True})).raise_for_status()
    job = await booth_photo(web_server, "slot-012")
    phone = await guest_context(browser, web_server, viewport=PHONE)
    phone.on("page", problems.watch)
    # Chromium on Linux has no Web Share: give the page the phone's API, which
    # records what it was asked to share.
    await phone.add_init_script(SHARE_SHEET)
    try:
        page = await phone.new_page()
        await page.goto(f"/r/{job}")
        share = page.get_by_role("button", name="Share")
        await expect(share).to_have_attribute("data-file", "ready")
        await share.click()
        await page.wait_for_function("() => window.sharedByPage.length === 1")
        (shared,) = await page.evaluate("() => window.sharedByPage")
        assert shared["files"] == [[f"photochanger-{job}.jpg", "image/jpeg", True]]
        await assert_accessible(page)
        await screenshot(page, "guest-share-phone")
    finally:
        await phone.close()


SHARE_SHEET = """
window.sharedByPage = [];
Object.defineProperty(Navigator.prototype, "share", { configurable: true, value: async (data) => {
  window.sharedByPage.push({ url: data.url || null, title: data.title,
    files: (data.files || []).map((file) => [file.name, file.type, file.size > 0]) });
} });
Object.defineProperty(Navigator.prototype, "canShare", { configurable: true,
  value: (data) => Array.isArray(data.files) });
"""


async def test_guest_pages_say_in_words_when_a_photo_is_unknown_or_expired(
    context: BrowserContext,
    browser: Browser,
    web_server: WebServer,
    admin_api: httpx.AsyncClient,
    problems: PageProblems,
) -> None:
    (await admin_api.put("/api/slots/slot-012", json={"active": True})).raise_for_status()
    expired = await booth_photo(web_server, "slot-012")
    expire_in_database(web_server, expired)

    page = await context.new_page()
    await goto(page, "/r/no-such-photo-here", 404)
    await expect(page.get_by_role("heading", name="Photo not found", level=1)).to_be_visible()
    await expect(page.get_by_text("This link leads to no photo.")).to_be_visible()
    await expect(page).to_have_title("Photo not found · PhotoChanger")
    await assert_accessible(page)
    await screenshot(page, "guest-404-desktop")
    await page.set_viewport_size(PHONE)
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "guest-404-phone")

    await goto(page, f"/r/{expired}", 410)
    await expect(
        page.get_by_role("heading", name="This photo has expired", level=1)
    ).to_be_visible()
    await expect(page.get_by_role("link", name="Download")).to_have_count(0)
    await assert_accessible(page)
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "guest-410-phone")
    assert (await context.request.get(f"/public/results/{expired}/qr.png")).status == 410
    assert (await context.request.get("/public/results/no-such-photo-here/qr.png")).status == 404

    russian = await guest_context(browser, web_server, "ru-RU", viewport=PHONE)
    russian.on("page", problems.watch)
    try:
        ru = await russian.new_page()
        await ru.goto("/r/no-such-photo-here")
        await expect(ru.get_by_role("heading", name="Фото не найдено", level=1)).to_be_visible()
        await screenshot(ru, "guest-404-ru-phone")
        await ru.goto(f"/r/{expired}")
        await expect(ru.get_by_role("heading", name="Срок хранения фото истёк")).to_be_visible()
        await assert_accessible(ru)
        await screenshot(ru, "guest-410-ru-phone")
    finally:
        await russian.close()
