"""A provider is one module plus one registry line (SPEC §4.1): one defined here,
in the test, registered through `extra_providers` alone, appears everywhere the
built-in ones do — the providers list, the slot form's validation, the settings
page's keys, its `PHOTOCHANGER_<NAME>_*` variables, an ingest and `provider-check`."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Literal

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from fakes.server import FakeServer, Received, Reply
from photochanger.app import create_app
from photochanger.config import Settings, api_key_variable, base_url_variable
from photochanger.db import Database
from photochanger.providers.base import (
    CheckRequest,
    JobContext,
    Operation,
    OperationSettings,
    ProviderNotConfigured,
    ProviderPermanentError,
    ProviderResult,
)
from photochanger.providers.check import check_provider
from photochanger.providers.http import HttpDriver
from photochanger.providers.pricing import Usage
from photochanger.settings.repository import SettingRepository
from support import booth_fields, make_image

ENVIRONMENT_KEY = "tint-key-from-the-environment-01"
SAVED_KEY = "tint-key-saved-on-the-settings-page-02"


class TintSettings(OperationSettings):
    colour: Literal["red", "green", "blue"] = "blue"


class TintDriver(HttpDriver):
    """A provider of the test's own: sends the photo to `POST /v1/tint`."""

    name: str = "tint"
    title: str = "Tint (a test's own provider)"
    title_i18n: Mapping[str, str] = {"ru": "Тонировка (провайдер теста)"}
    operations: Mapping[str, Operation] = {
        "tint": Operation("tint", "Tint the photo", TintSettings)
    }
    takes_api_key: bool = True
    default_base_url: str | None = "https://tint.invalid"
    check: CheckRequest | None = CheckRequest("tint", {"colour": "red"})

    async def edit(self, ctx: JobContext) -> ProviderResult:
        assert isinstance(ctx.settings, TintSettings)
        if not ctx.api_key:
            raise ProviderNotConfigured("no tint key")
        response = await self.client.post(
            "/v1/tint",
            params={"colour": ctx.settings.colour},
            headers={"Authorization": f"Bearer {ctx.api_key}"},
            content=ctx.image.read_bytes(),
            timeout=ctx.deadline.remaining(),
        )
        if response.status_code != 200:
            raise ProviderPermanentError(response.text, reason=str(response.status_code))
        return ProviderResult(
            mime="image/png",
            data=response.content,
            response_id=response.headers["x-request-id"],
            usage=Usage(model="tint", images=1),
        )


def tinted(request: Received) -> Reply:
    image = Image.open(io.BytesIO(request.body)).convert("RGB")
    out = io.BytesIO()
    Image.new("RGB", image.size, "blue").save(out, "PNG")
    return Reply(200, out.getvalue(), {"content-type": "image/png", "x-request-id": "tint-1"})


def refused(request: Received) -> Reply | None:
    if request.path != "/v1/tint":
        return Reply(404, b"no such route")
    if request.headers.get("authorization") not in {
        f"Bearer {k}" for k in (ENVIRONMENT_KEY, SAVED_KEY)
    }:
        return Reply(401, b"bad key")
    return None


@pytest.fixture(scope="module")
def tint_server() -> Iterator[FakeServer]:
    server = FakeServer(default=tinted, check=refused).start()
    yield server
    server.stop()


@pytest.fixture
def tint_fake(tint_server: FakeServer) -> FakeServer:
    tint_server.reset()
    return tint_server


def from_environment(config: Settings) -> Settings:
    """The test configuration, with the providers' variables read again from the
    environment as it is now."""
    per_provider = {"provider_api_keys", "provider_base_urls"}
    given = {name: getattr(config, name) for name in config.model_fields_set - per_provider}
    return Settings(_env_file=None, **given)  # type: ignore[call-arg]


