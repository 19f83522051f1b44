"""The UI's pages over HTTP (issue 16 §1, §7): admin pages need the session and
send the admin back after login, the shell names its language, loads only
scripts from this site, and every answer carries the security headers."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from photochanger.web.endpoints import ADMIN_PAGES
from photochanger.web.security import CONTENT_SECURITY_POLICY
from support import ADMIN_PASSWORD, ADMIN_USERNAME, booth_fields, make_image

ADMIN_PATHS = [path.replace("{slot_id}", "slot-003") for path in ADMIN_PAGES]


class Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str | None] = []
        self.links: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.sources.append(values.get("src"))
            self._in_script = True
        if tag == "link" and values.get("href"):
            self.links.append(str(values["href"]))
        if any(name.startswith("on") for name, _ in attrs):
            self.inline.append(f"{tag} handler")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data.strip()[:60])


async def log_in(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/api/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert answer.status_code == 200


@pytest.mark.parametrize("path", ADMIN_PATHS)
async def test_an_admin_page_without_a_session_goes_to_login_and_names_the_way_back(
    client: httpx.AsyncClient, admin_token: str, path: str
) -> None:
    answer = await client.get(path + "?window=60")
    assert answer.status_code == 303
    target = answer.headers["location"]
    assert target.startswith("/login?next=")
    next_path = httpx.URL(target).params["next"]
    assert next_path == path + "?window=60"


async def test_a_bearer_header_does_not_open_a_page(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    # Pages are for the browser session; a token in a header (a script's) is not it.
    answer = await client.get("/", headers={"Authorization": f"Bearer {admin_token}"})
    assert answer.status_code == 303


async def test_an_invalid_session_cookie_goes_to_login(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    client.cookies.set("photochanger_session", admin_token[:-4] + "AAAA")
    assert (await client.get("/settings")).status_code == 303


@pytest.mark.parametrize("path", ADMIN_PATHS)
async def test_a_logged_in_admin_gets_the_page_in_the_browsers_language(
    client: httpx.AsyncClient, admin_token: str, path: str
) -> None:
    await log_in(client)
    answer = await client.get(path, headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert '<html lang="ru"' in answer.text
    assert "Перейти к содержимому" in answer.text
    english = await client.get(path, headers={"Accept-Language": "en-US"})
    assert '<html lang="en"' in english.text
    client.cookies.set("photochanger_lang", "ru")
    switched = await client.get(path, headers={"Accept-Language": "en-US"})
    assert '<html lang="ru"' in switched.text


@pytest.mark.parametrize("path", [*ADMIN_PATHS, "/login"])
async def test_pages_load_only_scripts_of_this_site_and_every_asset_exists(
    client: httpx.AsyncClient, admin_token: str, path: str
) -> None:
    if path != "/login":
        await log_in(client)
    page = await client.get(path)
    parser = Scripts()
    parser.feed(page.text)
    assert parser.inline == []
    assert parser.sources
    assert all(src and src.startswith("/static/") for src in parser.sources)
    for url in [*parser.sources, *parser.links]:
        assert url is not None
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("/stats?window=60", "/stats?window=60"),
        ("//example.com/x", "/"),
        ("/\\example.com", "/"),
        ("https://example.com/", "/"),
        (None, "/"),
    ],
)
async def test_the_login_page_of_a_logged_in_admin_goes_on_only_within_the_site(
    client: httpx.AsyncClient, admin_token: str, asked: str | None, expected: str
) -> None:
    await log_in(client)
    params = {"next": asked} if asked is not None else {}
    answer = await client.get("/login", params=params)
    assert answer.status_code == 303
    assert answer.headers["location"] == expected


async def test_every_answer_carries_the_security_headers(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    photo = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("a.jpg", make_image(), "image/jpeg")},
    )
    answers = [
        await client.get("/login"),
        await client.get("/static/css/app.css"),
        await admin_client.get("/api/slots"),
        await client.get("/api/slots"),  # a 401
        photo,
        await client.get(f"/public/results/{photo.headers['x-job-id']}"),
    ]
    for answer in answers:
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert re.search(r"script-src 'self';", CONTENT_SECURITY_POLICY)
        assert answer.headers.get_list("x-content-type-options") == ["nosniff"]
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["x-frame-options"] == "DENY"


async def test_the_api_docs_keep_working_without_the_strict_policy(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/docs")
    assert answer.status_code == 200
    assert "content-security-policy" not in answer.headers
    assert answer.headers["x-content-type-options"] == "nosniff"


async def test_the_charting_library_loads_only_on_the_statistics_page(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    await log_in(client)
    stats = Scripts()
    stats.feed((await client.get("/stats")).text)
    vendored = [url for url in [*stats.sources, *stats.links] if url and "/vendor/" in url]
    assert [url.split("?")[0] for url in vendored] == [
        "/static/vendor/uplot/uPlot.iife.min.js",
        "/static/vendor/uplot/uPlot.min.css",
    ]
    # uPlot's stylesheet comes before the app's, whose theme rules win.
    assert stats.links.index(vendored[1]) < next(
        index for index, url in enumerate(stats.links) if "/css/app.css" in url
    )
    dashboard = Scripts()
    dashboard.feed((await client.get("/")).text)
    assert not [url for url in [*dashboard.sources, *dashboard.links] if url and "/vendor/" in url]
