"""SPEC §3.2, §3.4, §4: a provider failing below HTTP — a connection reset
mid-answer, TLS that does not verify, an answer that never ends, a 10 MB error
page — is a 502 `provider_error` or a 504 inside the window, never a 500; the
app reads a bounded part of what it is sent; and the job log says why.

The provider is Gemini with its base URL on a loopback fault server
(`fakes/faults.py`), or, for TLS spoken to a plain listener, on the Gemini fake."""

from __future__ import annotations

import ssl
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes import gemini
from fakes.faults import (
    FaultServer,
    answer,
    endless_body,
    huge_body,
    reset_mid_answer,
    self_signed_tls,
    serving,
)
from fakes.gemini import GeminiFake
from faults.faulty import MARGIN_SECONDS, WINDOW_SECONDS, post, timed_post
from photochanger.config import Settings
from support import SessionFactory, assert_error, configure_slot, put_setting

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

HUGE = 10 * 1024 * 1024


def provider_at(target: str) -> pytest.MarkDecorator:
    """The test's Gemini base URL: that of the fixture named `target`."""
    return pytest.mark.parametrize("provider_url", [target], indirect=True)


@pytest.fixture
def provider_url(request: pytest.FixtureRequest) -> str:
    target = request.getfixturevalue(request.param)
    return target if isinstance(target, str) else str(target.base_url)


@pytest.fixture
def config(config: Settings, provider_url: str) -> Settings:
    return config.model_copy(update={"provider_base_urls": {"gemini": provider_url}})


@pytest.fixture(autouse=True)
async def gemini_slot(factory: SessionFactory) -> None:
    await put_setting(factory, "gemini_api_key", gemini.API_KEY)
    await put_setting(factory, "sync_response_seconds", WINDOW_SECONDS)
    await configure_slot(
        factory, "slot-001", provider="gemini", operation="edit", settings={"prompt": "A beach."}
    )


@pytest.fixture
def resetting() -> Iterator[FaultServer]:
    yield from serving(reset_mid_answer())


@pytest.fixture
def endless() -> Iterator[FaultServer]:
    yield from serving(endless_body())


@pytest.fixture
def huge_error_page() -> Iterator[FaultServer]:
    yield from serving(huge_body(503, HUGE))


@pytest.fixture
def huge_declared_error_page() -> Iterator[FaultServer]:
    yield from serving(huge_body(400, HUGE, declare=True))


@pytest.fixture(scope="module")
def untrusted_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """A server context with a self-signed certificate, and that certificate."""
    directory = tmp_path_factory.mktemp("tls")
    return self_signed_tls(directory), directory / "cert.pem"


@pytest.fixture
def untrusted(untrusted_tls: tuple[ssl.SSLContext, Path]) -> Iterator[FaultServer]:
    """A proper Gemini answer, over TLS with a certificate nothing trusts."""
    yield from serving(answer(gemini.success()), tls=untrusted_tls[0])


@pytest.fixture
def https_to_plain(gemini_fake: GeminiFake) -> str:
    """TLS spoken to the Gemini fake, which speaks plain HTTP."""
    return gemini_fake.base_url.replace("http://", "https://", 1)


async def job_log(admin: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """The one job as the job log lists it, and its detail."""
    listed = await admin.get("/api/jobs")
    assert listed.status_code == 200, listed.text
    (entry,) = listed.json()["jobs"]
    detail = await admin.get(f"/api/jobs/{entry['id']}")
    assert detail.status_code == 200, detail.text
    return entry, detail.json()


@provider_at("resetting")
async def test_a_connection_reset_mid_answer_is_a_provider_error(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, resetting: FaultServer
) -> None:
    body = assert_error(await post(client), 502, "provider_error")
    assert "broke the connection mid-response" in str(body["details"])
    assert len(resetting.requests) == 3  # a network failure is retried inside the window
    entry, detail = await job_log(admin_client)
    assert (entry["status"], entry["failure_reason"]) == ("failed", "provider_error")
    assert [attempt["outcome"] for attempt in detail["attempts"]] == ["transient"] * 3
    assert "broke the connection mid-response" in detail["failure_details"]


@provider_at("untrusted")
async def test_a_certificate_that_does_not_verify_is_refused(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    untrusted: FaultServer,
    untrusted_tls: tuple[ssl.SSLContext, Path],
) -> None:
    body = assert_error(await post(client), 502, "provider_error")
    assert "TLS certificate failed verification" in str(body["details"])
    # Verification is on: not one request was sent over the connection ...
    assert untrusted.requests == []
    entry, detail = await job_log(admin_client)
    assert entry["failure_reason"] == "provider_error"
    assert [a["reason"] for a in detail["attempts"]] == ["tls_certificate"]  # not retried
    # ... though a client trusting the certificate gets a proper answer there.
    trusting = ssl.create_default_context(cafile=untrusted_tls[1])
    async with httpx.AsyncClient(verify=trusting) as direct:
        proper = await direct.post(f"{untrusted.base_url}/v1beta/models/m:generateContent")
    assert proper.status_code == 200
    assert proper.json()["candidates"]


@provider_at("https_to_plain")
async def test_tls_spoken_to_a_plain_listener_is_a_provider_error(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, gemini_fake: GeminiFake
) -> None:
    body = assert_error(await post(client), 502, "provider_error")
    assert "TLS handshake with gemini failed" in str(body["details"])
    assert gemini_fake.received == []
    entry, detail = await job_log(admin_client)
    assert entry["failure_reason"] == "provider_error"
    assert {a["reason"] for a in detail["attempts"]} == {"tls_handshake"}


@provider_at("endless")
async def test_an_answer_that_never_ends_is_cut_at_the_deadline(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, endless: FaultServer
) -> None:
    response, seconds = await timed_post(client)
    assert_error(response, 504, "provider_timeout")
    assert seconds < WINDOW_SECONDS + MARGIN_SECONDS
    assert len(endless.requests) == 1
    entry, detail = await job_log(admin_client)
    assert (entry["status"], entry["failure_reason"]) == ("timeout", "provider_timeout")
    assert [a["outcome"] for a in detail["attempts"]] == ["timeout"]


@pytest.mark.parametrize(
    ("provider_url", "status", "calls"),
    [("huge_error_page", 503, 3), ("huge_declared_error_page", 400, 1)],
    indirect=["provider_url"],
    ids=["chunked_503", "declared_400"],
)
async def test_a_10_mb_error_page_is_read_only_in_part(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    request: pytest.FixtureRequest,
    provider_url: str,
    status: int,
    calls: int,
) -> None:
    del provider_url
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        response = await post(client)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    body = assert_error(response, 502, "provider_error")
    assert f"HTTP {status}" in str(body["details"])
    # The answer is dropped after its first 64 KiB: this ingest of a small photo
    # allocated nowhere near one 10 MB page at any moment (all threads counted).
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes"
    server: FaultServer = request.getfixturevalue(request.node.callspec.params["provider_url"])
    assert len(server.requests) == calls  # a 503 is retried, a 400 is not
    entry, detail = await job_log(admin_client)
    assert entry["failure_reason"] == "provider_error"
    assert {a["reason"] for a in detail["attempts"]} == {str(status)}
