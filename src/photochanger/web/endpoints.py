"""The web UI's pages (SPEC §7). Each answers the HTML shell of `shell.py`; an
admin page asked for without a valid session goes to the login page, which
returns the admin to the page they asked for. The guests' pages (the public
gallery, a result's guest page) need no session and answer with the status of
what they show, so a link checker or a proxy sees a closed gallery as 403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Cookie, Header, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from photochanger.auth.dependencies import SESSION_COOKIE, AuthServiceDep
from photochanger.errors import NotAuthenticated, PhotoChangerError, ResultExpired, ResultNotFound
from photochanger.gallery.dependencies import GalleryServiceDep
from photochanger.gallery.service import PAGE_PATH
from photochanger.media.dependencies import MediaServiceDep
from photochanger.web.catalog import LANGUAGE_COOKIE, pick_language
from photochanger.web.shell import Page, render

router = APIRouter(include_in_schema=False)
public_router = APIRouter(tags=["public"])
"""The guests' pages, in the OpenAPI document beside the links they open."""

DASHBOARD = Page("dashboard")
SLOT = Page("slot")
SETTINGS = Page("settings")
JOBS = Page("jobs")
STATS = Page("stats", vendor=("uplot/uPlot.iife.min.js",), vendor_css=("uplot/uPlot.min.css",))
GALLERY = Page("gallery")
LOGIN = Page("login", admin=False)
PUBLIC_GALLERY = Page("pubgallery", admin=False)
GUEST = Page("guest", admin=False)

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


async def _logged_in(auth: AuthServiceDep, session: str | None) -> bool:
    if not session:
        return False
    try:
        await auth.authenticate(session)
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
        auth: AuthServiceDep,
        session: SessionCookie = None,
        lang: LanguageCookie = None,
        accept_language: AcceptLanguage = None,
    ) -> Response:
        if not await _logged_in(auth, session):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return html(render(page, pick_language(lang, accept_language)))

    endpoint.__name__ = f"{page.name}_page"
    return endpoint


for _path, _page in ADMIN_PAGES.items():
    router.add_api_route(_path, _admin_page(_page), methods=["GET"])
del _path, _page


@router.get("/login")
async def login_page(
    auth: AuthServiceDep,
    next: str | None = None,
    session: SessionCookie = None,
    lang: LanguageCookie = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    if await _logged_in(auth, session):
        return RedirectResponse(safe_next(next), status_code=303)
    return html(render(LOGIN, pick_language(lang, accept_language)))


@public_router.get(
    PAGE_PATH,
    response_class=HTMLResponse,
    responses={
        200: {"description": "The gallery is shared: the page shows its photos."},
        403: {"description": "The gallery is closed: the page says so."},
    },
)
async def public_gallery_page(
    gallery: GalleryServiceDep, lang: LanguageCookie = None, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    """The public gallery's page (SPEC §6.7), in the guest's language. 200 in
    the share window, 403 outside it (the page then says the gallery is closed);
    its script loads `/pub/gallery` and follows the window as it opens and closes."""
    state = await gallery.state()
    language = pick_language(lang, accept_language)
    if state.open:
        return html(render(PUBLIC_GALLERY, language))
    return html(render(PUBLIC_GALLERY, language, state="closed"), status_code=403)


@public_router.get(
    "/r/{job_id}",
    response_class=HTMLResponse,
    responses={
        200: {"description": "The result, with download and share buttons."},
        404: {"description": "Unknown or unfinished job: the page says so in words."},
        410: {"description": "The result has expired: the page says so in words."},
    },
)
async def guest_page(
    job_id: str,
    media: MediaServiceDep,
    lang: LanguageCookie = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """A result's guest page (SPEC §10), the target of its QR code
    (`/public/results/{job_id}/qr.png`): the photo large, a download button and
    the phone's share button. 404 / 410 like the result link, as a page in words."""
    language = pick_language(lang, accept_language)
    try:
        await media.live_result(job_id)
    except (ResultNotFound, ResultExpired) as error:
        return html(render(GUEST, language, state=_GUEST_STATES[type(error)]), error.status_code)
    return html(render(GUEST, language, state="ready"))


_GUEST_STATES: dict[type[PhotoChangerError], str] = {
    ResultNotFound: "not_found",
    ResultExpired: "expired",
}
