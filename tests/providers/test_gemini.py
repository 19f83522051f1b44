"""The Gemini driver against a fake of the Gemini API on loopback (SPEC §4.3):
the request it sends, and what it makes of every kind of answer."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import AsyncIterator
from typing import Any, get_args

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from fakes import gemini
from fakes.gemini import API_KEY, GeminiFake
from fakes.server import Reply
from photochanger.providers.base import (
    ProviderError,
    ProviderNotConfigured,
    ProviderPermanentError,
    ProviderTimeout,
    ProviderTransientError,
    TemplateImage,
)
from photochanger.providers.gemini import (
    MAX_REQUEST_BYTES,
    MODELS,
    GeminiDriver,
    GeminiEditSettings,
    GeminiModel,
)
from support import encoded, job_context, make_image

PHOTO = make_image("JPEG", (64, 48), seed=1)
BACKGROUND = make_image("PNG", (40, 30), seed=2)
STYLE = make_image("WEBP", (30, 40), seed=3)


@pytest.fixture
async def driver(gemini_fake: GeminiFake) -> AsyncIterator[GeminiDriver]:
    driver = GeminiDriver(gemini_fake.base_url)
    await driver.start()
    yield driver
    await driver.close()


def settings(**values: Any) -> GeminiEditSettings:
    return GeminiEditSettings.model_validate({"prompt": "Put them on a beach", **values})


async def edit(driver: GeminiDriver, **values: Any) -> Any:
    return await driver.edit(job_context(settings(**values), PHOTO, api_key=API_KEY))


# --- settings -------------------------------------------------------------------


def test_settings_defaults_and_schema() -> None:
    parsed = settings()
    assert parsed.model == "gemini-3.1-flash-image"
    assert parsed.response_modalities == ["IMAGE"]
    schema = GeminiEditSettings.model_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["prompt"]
    assert set(schema["properties"]["model"]["enum"]) == set(MODELS)
    for field in ("model", "prompt", "aspect_ratio", "image_size", "response_modalities"):
        assert schema["properties"][field]["description"]


def test_every_model_has_its_capabilities() -> None:
    assert set(get_args(GeminiModel)) == set(MODELS)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"model": "gemini-9-ultra"}, "Input should be"),
        ({"model": "gemini-2.5-flash-image"}, "shut down on 2026-10-02; use gemini-3.1-flash"),
        ({"model": "gemini-3-pro-image-preview"}, "use gemini-3-pro-image"),
        ({"model": "gemini-3-pro-image", "image_size": "512"}, "image_size 512 is not offered"),
        ({"model": "gemini-3-pro-image", "aspect_ratio": "1:8"}, "aspect_ratio 1:8 is not"),
        ({"image_size": "4k"}, "Input should be"),
        ({"aspect_ratio": "7:5"}, "Input should be"),
        ({"prompt": "   "}, "at least 1 character"),
        ({"prompt": "x" * 10_001}, "at most 10000 characters"),
        ({"response_modalities": ["TEXT"]}, 'must be ["IMAGE"] or ["TEXT", "IMAGE"]'),
        ({"response_mime_type": "image/png"}, "Extra inputs are not permitted"),
    ],
)
def test_settings_refuse(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("(", r"\(")):
        settings(**values)


def test_settings_accept_per_model_options() -> None:
    assert settings(model="gemini-3-pro-image", image_size="4K").image_size == "4K"
    assert settings(image_size="512", aspect_ratio="8:1").aspect_ratio == "8:1"
    both = settings(response_modalities=["IMAGE", "TEXT"])
    assert both.response_modalities == ["TEXT", "IMAGE"]


# --- the request ------------------------------------------------------------------


async def test_sends_photo_then_templates_then_prompt(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    templates = (
        TemplateImage("background", "image/png", BACKGROUND),
        TemplateImage("style", "image/webp", STYLE),
    )
    chosen = settings(model="gemini-3-pro-image", aspect_ratio="3:4", image_size="2K")
    ctx = job_context(chosen, PHOTO, templates=templates, api_key=API_KEY)
    result = await driver.edit(ctx)

    request = gemini_fake.last
    assert request.method == "POST"
    assert request.path == "/v1beta/models/gemini-3-pro-image:generateContent"
    assert request.query == ""  # the key travels in a header, never in the URL
    assert request.headers["x-goog-api-key"] == API_KEY
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert list(body) == ["contents", "generationConfig"]
    (turn,) = body["contents"]
    assert turn["role"] == "user"
    images, prompt = turn["parts"][:-1], turn["parts"][-1]
    assert [part["inline_data"]["mime_type"] for part in images] == [
        "image/jpeg",
        "image/png",
        "image/webp",
    ]
    sent = [base64.b64decode(part["inline_data"]["data"]) for part in images]
    assert sent == [PHOTO, BACKGROUND, STYLE]
    assert prompt == {"text": "Put them on a beach"}
    assert body["generationConfig"] == {
        "responseModalities": ["IMAGE"],
        "imageConfig": {"aspectRatio": "3:4", "imageSize": "2K"},
    }
    assert result.mime == "image/png"
    assert result.data == make_image("PNG", (96, 64), seed=7)
    assert result.response_id.startswith("resp-")
    usage = result.usage
    assert usage is not None
    # Prompt tokens by their modality; thinking billed as text output; the
    # answer's tokens, given without details, as image tokens.
    assert (usage.model, usage.input_text_tokens, usage.input_image_tokens) == (
        "gemini-3-pro-image",
        16,
        1290,
    )
    assert (usage.output_text_tokens, usage.output_image_tokens, usage.images) == (250, 1120, 0)
    assert usage.reported["promptTokenCount"] == 1306
    assert usage.reported["modelVersion"] == "gemini-3.1-flash-image"


async def test_leaves_image_config_out_when_unset(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    await edit(driver, response_modalities=["TEXT", "IMAGE"])
    config = gemini_fake.last.json()["generationConfig"]
    assert config == {"responseModalities": ["TEXT", "IMAGE"]}


async def test_scales_a_large_photo_down_upright_to_fit_20_mb(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    rng = np.random.default_rng(5)
    noise = Image.fromarray(rng.integers(0, 256, (3000, 4000, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    photo = encoded(noise, "JPEG", quality=97, exif=exif.tobytes())
    assert len(photo) * 4 / 3 > MAX_REQUEST_BYTES
    await driver.edit(job_context(settings(), photo, api_key=API_KEY))

    request = gemini_fake.last
    assert len(request.body) <= MAX_REQUEST_BYTES
    part = request.json()["contents"][0]["parts"][0]["inline_data"]
    assert part["mime_type"] == "image/jpeg"
    with Image.open(io.BytesIO(base64.b64decode(part["data"]))) as sent:
        width, height = sent.size
    assert height > width  # EXIF orientation applied before sending
    assert width * height < 3000 * 4000


async def test_missing_key_is_not_configured_and_sends_nothing(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    with pytest.raises(ProviderNotConfigured):
        await driver.edit(job_context(settings(), PHOTO, api_key=None))
    assert gemini_fake.received == []


# --- answers with an image ----------------------------------------------------------


async def test_result_is_the_last_image_that_is_not_a_thought(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    final = make_image("JPEG", (50, 40), seed=9)
    thoughts = (make_image("PNG", (20, 20), seed=10), make_image("PNG", (20, 20), seed=11))
    gemini_fake.queue(gemini.success(final, "image/jpeg", thoughts=thoughts))
    result = await edit(driver)
    assert (result.mime, result.data) == ("image/jpeg", final)


async def test_accepts_snake_case_parts_and_text_beside_the_image(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    gemini_fake.queue(gemini.success(PHOTO, "image/jpeg", text="Here you are", snake=True))
    result = await edit(driver, response_modalities=["TEXT", "IMAGE"])
    assert result.data == PHOTO


async def test_trusts_the_bytes_not_the_declared_mime(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    gemini_fake.queue(gemini.success(PHOTO, "image/png"))
    assert (await edit(driver)).mime == "image/jpeg"


# --- answers without an image ---------------------------------------------------------


@pytest.mark.parametrize(
    ("finish_reason", "kind"),
    [
        ("NO_IMAGE", ProviderTransientError),
        ("IMAGE_SAFETY", ProviderPermanentError),
        ("IMAGE_PROHIBITED_CONTENT", ProviderPermanentError),
        ("IMAGE_RECITATION", ProviderPermanentError),
        ("IMAGE_OTHER", ProviderPermanentError),
        ("SAFETY", ProviderPermanentError),
        ("PROHIBITED_CONTENT", ProviderPermanentError),
        ("RECITATION", ProviderPermanentError),
        ("BLOCKLIST", ProviderPermanentError),
        ("SPII", ProviderPermanentError),
        ("OTHER", ProviderPermanentError),
    ],
)
async def test_no_image_carries_the_finish_reason(
    driver: GeminiDriver, gemini_fake: GeminiFake, finish_reason: str, kind: type[ProviderError]
) -> None:
    gemini_fake.queue(gemini.no_image(finish_reason, f"Stopped: {finish_reason.lower()}"))
    with pytest.raises(ProviderError) as caught:
        await edit(driver)
    assert type(caught.value) is kind
    assert caught.value.reason == finish_reason
    assert f"Stopped: {finish_reason.lower()}" in caught.value.message
    assert caught.value.response_id.startswith("resp-")


async def test_text_only_stop_is_retried_and_keeps_the_text(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    gemini_fake.queue(gemini.no_image("STOP", text="I can only describe this photo."))
    with pytest.raises(ProviderTransientError) as caught:
        await edit(driver, response_modalities=["TEXT", "IMAGE"])
    assert caught.value.reason == "STOP"
    assert "I can only describe this photo." in caught.value.message


async def test_blocked_prompt_is_permanent(driver: GeminiDriver, gemini_fake: GeminiFake) -> None:
    gemini_fake.queue(gemini.blocked("PROHIBITED_CONTENT"))
    with pytest.raises(ProviderPermanentError) as caught:
        await edit(driver)
    assert (caught.value.reason, caught.value.response_id) == ("PROHIBITED_CONTENT", "resp-blocked")


async def test_no_candidate_and_no_block_reason_is_retried(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    gemini_fake.queue(Reply.json({"candidates": [], "responseId": "r1"}))
    with pytest.raises(ProviderTransientError) as caught:
        await edit(driver)
    assert caught.value.reason == "NO_CANDIDATES"


# --- error answers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("http_status", "status", "kind"),
    [
        (400, "INVALID_ARGUMENT", ProviderPermanentError),
        (400, "FAILED_PRECONDITION", ProviderPermanentError),
        (403, "PERMISSION_DENIED", ProviderPermanentError),
        (404, "NOT_FOUND", ProviderPermanentError),
        (429, "RESOURCE_EXHAUSTED", ProviderTransientError),
        (500, "INTERNAL", ProviderTransientError),
        (503, "UNAVAILABLE", ProviderTransientError),
        (504, "DEADLINE_EXCEEDED", ProviderTransientError),
    ],
)
async def test_error_bodies_map_to_typed_errors(
    driver: GeminiDriver,
    gemini_fake: GeminiFake,
    http_status: int,
    status: str,
    kind: type[ProviderError],
) -> None:
    gemini_fake.queue(gemini.error(http_status, status, f"The model said no ({status})"))
    with pytest.raises(ProviderError) as caught:
        await edit(driver)
    assert type(caught.value) is kind
    assert caught.value.reason == status
    assert f"The model said no ({status})" in caught.value.message


async def test_a_wrong_key_is_the_apis_own_refusal(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    with pytest.raises(ProviderPermanentError, match="API key not valid"):
        await driver.edit(job_context(settings(), PHOTO, api_key="AIza-wrong"))


async def test_a_proxy_error_page_is_judged_by_its_status(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    gemini_fake.queue(Reply(502, b"<html>Bad Gateway</html>", {"content-type": "text/html"}))
    with pytest.raises(ProviderTransientError) as caught:
        await edit(driver)
    assert caught.value.reason == "502"


def _png_b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, b"{not json", {"content-type": "application/json"}), "malformed_answer"),
        (Reply.json({"candidates": "many"}), "malformed_answer"),
        (Reply.json({"candidates": [{"content": {"parts": "x"}}]}), "malformed_answer"),
        (gemini.answer([{"inlineData": {"mimeType": "image/png", "data": "@@@"}}]), "bad_base64"),
        (gemini.answer([{"inlineData": {"mimeType": "image/png"}}]), "malformed_answer"),
        (gemini.success(make_image("PNG", (200, 200))[:900]), "broken_image"),
        (gemini.success(b"%PDF-1.7 not an image at all"), "not_an_image"),
        (gemini.success(b"\x00" * (30 * 1024 * 1024)), "answer_too_large"),
        (Reply(200, b"x" * (30 * 1024 * 1024), chunks=30), "answer_too_large"),
    ],
    ids=[
        "garbage-json",
        "wrong-shape",
        "parts-not-a-list",
        "bad-base64",
        "no-data",
        "truncated-png",
        "not-an-image",
        "30-mb",
        "30-mb-streamed",
    ],
)
async def test_bad_answers_are_clean_permanent_failures(
    driver: GeminiDriver, gemini_fake: GeminiFake, reply: Reply, reason: str
) -> None:
    gemini_fake.queue(reply)
    with pytest.raises(ProviderPermanentError) as caught:
        await edit(driver)
    assert caught.value.reason == reason


async def test_a_slow_answer_times_out_at_the_deadline(
    driver: GeminiDriver, gemini_fake: GeminiFake
) -> None:
    gemini_fake.queue(gemini.success(delay=5))
    ctx = job_context(settings(), PHOTO, api_key=API_KEY, window_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        await driver.edit(ctx)
    assert time.monotonic() - started < 1.5