@pytest.fixture
def config(config: Settings, tint_fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The tint provider's key and base URL come from its own variables."""
    monkeypatch.setenv(api_key_variable("tint"), ENVIRONMENT_KEY)
    monkeypatch.setenv(base_url_variable("tint"), tint_fake.base_url + "/")
    return from_environment(config)


@pytest.fixture
async def app(config: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(config, extra_providers=(TintDriver,))
    async with application.router.lifespan_context(application):
        yield application


def test_its_variables_are_read_by_its_name(config: Settings, tint_fake: FakeServer) -> None:
    assert api_key_variable("tint") == "PHOTOCHANGER_TINT_API_KEY"
    assert base_url_variable("tint") == "PHOTOCHANGER_TINT_BASE_URL"
    assert config.provider_api_key("tint") == ENVIRONMENT_KEY
    assert config.provider_base_url("tint", "unused") == tint_fake.base_url


async def test_it_is_listed_validated_keyed_and_run_like_a_built_in_one(
    admin_client: httpx.AsyncClient,
    client: httpx.AsyncClient,
    database: Database,
    tint_fake: FakeServer,
) -> None:
    listed = (await admin_client.get("/api/providers")).json()["providers"]
    (tint,) = [provider for provider in listed if provider["name"] == "tint"]
    assert tint["title"] == "Tint (a test's own provider)"
    (operation,) = tint["operations"]
    assert operation["settings_schema"]["properties"]["colour"]["enum"] == ["red", "green", "blue"]

    wrong = {"provider": "tint", "operation": "tint", "settings": {"colour": "pink"}}
    refused = await admin_client.put("/api/slots/slot-001", json=wrong)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["settings.colour"]
    slot = {"provider": "tint", "operation": "tint", "settings": {"colour": "green"}}
    assert (await admin_client.put("/api/slots/slot-001", json=slot)).status_code == 200

    keys = (await admin_client.get("/api/settings")).json()["provider_keys"]
    assert keys["tint"]["source"] == "environment"
    assert keys["tint"]["last4"] == ENVIRONMENT_KEY[-4:]
    saved = await admin_client.put("/api/settings", json={"provider_keys": {"tint": SAVED_KEY}})
    assert saved.status_code == 200, saved.text
    assert saved.json()["provider_keys"]["tint"]["source"] == "settings"
    stored = await database.read(lambda c: SettingRepository(c).all_values())
    assert stored["tint_api_key"] == SAVED_KEY

    photo = make_image("JPEG", (200, 150))
    answer = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("a.jpg", photo, "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    assert Image.open(io.BytesIO(answer.content)).size == (200, 150)
    request = tint_fake.last
    assert request.query == "colour=green"
    assert request.headers["authorization"] == f"Bearer {SAVED_KEY}"
    assert request.body == photo


async def test_provider_check_sends_its_check_request(
    config: Settings, tint_fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = await check_provider(config, "tint", extra=(TintDriver,))
    assert report.exit_code == 0, report.lines
    assert report.lines[0].startswith("tint: OK in ")
    assert "  response id: tint-1" in report.lines
    assert "  usage: {'model': 'tint', 'images': 1, 'reported': {}}" in report.lines
    assert report.image is not None
    assert Image.open(io.BytesIO(report.image)).format == "PNG"
    assert tint_fake.last.query == "colour=red"
    assert tint_fake.last.headers["authorization"] == f"Bearer {ENVIRONMENT_KEY}"

    monkeypatch.delenv(api_key_variable("tint"))
    tint_fake.reset()
    no_key = await check_provider(from_environment(config), "tint", extra=(TintDriver,))
    assert no_key.exit_code == 2
    assert no_key.lines == ["tint: no key configured (settings or PHOTOCHANGER_TINT_API_KEY)"]
    assert tint_fake.received == []
    # Not registered, it is not there to check.
    unknown = await check_provider(config, "tint")
    assert (unknown.exit_code, unknown.lines) == (2, ["tint: no such provider"])
