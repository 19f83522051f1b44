"""The web UI's pages (SPEC §7). Each answers the HTML shell of `shell.py`; an
admin page asked for without a valid session goes to the login page, which
returns the admin to the page they asked for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Cookie, Header, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from photochanger.auth.dependencies import SESSION_COOKIE
from photochanger.dependencies import ServicesDep
from photochanger.errors import NotAuthenticated
from photochanger.web.catalog import LANGUAGE_COOKIE, pick_language
from photochanger.web.shell import Page, render

router = APIRouter(include_in_schema=False)

DASHBOARD = Page("dashboard")
SLOT = Page("slot")
SETTINGS = Page("settings")
JOBS = Page("jobs")
STATS = Page("stats", vendor=("uplot/uPlot.iife.min.js",), vendor_css=("uplot/uPlot.min.css",))
GALLERY = Page("gallery")
LOGIN = Page("login", admin=False)

LanguageCookie = Annotated[str | None, Cookie(alias=LANGUAGE_COOKIE)]
SessionCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]
AcceptLanguage = Annotated[str | None, Header()]


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path of this site (no `//host`, no scheme),
    so the login page cannot be made to send an admin elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def html(body: str, status_code: int = 200) -> HTMLResponse:
    # Pages hold no data (the script fetches it), but a cached shell could
    # outlive a deploy: always revalidate.
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-cache"})


async def _logged_in(services: ServicesDep, session: str | None) -> bool:
    if not session:
        return False
    try:
        await services.auth.authenticate(session)
    except NotAuthenticated:
        return False
    return True


ADMIN_PAGES = {
    "/": DASHBOARD,
    "/slots/{slot_id}": SLOT,
    "/settings": SETTINGS,
    "/jobs": JOBS,
    "/stats": STATS,
    "/gallery": GALLERY,
}


def _admin_page(page: Page) -> Callable[..., Awaitable[Response]]:
    async def endpoint(
        request: Request,
        services: ServicesDep,
        session: SessionCookie = None,
        lang: LanguageCookie = None,
        accept_language: AcceptLanguage = None,
    ) -> Response:
        if not await _logged_in(services, session):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return html(render(page, pick_language(lang, accept_language)))

    endpoint.__name__ = f"{page.name}_page"
    return endpoint


for _path, _page in ADMIN_PAGES.items():
    router.add_api_route(_path, _admin_page(_page), methods=["GET"])


@router.get("/login")
async def login_page(
    services: ServicesDep,
    next: str | None = None,
    session: SessionCookie = None,
    lang: LanguageCookie = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    if await _logged_in(services, session):
        return RedirectResponse(safe_next(next), status_code=303)
    return html(render(LOGIN, pick_language(lang, accept_language)))
