"""The OpenAI driver against a fake of the Images API on loopback (SPEC §4.4):
the multipart request it sends, and what it makes of every kind of answer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from fakes import openai as fake
from fakes.openai import API_KEY, OpenAIFake
from fakes.server import FilePart, Reply
from photochanger.providers.base import (
    ProviderError,
    ProviderNotConfigured,
    ProviderPermanentError,
    ProviderTimeout,
    ProviderTransientError,
    TemplateImage,
)
from photochanger.providers.openai import (
    INPUT_FIDELITY,
    OpenAIDriver,
    OpenAIEditSettings,
    OpenAIModel,
)
from support import job_context, make_image

PHOTO = make_image("JPEG", (64, 48), seed=1)
BACKGROUND = make_image("PNG", (40, 30), seed=2)


@pytest.fixture
async def driver(openai_fake: OpenAIFake) -> AsyncIterator[OpenAIDriver]:
    driver = OpenAIDriver(openai_fake.base_url)
    await driver.start()
    yield driver
    await driver.close()


def settings(**values: Any) -> OpenAIEditSettings:
    return OpenAIEditSettings.model_validate({"prompt": "Make it a comic", **values})


async def edit(driver: OpenAIDriver, **values: Any) -> Any:
    return await driver.edit(job_context(settings(**values), PHOTO, api_key=API_KEY))


# --- settings -------------------------------------------------------------------


def test_settings_defaults_and_schema() -> None:
    assert settings().model == "gpt-image-1.5"
    schema = OpenAIEditSettings.model_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["prompt"]
    assert set(get_args(OpenAIModel)) == set(INPUT_FIDELITY)
    for name, field in schema["properties"].items():
        assert field["description"], name


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"model": "gpt-image-9"}, "Input should be"),
        ({"model": "gpt-image-1"}, "shut down on 2026-10-23"),
        ({"model": "dall-e-2"}, "retired"),
        ({"prompt": ""}, "at least 1 character"),
        ({"prompt": "x" * 32_001}, "at most 32000 characters"),
        ({"size": "512x512"}, "Input should be"),
        ({"quality": "standard"}, "Input should be"),
        ({"output_format": "gif"}, "Input should be"),
        ({"output_compression": 101, "output_format": "jpeg"}, "less than or equal to 100"),
        ({"output_compression": 80}, "output_compression needs output_format jpeg or webp"),
        ({"output_compression": 80, "output_format": "png"}, "needs output_format jpeg"),
        ({"background": "transparent", "output_format": "jpeg"}, "transparent background"),
        ({"model": "gpt-image-1-mini", "input_fidelity": "high"}, "takes only low"),
        ({"model": "gpt-image-2", "input_fidelity": "low"}, "takes none"),
        ({"n": 2}, "Extra inputs are not permitted"),
    ],
)
def test_settings_refuse(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**values)


def test_settings_accept_valid_combinations() -> None:
    assert settings(background="transparent").background == "transparent"  # png by default
    assert settings(background="transparent", output_format="webp").output_format == "webp"
    assert settings(output_format="jpeg", output_compression=0).output_compression == 0
    assert settings(model="gpt-image-1-mini", input_fidelity="low").input_fidelity == "low"
    assert settings(input_fidelity="high").input_fidelity == "high"


# --- the request ------------------------------------------------------------------


async def test_sends_multipart_with_photo_then_templates(
    driver: OpenAIDriver, openai_fake: OpenAIFake
) -> None:
    chosen = settings(
        size="1024x1536",
        quality="high",
        output_format="webp",
        output_compression=70,
        background="opaque",
        input_fidelity="high",
    )
    templates = (TemplateImage("background", "image/png", BACKGROUND),)
    result = await driver.edit(job_context(chosen, PHOTO, templates=templates, api_key=API_KEY))

    request = openai_fake.last
    assert (request.method, request.path) == ("POST", "/v1/images/edits")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert [name for name, _ in request.form] == [
        "model",
        "prompt",
        "size",
        "quality",
        "output_format",
        "output_compression",
        "background",
        "input_fidelity",
        "image[]",
        "image[]",
    ]
    text = {name: value for name, value in request.form if isinstance(value, str)}
    assert text == {
        "model": "gpt-image-1.5",
        "prompt": "Make it a comic",
        "size": "1024x1536",
        "quality": "high",
        "output_format": "webp",
        "output_compression": "70",
        "background": "opaque",
        "input_fidelity": "high",
    }
    assert request.fields("image[]") == [
        FilePart("photo.jpg", "image/jpeg", PHOTO),
        FilePart("template-1.png", "image/png", BACKGROUND),
    ]
    assert result.mime == "image/png"
    assert result.data == make_image("PNG", (96, 64), seed=11)
    assert result.response_id.startswith("req_")
    usage = result.usage
    assert usage is not None
    # Input split by `input_tokens_details`; every output token is an image's.
    assert (usage.model, usage.input_text_tokens, usage.input_image_tokens) == (
        "gpt-image-1.5",
        65,
        518,
    )
    assert (usage.output_text_tokens, usage.output_image_tokens) == (0, 1056)
    assert usage.reported["total_tokens"] == 1639


async def test_options_left_empty_are_not_sent(
    driver: OpenAIDriver, openai_fake: OpenAIFake
) -> None:
    await edit(driver, model="gpt-image-2")
    assert [name for name, _ in openai_fake.last.form] == ["model", "prompt", "image[]"]


async def test_more_than_16_images_are_refused_before_sending(
    driver: OpenAIDriver, openai_fake: OpenAIFake
) -> None:
    templates = tuple(TemplateImage("style", "image/png", BACKGROUND) for _ in range(16))
    with pytest.raises(ProviderPermanentError, match="at most 16 images"):
        await driver.edit(job_context(settings(), PHOTO, templates=templates, api_key=API_KEY))
    assert openai_fake.received == []


async def test_missing_key_is_not_configured_and_sends_nothing(
    driver: OpenAIDriver, openai_fake: OpenAIFake
) -> None:
    with pytest.raises(ProviderNotConfigured):
        await driver.edit(job_context(settings(), PHOTO, api_key=""))
    assert openai_fake.received == []


# --- error answers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "kind", "reason"),
    [
        (fake.moderation_blocked(), ProviderPermanentError, "moderation_blocked"),
        (
            fake.error(400, "Invalid size '9x9'.", param="size", code="invalid_value"),
            ProviderPermanentError,
            "invalid_value",
        ),
        (
            fake.error(429, "Rate limit reached.", type="requests", code="rate_limit_exceeded"),
            ProviderTransientError,
            "rate_limit_exceeded",
        ),
        (
            fake.error(429, "You exceeded your current quota.", code="insufficient_quota"),
            ProviderPermanentError,
            "insufficient_quota",
        ),
        (
            fake.error(500, "The server had an error.", type="server_error"),
            ProviderTransientError,
            "server_error",
        ),
        (
            fake.error(503, "The engine is overloaded.", type="server_error"),
            ProviderTransientError,
            "server_error",
        ),
    ],
    ids=["moderation", "bad-value", "rate-limit", "quota", "500", "503"],
)
async def test_error_bodies_map_to_typed_errors(
    driver: OpenAIDriver,
    openai_fake: OpenAIFake,
    reply: Reply,
    kind: type[ProviderError],
    reason: str,
) -> None:
    openai_fake.queue(reply)
    with pytest.raises(ProviderError) as caught:
        await edit(driver)
    assert type(caught.value) is kind
    assert caught.value.reason == reason
    assert caught.value.response_id.startswith("req_")
    assert "openai answered HTTP" in caught.value.message


async def test_a_wrong_key_is_permanent_and_never_echoed(
    driver: OpenAIDriver, openai_fake: OpenAIFake
) -> None:
    wrong = "sk-wrong-key-1234567890"
    with pytest.raises(ProviderPermanentError) as caught:
        await driver.edit(job_context(settings(), PHOTO, api_key=wrong))
    assert caught.value.reason == "invalid_api_key"
    assert wrong not in caught.value.message


async def test_a_key_echoed_by_the_provider_is_masked(
    driver: OpenAIDriver, openai_fake: OpenAIFake
) -> None:
    openai_fake.queue(fake.error(400, f"Bad request from key {API_KEY}", code="bad"))
    with pytest.raises(ProviderPermanentError) as caught:
        await edit(driver)
    assert API_KEY not in caught.value.message
    assert "key ***" in caught.value.message


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, b"<html>oops", {"content-type": "text/html"}), "malformed_answer"),
        (Reply.json({"created": 1, "data": []}), "malformed_answer"),
        (fake.success(b64="not base64!"), "bad_base64"),
        (fake.success(make_image("PNG", (200, 200))[:900]), "broken_image"),
        (fake.success(b"GIF89a not what we asked for"), "not_an_image"),
        (fake.success(b"\x00" * (30 * 1024 * 1024)), "answer_too_large"),
        (Reply(200, b"x" * (30 * 1024 * 1024), chunks=30), "answer_too_large"),
    ],
    ids=["garbage", "no-data", "bad-base64", "truncated", "wrong-type", "30-mb", "30-mb-streamed"],
)
async def test_bad_answers_are_clean_permanent_failures(
    driver: OpenAIDriver, openai_fake: OpenAIFake, reply: Reply, reason: str
) -> None:
    openai_fake.queue(reply)
    with pytest.raises(ProviderPermanentError) as caught:
        await edit(driver)
    assert caught.value.reason == reason


async def test_a_proxy_error_page_is_judged_by_its_status(
    driver: OpenAIDriver, openai_fake: OpenAIFake
) -> None:
    openai_fake.queue(Reply(504, b"upstream timed out", {"content-type": "text/plain"}))
    with pytest.raises(ProviderTransientError) as caught:
        await edit(driver)
    assert caught.value.reason == "504"


async def test_a_slow_answer_times_out_at_the_deadline(
    driver: OpenAIDriver, openai_fake: OpenAIFake
) -> None:
    openai_fake.queue(fake.success(delay=5))
    ctx = job_context(settings(), PHOTO, api_key=API_KEY, window_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        await driver.edit(ctx)
    assert time.monotonic() - started < 1.5
