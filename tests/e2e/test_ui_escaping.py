"""SECURITY.md T12: every text that comes from a slot, a booth or a provider is
shown as text in the web UI — a slot's name and prompt, the booth's metadata,
the provider's error message — in real Chromium: no element is made of it and
no script runs (a dialog would be recorded)."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from e2e_support import WebServer, screenshot
from support import booth_fields, make_image

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
SLOT = "slot-012"


async def test_texts_from_slots_booths_and_providers_are_shown_as_text(
    admin_page: Page, admin_api: httpx.AsyncClient, web_server: WebServer
) -> None:
    before = (await admin_api.get(f"/api/slots/{SLOT}")).json()
    try:
        answer = await admin_api.put(
            f"/api/slots/{SLOT}",
            json={
                "active": True,
                "name": f"Name {HOSTILE}",
                "provider": "echo",
                "operation": "echo",
                "settings": {"fail_with": f"Provider says {HOSTILE}", "fail_kind": "permanent"},
            },
        )
        assert answer.status_code == 200, answer.text
        async with httpx.AsyncClient(timeout=60) as booth:
            refused = await booth.post(
                f"{web_server.base_url}/api/ingest/{SLOT}",
                data=booth_fields(name=f"Booth {HOSTILE}", profile=HOSTILE),
                files={"fileToUpload": ("x.jpg", make_image(seed=12012), "image/jpeg")},
            )
        assert refused.status_code == 502
        log = await admin_api.get("/api/jobs", params={"slot_id": SLOT, "limit": 1})
        (job,) = log.json()["jobs"]

        page = admin_page
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        for path, shown in (
            ("/", f"Name {HOSTILE}"),
            (f"/slots/{SLOT}", f"Name {HOSTILE}"),
            (f"/jobs?slot={SLOT}&job={job['id']}", f"Provider says {HOSTILE}"),
        ):
            await page.goto(path)
            await expect(page.get_by_text(shown).first).to_be_visible()
            assert await page.locator("img[src='x'], main script, dialog script").count() == 0
        detail = page.get_by_role("dialog", name="Photo job")
        await expect(detail).to_contain_text(f"Booth {HOSTILE}")
        await screenshot(page, "escaping-job-detail", full_page=False)
        assert dialogs == []
    finally:  # the web server is shared: the gallery tests use this slot as it was
        restore = {
            key: before[key] for key in ("name", "provider", "operation", "settings", "active")
        }
        (await admin_api.put(f"/api/slots/{SLOT}", json=restore)).raise_for_status()
