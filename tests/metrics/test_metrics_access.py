"""Who may read `/metrics` (`PHOTOCHANGER_METRICS_ACCESS`): by default clients on
the host itself; with `token` whoever sends the bearer token; with `off` nobody.
A client that may not gets the 404 of a page that does not exist."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError

from conftest import LiveServer
from photochanger.app import create_app
from photochanger.config import Settings
from support import assert_error

TOKEN = "m" * 24 + "-metrics-token-0123456789"
GUEST = ("203.0.113.7", 51000)
"""A client elsewhere on the internet (TEST-NET-3)."""


@asynccontextmanager
async def client_of(
    app: FastAPI, client: tuple[str, int] = ("127.0.0.1", 40000)
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://booth.test") as http:
        yield http


@asynccontextmanager
async def app_with(config: Settings, **settings: object) -> AsyncIterator[FastAPI]:
    application = create_app(config.model_copy(update=settings))
    async with application.router.lifespan_context(application):
        yield application


async def test_loopback_clients_read_the_metrics_by_default(app: FastAPI) -> None:
    for address in ("127.0.0.1", "::1"):
        async with client_of(app, (address, 40000)) as http:
            response = await http.get("/metrics")
        assert response.status_code == 200, address
        assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        assert "# TYPE photochanger_ingests_total counter" in response.text


async def test_a_client_elsewhere_gets_the_404_of_a_missing_page(app: FastAPI) -> None:
    async with client_of(app, GUEST) as http:
        refused = await http.get("/metrics")
        missing = await http.get("/no-such-page")
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()
    assert "photochanger" not in refused.text


async def test_with_a_token_every_client_must_send_it(config: Settings) -> None:
    async with app_with(config, metrics_access="token", metrics_token=SecretStr(TOKEN)) as app:
        for client in (GUEST, ("127.0.0.1", 40000)):
            async with client_of(app, client) as http:
                assert_error(await http.get("/metrics"), 401, "not_authenticated")
                wrong = {"Authorization": f"Bearer {TOKEN[:-1]}x"}
                assert_error(await http.get("/metrics", headers=wrong), 401, "not_authenticated")
                basic = {"Authorization": f"Basic {TOKEN}"}
                assert_error(await http.get("/metrics", headers=basic), 401, "not_authenticated")
                right = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
                assert right.status_code == 200
                assert "photochanger_build_info" in right.text


async def test_off_is_off_for_everyone(config: Settings) -> None:
    async with app_with(config, metrics_access="off") as app, client_of(app) as http:
        assert (await http.get("/metrics")).status_code == 404


def test_token_access_needs_a_long_token() -> None:
    with pytest.raises(ValidationError, match="PHOTOCHANGER_METRICS_TOKEN"):
        Settings(_env_file=None, metrics_access="token")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(_env_file=None, metrics_access="token", metrics_token="short")  # type: ignore[call-arg]
    settings = Settings(_env_file=None, metrics_access="token", metrics_token=TOKEN)  # type: ignore[call-arg]
    assert settings.metrics_token is not None
    assert settings.metrics_token.get_secret_value() == TOKEN
    assert "metrics-token" not in repr(settings)


def test_the_access_setting_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOTOCHANGER_METRICS_ACCESS", "token")
    monkeypatch.setenv("PHOTOCHANGER_METRICS_TOKEN", TOKEN)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.metrics_access == "token"
    monkeypatch.setenv("PHOTOCHANGER_METRICS_ACCESS", "everyone")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_behind_the_proxy_a_guest_is_not_on_loopback(live_server: LiveServer) -> None:
    """`photochanger serve` takes the client's address from `X-Forwarded-For` when
    the proxy on this host sets it (as deploy/nginx.conf does): a guest asking
    through the proxy is refused, a Prometheus on the host is not."""
    url = f"{live_server.base_url}/metrics"
    assert httpx.get(url, timeout=10).status_code == 200
    through_proxy = httpx.get(url, headers={"X-Forwarded-For": GUEST[0]}, timeout=10)
    assert through_proxy.status_code == 404
    # A guest who sends a loopback address of its own: nginx appends the real one.
    spoofed = {"X-Forwarded-For": f"127.0.0.1, {GUEST[0]}"}
    assert httpx.get(url, headers=spoofed, timeout=10).status_code == 404
