"""SECURITY.md T8 and T9: the security headers on every GET route's answer,
HSTS on a request that came over TLS, and the API's description (`/docs`,
`/redoc`, `/openapi.json`) behind login in production or off."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Route

from photochanger.app import create_app
from photochanger.config import Settings
from photochanger.web.security import API_DOCS_PATHS, CONTENT_SECURITY_POLICY
from support import ADMIN_PASSWORD, ADMIN_USERNAME, assert_error

DOCS = ("/openapi.json", "/docs", "/redoc")


def routes_of(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The app's routes, through the included routers (every one is included
    without a prefix)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from routes_of(included.routes) if included is not None else [route]


def plain_get_paths(app: FastAPI) -> list[str]:
    """Every GET route without a path parameter: the pages, the API's lists,
    the health probes, the docs."""
    paths = [
        route.path
        for route in routes_of(app.routes)
        if isinstance(route, APIRoute | Route) and route.methods and "GET" in route.methods
        if "{" not in route.path
    ]
    return sorted({*paths, "/static/css/app.css", "/no-such-page"})


async def test_every_get_answer_carries_the_security_headers(
    app: FastAPI, admin_token: str
) -> None:
    paths = plain_get_paths(app)
    assert {"/login", "/settings", "/api/slots", "/healthz", "/docs"} <= set(paths)
    transport = httpx.ASGITransport(app=app)
    for cookies in ({}, {"photochanger_session": admin_token}):
        async with httpx.AsyncClient(
            transport=transport, base_url="http://booth.test", cookies=cookies
        ) as browser:
            for path in paths:
                answer = await browser.get(path)
                assert answer.status_code < 500, path
                headers = answer.headers
                assert headers.get_list("x-content-type-options") == ["nosniff"], path
                assert headers["referrer-policy"] == "same-origin", path
                assert headers["x-frame-options"] == "DENY", path
                if not path.startswith(API_DOCS_PATHS):
                    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
                assert "strict-transport-security" not in headers, path
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


async def test_hsts_is_sent_on_a_request_that_came_over_tls(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://booth.test") as tls:
        for path in ("/login", "/api/slots", "/healthz"):
            answer = await tls.get(path)
            assert answer.headers["strict-transport-security"] == "max-age=31536000", path


@pytest.fixture
async def production_app(config: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(
        config.model_copy(update={"environment": "production", "enable_test_providers": False})
    )
    async with application.router.lifespan_context(application):
        yield application


async def test_in_production_the_api_docs_need_an_admin(
    production_app: FastAPI, admin_password_hash: str
) -> None:
    from photochanger.auth.repository import AccountRepository

    services = production_app.state.services
    await services.database.write(
        lambda c: AccountRepository(c).create(ADMIN_USERNAME, admin_password_hash)
    )
    transport = httpx.ASGITransport(app=production_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://booth.test") as browser:
        for path in DOCS:
            assert_error(await browser.get(path), 401, "not_authenticated")
        login = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        token = (await browser.post("/api/login", json=login)).json()["access_token"]
        # The browser now holds the session cookie: the admin opens /docs in it.
        for path in DOCS:
            assert (await browser.get(path)).status_code == 200, path
        document = await browser.get("/openapi.json")
        assert "/api/ingest/{slot_id}" in document.json()["paths"]
    async with httpx.AsyncClient(transport=transport, base_url="http://booth.test") as script:
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await script.get("/openapi.json", headers=bearer)).status_code == 200


@pytest.mark.parametrize(("setting", "status"), [("off", 404), ("public", 200)])
async def test_the_api_docs_can_be_switched_off_or_opened(
    config: Settings, setting: str, status: int
) -> None:
    application = create_app(
        config.model_copy(
            update={
                "environment": "production",
                "enable_test_providers": False,
                "api_docs": setting,
            }
        )
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://booth.test") as anyone:
            for path in DOCS:
                assert (await anyone.get(path)).status_code == status, path


def test_outside_production_the_docs_are_public_unless_told() -> None:
    assert Settings(_env_file=None).api_docs_access == "public"  # type: ignore[call-arg]
    production = Settings(_env_file=None, environment="production")  # type: ignore[call-arg]
    assert production.api_docs_access == "login"
