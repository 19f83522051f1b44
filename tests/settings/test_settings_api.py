"""`GET/PUT /api/settings` (SPEC §6.5): values with who set them, partial
updates validated by the runtime limits, audited, keys write-only."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from photochanger.audit.repository import AuditRepository
from photochanger.config import Settings
from photochanger.db import Database
from photochanger.models import Job
from photochanger.providers.gemini import GeminiDriver
from photochanger.providers.openai import OpenAIDriver
from photochanger.settings.provider_keys import api_key_for
from photochanger.settings.repository import SettingRepository
from photochanger.settings.service import read_runtime_settings
from support import (
    ADMIN_USERNAME,
    INGEST_PASSWORD,
    SessionFactory,
    assert_error,
    booth_fields,
    configure_slot,
    echo,
    make_image,
)

GEMINI_KEY = "AIzaSy-saved-in-settings-9fK2"
ENVIRONMENT_KEY = "sk-from-the-environment-7Qx1"
SAVED_OPENAI_KEY = "sk-saved-on-the-settings-page-Zt8w"


@pytest.fixture
def config(config: Settings) -> Settings:
    """The environment of these replicas has an OpenAI key (and no other)."""
    return config.model_copy(update={"provider_api_keys": {"openai": SecretStr(ENVIRONMENT_KEY)}})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def ingest(client: httpx.AsyncClient, password: str, seed: int) -> httpx.Response:
    photo = make_image("JPEG", (160, 120), seed=seed)
    return await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(password=password),
        files={"fileToUpload": ("a.jpg", photo, "image/jpeg")},
    )


async def test_every_runtime_setting_is_listed_with_who_set_it(
    admin_client: httpx.AsyncClient, database: Database
) -> None:
    response = await admin_client.get("/api/settings")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["sync_response_seconds"] == {"value": 48, "updated_at": None, "updated_by": None}
    assert body["result_ttl_hours"]["value"] == 168
    assert body["slot_concurrency_limit"]["value"] == 10
    assert body["provider_concurrency_limit"]["value"] == 30
    # Stored at the first start, shown in plain text as the studio asked.
    assert body["ingest_password"]["value"] == INGEST_PASSWORD
    assert body["ingest_password"]["updated_by"] == "system"
    assert body["ingest_password"]["updated_at"] is not None
    keys = body["provider_keys"]
    # One key per provider that takes one: none for `local` or `echo`.
    assert set(keys) == {"gemini", "openai", "turbotext"}
    for name in ("gemini", "turbotext"):
        assert keys[name] == {
            "configured": False,
            "last4": None,
            "source": None,
            "updated_at": None,
            "updated_by": None,
        }
    # A key only in the environment is configured, never shown.
    assert keys["openai"] == {
        "configured": True,
        "last4": ENVIRONMENT_KEY[-4:],
        "source": "environment",
        "updated_at": None,
        "updated_by": None,
    }
    assert ENVIRONMENT_KEY not in response.text
    # The token signing key is a `setting` row too, and never part of the answer.
    stored = await database.read(lambda c: SettingRepository(c).all_values())
    assert "jwt_secret" not in body
    assert stored["jwt_secret"] not in response.text


async def test_an_update_changes_only_the_fields_sent_and_is_audited(
    admin_client: httpx.AsyncClient, database: Database
) -> None:
    response = await admin_client.put(
        "/api/settings", json={"sync_response_seconds": 20, "slot_concurrency_limit": 4}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sync_response_seconds"]["value"] == 20
    assert body["sync_response_seconds"]["updated_by"] == ADMIN_USERNAME
    assert body["sync_response_seconds"]["updated_at"] is not None
    assert body["slot_concurrency_limit"]["value"] == 4
    assert body["result_ttl_hours"] == {"value": 168, "updated_at": None, "updated_by": None}
    assert body["ingest_password"]["value"] == INGEST_PASSWORD
    assert (await admin_client.get("/api/settings")).json() == body

    # Sending the same value again changes nothing and records nothing.
    await admin_client.put("/api/settings", json={"sync_response_seconds": 20})
    entries = await database.read(lambda c: AuditRepository(c).for_target("settings"))
    assert len(entries) == 1
    (entry,) = entries
    assert (entry["actor"], entry["action"]) == (ADMIN_USERNAME, "settings.update")
    assert entry["before"] == {"sync_response_seconds": 48, "slot_concurrency_limit": 10}
    assert entry["after"] == {"sync_response_seconds": 20, "slot_concurrency_limit": 4}
    runtime = await database.read(read_runtime_settings)
    assert (runtime.sync_response_seconds, runtime.slot_concurrency_limit) == (20, 4)


async def test_values_outside_the_limits_are_refused_naming_each_field(
    admin_client: httpx.AsyncClient, database: Database
) -> None:
    response = await admin_client.put(
        "/api/settings",
        json={"sync_response_seconds": 61, "slot_concurrency_limit": 0, "result_ttl_hours": 48},
    )
    body = assert_error(response, 422, "validation_error")
    assert {error["field"] for error in body["errors"]} == {  # type: ignore[attr-defined]
        "sync_response_seconds",
        "slot_concurrency_limit",
    }
    for sent, field in (
        ({"sync_response_seconds": 9}, "sync_response_seconds"),
        ({"sync_response_seconds": None}, "sync_response_seconds"),
        ({"sync_response_seconds": "soon"}, "sync_response_seconds"),
        # JSON numbers, as the document says: pydantic alone reads these as 20 and 1.
        ({"sync_response_seconds": "20"}, "sync_response_seconds"),
        ({"slot_concurrency_limit": True}, "slot_concurrency_limit"),
        # PostgreSQL cannot store a NUL character (SQLite could): refused on both.
        ({"ingest_password": "booth\x00secret"}, "ingest_password"),
        ({"provider_keys": {"gemini": "AIza\x00"}}, "provider_keys.gemini"),
        ({"ingest_password": ""}, "ingest_password"),
        ({"ingest_password": None}, "ingest_password"),
        ({"jwt_secret": "mine-now"}, "jwt_secret"),
        ({"gallery_share_until": "2099-01-01T00:00:00+00:00"}, "gallery_share_until"),
        # Keys are in `provider_keys` now; the old field is unknown.
        ({"gemini_api_key": "AIza-old-shape"}, "gemini_api_key"),
        ({"provider_keys": None}, "provider_keys"),
        ({"provider_keys": {"nobody": "k-123"}}, "provider_keys.nobody"),
        ({"provider_keys": {"local": "k-123"}}, "provider_keys.local"),
        ({"provider_keys": {"gemini": "k" * 1025}}, "provider_keys.gemini"),
    ):
        body = assert_error(
            await admin_client.put("/api/settings", json=sent), 422, "validation_error"
        )
        assert field in [error["field"] for error in body["errors"]], (sent, body)  # type: ignore[attr-defined]
    mixed = {"provider_keys": {"gemini": GEMINI_KEY, "nobody": "k-123"}, "result_ttl_hours": 2}
    body = assert_error(
        await admin_client.put("/api/settings", json=mixed), 422, "validation_error"
    )
    assert [error["field"] for error in body["errors"]] == ["provider_keys.nobody"]  # type: ignore[attr-defined]
    # All or nothing: the valid fields sent beside invalid ones did not change either.
    runtime = await database.read(read_runtime_settings)
    assert (runtime.sync_response_seconds, runtime.result_ttl_hours) == (48, 168)
    assert runtime.ingest_password == INGEST_PASSWORD
    assert runtime.provider_keys == {}
    entries = await database.read(lambda c: AuditRepository(c).for_target("settings"))
    assert entries == []


async def test_provider_keys_are_write_only(
    admin_client: httpx.AsyncClient,
    second_replica: httpx.AsyncClient,
    admin_token: str,
    database: Database,
    config: Settings,
    captured_log: io.StringIO,
) -> None:
    gemini = GeminiDriver.from_config(config)
    openai = OpenAIDriver.from_config(config)
    response = await admin_client.put(
        "/api/settings",
        json={"provider_keys": {"gemini": f"  {GEMINI_KEY}\n"}, "ingest_password": "new-pw-9"},
    )
    assert response.status_code == 200, response.text
    assert GEMINI_KEY not in response.text
    keys = response.json()["provider_keys"]
    assert keys["gemini"] == {
        "configured": True,
        "last4": GEMINI_KEY[-4:],
        "source": "settings",
        "updated_at": keys["gemini"]["updated_at"],
        "updated_by": ADMIN_USERNAME,
    }
    # Keys not sent are untouched.
    assert keys["openai"]["source"] == "environment"
    assert keys["turbotext"]["configured"] is False
    # The saved key (trimmed) is what the next provider call uses, in the row
    # an install from before `provider_keys` has it in.
    runtime = await database.read(read_runtime_settings)
    assert api_key_for(gemini, runtime, config) == GEMINI_KEY
    stored = await database.read(lambda c: SettingRepository(c).all_values())
    assert stored["gemini_api_key"] == GEMINI_KEY

    for reader in (admin_client, second_replica):
        shown = await reader.get("/api/settings", headers=bearer(admin_token))
        assert GEMINI_KEY not in shown.text
        assert shown.json()["provider_keys"]["gemini"]["configured"] is True

    # Cleared with "" (or null): no key saved any more.
    cleared = await admin_client.put("/api/settings", json={"provider_keys": {"gemini": ""}})
    assert cleared.json()["provider_keys"]["gemini"]["configured"] is False
    runtime = await database.read(read_runtime_settings)
    assert "gemini" not in runtime.provider_keys
    assert api_key_for(gemini, runtime, config) is None
    # A saved key wins over the environment's; removed, the environment's applies again.
    saved = await admin_client.put(
        "/api/settings", json={"provider_keys": {"openai": SAVED_OPENAI_KEY}}
    )
    assert saved.json()["provider_keys"]["openai"]["source"] == "settings"
    assert saved.json()["provider_keys"]["openai"]["last4"] == SAVED_OPENAI_KEY[-4:]
    assert api_key_for(openai, await database.read(read_runtime_settings), config) == (
        SAVED_OPENAI_KEY
    )
    removed = await admin_client.put("/api/settings", json={"provider_keys": {"openai": None}})
    assert removed.json()["provider_keys"]["openai"]["source"] == "environment"
    assert removed.json()["provider_keys"]["openai"]["configured"] is True
    runtime = await database.read(read_runtime_settings)
    assert api_key_for(openai, runtime, config) == ENVIRONMENT_KEY

    audit = json.dumps(
        await database.read(lambda c: AuditRepository(c).for_target("settings")), default=str
    )
    assert GEMINI_KEY not in audit
    assert SAVED_OPENAI_KEY not in audit
    assert "new-pw-9" not in audit
    assert INGEST_PASSWORD not in audit
    log = captured_log.getvalue()
    assert GEMINI_KEY not in log
    assert SAVED_OPENAI_KEY not in log
    assert ENVIRONMENT_KEY not in log
    assert "new-pw-9" not in log
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    changes = [event for event in events if event["event"] == "settings_changed"]
    assert [event["fields"] for event in changes] == [
        ["gemini_api_key", "ingest_password"],
        ["gemini_api_key"],
        ["openai_api_key"],
        ["openai_api_key"],
    ]


async def test_a_changed_ingest_password_is_required_by_the_next_ingest_on_every_replica(
    admin_client: httpx.AsyncClient,
    client: httpx.AsyncClient,
    second_replica: httpx.AsyncClient,
    factory: SessionFactory,
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    assert (await ingest(second_replica, INGEST_PASSWORD, seed=1)).status_code == 200
    changed = await admin_client.put("/api/settings", json={"ingest_password": "winter-2026"})
    assert changed.status_code == 200
    assert changed.json()["ingest_password"]["value"] == "winter-2026"
    for booth in (second_replica, client):
        assert_error(await ingest(booth, INGEST_PASSWORD, seed=2), 401, "invalid_password")
    assert (await ingest(second_replica, "winter-2026", seed=3)).status_code == 200
    assert (await ingest(client, "winter-2026", seed=4)).status_code == 200


async def test_a_changed_sync_window_applies_to_the_next_ingest(
    admin_client: httpx.AsyncClient,
    second_replica: httpx.AsyncClient,
    factory: SessionFactory,
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    assert (await admin_client.put("/api/settings", json={"sync_response_seconds": 12})).is_success
    answer = await ingest(second_replica, INGEST_PASSWORD, seed=5)
    assert answer.status_code == 200
    async with factory() as session:
        job = (
            await session.execute(select(Job).where(Job.id == answer.headers["x-job-id"]))
        ).scalar_one()
    assert job.deadline_at - job.started_at == timedelta(seconds=12)
