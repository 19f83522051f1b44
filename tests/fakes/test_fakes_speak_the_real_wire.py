"""The fakes speak the providers' real wire: the official `google-genai` and `openai`
SDKs, pointed at them, parse every success answer into their typed objects and
raise their typed errors for every error answer. And the SDKs' own requests are
the evidence for ours: what the SDK sends for the same edit, the fake records,
and our driver's request must say the same thing."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from google.genai.errors import ClientError, ServerError

from fakes import gemini
from fakes import openai as openai_fake_api
from fakes.gemini import GeminiFake
from fakes.openai import OpenAIFake
from fakes.server import FilePart, Reply
from photochanger.providers.base import TemplateImage
from photochanger.providers.gemini import GeminiDriver, GeminiEditSettings
from photochanger.providers.openai import OpenAIDriver, OpenAIEditSettings
from support import job_context, make_image

PHOTO = make_image("JPEG", (64, 48), seed=1)
TEMPLATE = make_image("PNG", (40, 30), seed=2)
RESULT = make_image("PNG", (50, 40), seed=3)


@pytest.fixture
def genai_client(gemini_fake: GeminiFake) -> Iterator[genai.Client]:
    client = genai.Client(
        api_key=gemini.API_KEY,
        http_options=types.HttpOptions(
            base_url=gemini_fake.base_url,
            api_version="v1beta",  # what the driver calls; the SDK's own default is v1
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )
    yield client
    client.close()


@pytest.fixture
def openai_client(openai_fake: OpenAIFake) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(
        api_key=openai_fake_api.API_KEY, base_url=f"{openai_fake.base_url}/v1", max_retries=0
    )
    yield client
    client.close()


def _generate(client: genai.Client, **config: Any) -> types.GenerateContentResponse:
    return client.models.generate_content(
        model="gemini-3.1-flash-image",
        contents=[
            types.Part.from_bytes(data=PHOTO, mime_type="image/jpeg"),
            types.Part.from_bytes(data=TEMPLATE, mime_type="image/png"),
            "Put them on a beach",
        ],
        config=types.GenerateContentConfig(response_modalities=["IMAGE"], **config),
    )


# --- Gemini -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        gemini.success(RESULT),
        gemini.success(RESULT, thoughts=(TEMPLATE, PHOTO)),
        gemini.success(RESULT, text="Here is the beach", snake=True),
    ],
    ids=["plain", "with-thoughts", "snake-case-with-text"],
)
def test_genai_parses_the_success_answers(
    genai_client: genai.Client, gemini_fake: GeminiFake, reply: Reply
) -> None:
    gemini_fake.queue(reply)
    response = _generate(genai_client)
    assert isinstance(response, types.GenerateContentResponse)
    parts = response.candidates[0].content.parts
    images = [part for part in parts if part.inline_data is not None and not part.thought]
    assert images[-1].inline_data.data == RESULT
    assert images[-1].inline_data.mime_type == "image/png"
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.response_id.startswith("resp-")
    assert response.usage_metadata.candidates_token_count == 1120


@pytest.mark.parametrize("reason", ["NO_IMAGE", "IMAGE_SAFETY", "SPII", "STOP"])
def test_genai_parses_answers_without_an_image(
    genai_client: genai.Client, gemini_fake: GeminiFake, reason: str
) -> None:
    gemini_fake.queue(gemini.no_image(reason, "No image this time", text="Sorry"))
    candidate = _generate(genai_client).candidates[0]
    assert candidate.finish_reason == types.FinishReason(reason)
    # `finishMessage` is not read: google-genai's Gemini API converter maps only
    # `finishReason` (its `finish_message` field is filled on Vertex AI).
    assert [part.text for part in candidate.content.parts] == ["Sorry"]


def test_genai_parses_a_blocked_prompt(genai_client: genai.Client, gemini_fake: GeminiFake) -> None:
    gemini_fake.queue(gemini.blocked("PROHIBITED_CONTENT"))
    response = _generate(genai_client)
    assert not response.candidates
    assert response.prompt_feedback.block_reason == types.BlockedReason.PROHIBITED_CONTENT


@pytest.mark.parametrize(
    ("reply", "error", "code", "status"),
    [
        (gemini.error(400, "INVALID_ARGUMENT", "bad"), ClientError, 400, "INVALID_ARGUMENT"),
        (gemini.error(429, "RESOURCE_EXHAUSTED", "quota"), ClientError, 429, "RESOURCE_EXHAUSTED"),
        (gemini.error(500, "INTERNAL", "oops"), ServerError, 500, "INTERNAL"),
        (gemini.error(503, "UNAVAILABLE", "busy"), ServerError, 503, "UNAVAILABLE"),
    ],
)
def test_genai_raises_its_typed_errors(
    genai_client: genai.Client,
    gemini_fake: GeminiFake,
    reply: Reply,
    error: type[genai_errors.APIError],
    code: int,
    status: str,
) -> None:
    gemini_fake.queue(reply)
    with pytest.raises(error) as caught:
        _generate(genai_client)
    assert (caught.value.code, caught.value.status) == (code, status)
    assert caught.value.message in ("bad", "quota", "oops", "busy")


def test_genai_with_its_defaults_and_a_wrong_key_gets_the_apis_refusal(
    gemini_fake: GeminiFake,
) -> None:
    client = genai.Client(
        api_key="AIza-wrong", http_options=types.HttpOptions(base_url=gemini_fake.base_url)
    )
    with pytest.raises(ClientError, match="API key not valid"):
        _generate(client)
    assert gemini_fake.last.path == "/v1/models/gemini-3.1-flash-image:generateContent"


def _normalised(value: Any) -> Any:
    """Request JSON as the API reads it: camelCase and snake_case keys are one
    field, and bytes may be standard or URL-safe base64 (the SDK sends URL-safe,
    we send standard)."""
    if isinstance(value, dict):
        fields = {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): v for k, v in value.items()}
        if "mime_type" in fields and isinstance(fields.get("data"), str):
            fields["data"] = base64.urlsafe_b64decode(
                fields["data"].replace("+", "-").replace("/", "_")
            )
        return {k: _normalised(v) for k, v in fields.items()}
    if isinstance(value, list):
        return [_normalised(item) for item in value]
    return value


async def test_our_gemini_request_says_what_the_sdk_says(
    genai_client: genai.Client, gemini_fake: GeminiFake
) -> None:
    _generate(genai_client, image_config=types.ImageConfig(aspect_ratio="3:4", image_size="2K"))
    sdk = gemini_fake.last

    driver = GeminiDriver(gemini_fake.base_url)
    await driver.start()
    chosen = GeminiEditSettings(prompt="Put them on a beach", aspect_ratio="3:4", image_size="2K")
    templates = (TemplateImage("background", "image/png", TEMPLATE),)
    await driver.edit(job_context(chosen, PHOTO, templates=templates, api_key=gemini.API_KEY))
    await driver.close()
    ours = gemini_fake.last

    assert ours.path == sdk.path == "/v1beta/models/gemini-3.1-flash-image:generateContent"
    assert ours.headers["x-goog-api-key"] == sdk.headers["x-goog-api-key"]
    assert _normalised(ours.json()) == _normalised(sdk.json())
    assert _normalised(ours.json())["contents"][0]["parts"][0]["inline_data"]["data"] == PHOTO


# --- OpenAI -------------------------------------------------------------------------


def _edit(client: openai.OpenAI, images: Any = None, **options: Any) -> Any:
    return client.images.edit(
        model="gpt-image-1.5",
        image=images if images is not None else [("photo.jpg", PHOTO, "image/jpeg")],
        prompt="Make it a comic",
        **options,
    )


def _error(status: int, **fields: Any) -> Reply:
    return openai_fake_api.error(status, f"failed with {status}", **fields)


def test_openai_parses_the_success_answer(
    openai_client: openai.OpenAI, openai_fake: OpenAIFake
) -> None:
    openai_fake.queue(openai_fake_api.success(RESULT))
    response = _edit(openai_client)
    assert isinstance(response, openai.types.ImagesResponse)
    assert base64.b64decode(response.data[0].b64_json) == RESULT
    assert response.usage.input_tokens_details.image_tokens == 518
    assert response.output_format == "png"
    assert response._request_id.startswith("req_")


@pytest.mark.parametrize(
    ("reply", "error", "code"),
    [
        (openai_fake_api.moderation_blocked(), openai.BadRequestError, "moderation_blocked"),
        (_error(429, code="rate_limit_exceeded"), openai.RateLimitError, "rate_limit_exceeded"),
        (_error(429, code="insufficient_quota"), openai.RateLimitError, "insufficient_quota"),
        (_error(500, type="server_error"), openai.InternalServerError, None),
        (_error(503, type="server_error"), openai.InternalServerError, None),
    ],
)
def test_openai_raises_its_typed_errors(
    openai_client: openai.OpenAI,
    openai_fake: OpenAIFake,
    reply: Reply,
    error: type[openai.APIStatusError],
    code: str | None,
) -> None:
    openai_fake.queue(reply)
    with pytest.raises(error) as caught:
        _edit(openai_client)
    assert caught.value.code == code
    assert caught.value.request_id.startswith("req_")


def test_openai_with_a_wrong_key_gets_the_apis_refusal(openai_fake: OpenAIFake) -> None:
    client = openai.OpenAI(api_key="sk-wrong", base_url=f"{openai_fake.base_url}/v1", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        _edit(client)
    assert caught.value.code == "invalid_api_key"


def test_the_sdk_names_the_field_image_for_one_file_and_image_brackets_for_a_list(
    openai_client: openai.OpenAI, openai_fake: OpenAIFake
) -> None:
    _edit(openai_client, images=("photo.jpg", PHOTO, "image/jpeg"))
    assert [name for name, value in openai_fake.last.form if isinstance(value, FilePart)] == [
        "image"
    ]
    _edit(openai_client, images=[("photo.jpg", PHOTO, "image/jpeg")])
    assert [name for name, value in openai_fake.last.form if isinstance(value, FilePart)] == [
        "image[]"
    ]


async def test_our_openai_request_says_what_the_sdk_says(
    openai_client: openai.OpenAI, openai_fake: OpenAIFake
) -> None:
    options = {"size": "1536x1024", "quality": "low", "output_format": "jpeg"}
    options |= {"output_compression": 60, "input_fidelity": "high"}
    images = [("photo.jpg", PHOTO, "image/jpeg"), ("template-1.png", TEMPLATE, "image/png")]
    _edit(openai_client, images=images, **options)
    sdk = openai_fake.last

    driver = OpenAIDriver(openai_fake.base_url)
    await driver.start()
    chosen = OpenAIEditSettings(model="gpt-image-1.5", prompt="Make it a comic", **options)
    templates = (TemplateImage("background", "image/png", TEMPLATE),)
    await driver.edit(
        job_context(chosen, PHOTO, templates=templates, api_key=openai_fake_api.API_KEY)
    )
    await driver.close()
    ours = openai_fake.last

    assert ours.path == sdk.path == "/v1/images/edits"
    assert ours.headers["authorization"] == sdk.headers["authorization"]
    text_fields = [(n, v) for n, v in sdk.form if isinstance(v, str)]
    assert sorted((n, v) for n, v in ours.form if isinstance(v, str)) == sorted(text_fields)
    assert ours.fields("image[]") == sdk.fields("image[]")
    assert len(ours.fields("image[]")) == 2
    # Both put the text fields first and the files last.
    assert [n for n, _ in ours.form][-2:] == [n for n, _ in sdk.form][-2:] == ["image[]"] * 2
