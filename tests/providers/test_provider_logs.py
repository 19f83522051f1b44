"""Provider keys are never logged (SPEC §4.6): every log line of a run of both cloud
drivers — successes, error answers (one echoing the key back), a wrong key, a
timeout — is captured, structlog and stdlib alike, and the keys appear nowhere,
while the provider details the log must carry are there."""

from __future__ import annotations

import io
import json

import pytest

from fakes import gemini
from fakes import openai as openai_api
from fakes.gemini import GeminiFake
from fakes.openai import OpenAIFake
from photochanger.providers.base import ProviderError
from photochanger.providers.gemini import GeminiDriver, GeminiEditSettings
from photochanger.providers.openai import OpenAIDriver, OpenAIEditSettings
from support import job_context, make_image

PHOTO = make_image("JPEG", (64, 48), seed=1)


async def test_keys_never_reach_the_log(
    captured_log: io.StringIO,
    capfd: pytest.CaptureFixture[str],
    gemini_fake: GeminiFake,
    openai_fake: OpenAIFake,
) -> None:
    gemini_driver, openai_driver = (
        GeminiDriver(gemini_fake.base_url),
        OpenAIDriver(openai_fake.base_url),
    )
    await gemini_driver.start()
    await openai_driver.start()
    gemini_fake.queue(
        gemini.success(),
        gemini.error(400, "INVALID_ARGUMENT", f"The key {gemini.API_KEY} is not allowed here"),
        gemini.no_image("IMAGE_SAFETY", "Unsafe"),
        gemini.success(delay=3),
    )
    openai_fake.queue(
        openai_api.success(),
        openai_api.moderation_blocked(),
        openai_api.error(400, f"Echo: {openai_api.API_KEY}", code="echo"),
    )
    gemini_settings = GeminiEditSettings(prompt="Beach")
    openai_settings = OpenAIEditSettings(prompt="Comic")
    runs = [
        (gemini_driver, gemini_settings, gemini.API_KEY, 10.0),
        (gemini_driver, gemini_settings, gemini.API_KEY, 10.0),
        (gemini_driver, gemini_settings, gemini.API_KEY, 10.0),
        (gemini_driver, gemini_settings, gemini.API_KEY, 0.5),
        (gemini_driver, gemini_settings, "AIza-wrong-key-for-the-log-test", 10.0),
        (openai_driver, openai_settings, openai_api.API_KEY, 10.0),
        (openai_driver, openai_settings, openai_api.API_KEY, 10.0),
        (openai_driver, openai_settings, openai_api.API_KEY, 10.0),
        (openai_driver, openai_settings, "sk-wrong-key-for-the-log-test", 10.0),
    ]
    outcomes = []
    for driver, settings, key, window in runs:
        ctx = job_context(settings, PHOTO, api_key=key, window_seconds=window)
        try:
            await driver.edit(ctx)  # type: ignore[attr-defined]
            outcomes.append("done")
        except ProviderError as exc:
            outcomes.append(type(exc).__name__)
    await gemini_driver.close()
    await openai_driver.close()
    assert outcomes == [
        "done",
        "ProviderPermanentError",
        "ProviderPermanentError",
        "ProviderTimeout",
        "ProviderPermanentError",
        "done",
        "ProviderPermanentError",
        "ProviderPermanentError",
        "ProviderPermanentError",
    ]

    text = captured_log.getvalue() + "".join(capfd.readouterr())
    for key in (gemini.API_KEY, openai_api.API_KEY, "wrong-key-for-the-log-test"):
        assert key not in text
    events = [json.loads(line) for line in captured_log.getvalue().splitlines()]
    calls = [event for event in events if event["event"] == "provider_call"]
    assert [(c["provider"], c["outcome"]) for c in calls] == [
        ("gemini", "done"),
        ("gemini", "failed"),
        ("gemini", "failed"),
        ("gemini", "failed"),
        ("gemini", "failed"),
        ("openai", "done"),
        ("openai", "failed"),
        ("openai", "failed"),
        ("openai", "failed"),
    ]
    assert calls[0]["model"] == "gemini-3.1-flash-image"
    assert calls[0]["http_status"] == 200
    assert calls[0]["response_id"].startswith("resp-")
    assert calls[1]["http_status"] == 400
    assert calls[1]["reason"] == "INVALID_ARGUMENT"
    assert "The key *** is not allowed here" in calls[1]["error"]
    assert calls[2]["reason"] == "IMAGE_SAFETY"
    assert calls[3]["error_kind"] == "ProviderTimeout"
    assert calls[6]["reason"] == "moderation_blocked"
    assert calls[6]["response_id"].startswith("req_")
    # httpx narrates each request; it names the URL, which carries no key.
    assert any("HTTP Request: POST" in event["event"] for event in events)
