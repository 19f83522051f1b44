"""Who may read `/metrics` (`PHOTOCHANGER_METRICS_ACCESS`): by default clients on
the host itself; with `token` whoever sends the bearer token; with `off` nobody.
A client that may not gets the 404 of a page that does not exist. Which address
is the client's: `X-Forwarded-For` counts only on connections from the proxies
of `PHOTOCHANGER_FORWARDED_ALLOW_IPS` (never `*`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError

from conftest import LiveServer, start_live_server
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
    # A guest's own loopback address in front of the one a proxy added: uvicorn
    # takes the rightmost address that is not a trusted proxy.
    spoofed = {"X-Forwarded-For": f"127.0.0.1, {GUEST[0]}"}
    assert httpx.get(url, headers=spoofed, timeout=10).status_code == 404


def test_the_trusted_proxies_default_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHOTOCHANGER_FORWARDED_ALLOW_IPS", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.forwarded_allow_ips == "127.0.0.1,::1"
    assert settings.trusted_proxies == ["127.0.0.1", "::1"]


def test_the_trusted_proxies_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOTOCHANGER_FORWARDED_ALLOW_IPS", " 172.30.57.10 , 10.0.0.0/24,fd00::/8 ")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.forwarded_allow_ips == "172.30.57.10,10.0.0.0/24,fd00::/8"
    assert settings.trusted_proxies == ["172.30.57.10", "10.0.0.0/24", "fd00::/8"]
    monkeypatch.setenv("PHOTOCHANGER_FORWARDED_ALLOW_IPS", "")
    assert Settings(_env_file=None).trusted_proxies == []  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*", "not `\\*`"),
        ("127.0.0.1,*", "not `\\*`"),
        ("proxy", "'proxy' is not an IP address"),
        ("10.0.0.5/24", "'10.0.0.5/24' is not an IP address or network"),  # host bits set
        ("127.0.0.1 10.0.0.1", "is not an IP address"),
    ],
)
def test_the_trusted_proxies_are_addresses_never_everyone(value: str, message: str) -> None:
    """uvicorn would read `*` as every sender, and an entry it cannot read as
    matching nothing: both are refused when the process starts."""
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, forwarded_allow_ips=value)  # type: ignore[call-arg]


@pytest.fixture
def untrusting_server(config: Settings, app: FastAPI) -> Iterator[LiveServer]:
    """`photochanger serve` that trusts no proxy, not even one on loopback."""
    server = start_live_server(config, extra_env={"PHOTOCHANGER_FORWARDED_ALLOW_IPS": ""})
    yield server
    server.stop()


def test_serve_believes_x_forwarded_for_only_from_the_trusted_proxies(
    untrusting_server: LiveServer,
) -> None:
    """With no trusted proxy, the header changes nothing: a client on loopback
    stays on loopback whatever address it claims."""
    url = f"{untrusting_server.base_url}/metrics"
    for claimed in (GUEST[0], "127.0.0.1", f"{GUEST[0]}, 127.0.0.1"):
        answer = httpx.get(url, headers={"X-Forwarded-For": claimed}, timeout=10)
        assert answer.status_code == 200, claimed


def test_the_legacy_wildcard_variable_is_ignored(config: Settings, app: FastAPI) -> None:
    """`FORWARDED_ALLOW_IPS=*` (as an old deploy/compose.yaml set it) would make
    uvicorn take the leftmost, guest-written entry; `serve` keeps the default
    trusted proxies instead, so the guest behind them is still refused."""
    server = start_live_server(config, extra_env={"FORWARDED_ALLOW_IPS": "*"})
    try:
        spoofed = {"X-Forwarded-For": f"127.0.0.1, {GUEST[0]}"}
        answer = httpx.get(f"{server.base_url}/metrics", headers=spoofed, timeout=10)
        assert answer.status_code == 404
    finally:
        server.stop()
