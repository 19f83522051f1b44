"""`/openapi.json`, `/docs` and `/redoc` as `api_docs` allows (SECURITY.md): open
to anyone (`public`), to a logged-in admin (`login`: the Bearer token or the web
UI's session cookie, so an admin who is logged in opens `/docs` in the same
browser), or not served at all (`off`). FastAPI's own routes are switched off in
`create_app`; these take their place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.params import Depends as DependsParam
from starlette.responses import HTMLResponse, JSONResponse

from photochanger.auth.dependencies import require_admin
from photochanger.config import Settings

OPENAPI_PATH = "/openapi.json"


def api_docs_router(config: Settings) -> APIRouter:
    access = config.api_docs_access
    router = APIRouter(include_in_schema=False)
    if access == "off":
        return router
    guard: Sequence[DependsParam] = [Depends(require_admin)] if access == "login" else []

    @router.get(OPENAPI_PATH, dependencies=guard)
    async def openapi_document(request: Request) -> JSONResponse:
        app: FastAPI = request.app
        document: dict[str, Any] = app.openapi()
        return JSONResponse(document)

    @router.get("/docs", dependencies=guard)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=OPENAPI_PATH, title=f"{request.app.title} API")

    @router.get("/redoc", dependencies=guard)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(openapi_url=OPENAPI_PATH, title=f"{request.app.title} API")

    return router
