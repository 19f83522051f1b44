"""The Turbotext driver against a fake Turbotext that speaks its wire format and
fetches our published inputs over HTTP from the real app, served by uvicorn on
loopback, with a real database and media store (SPEC §4.5): what we send."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from fakes.turbotext import RESULT_PNG, FakeTurbotext
from fakes.turbotext_bench import (
    API_KEY,
    OPERATIONS,
    PHOTO,
    PROMPT,
    TEMPLATE,
    Turbotext,
    image2image,
)
from photochanger.models import MediaObject
from photochanger.providers.base import (
    OperationSettings,
    ProviderNotConfigured,
    ProviderPermanentError,
    TemplateImage,
)
from photochanger.providers.turbotext_operations import DeepfakePhotoSettings, MixImagesSettings
from support import decoded, make_image


async def test_generate_image2image_sends_the_documented_form_and_returns_the_image(
    turbotext: Turbotext, fake: FakeTurbotext
) -> None:
    fake.scenario.reconnects = 2
    fake.scenario.link = "data.image"  # a path relative to the base URL

    result = await turbotext.run(image2image(seed=123, negative_prompt="hands"))

    assert result.data == RESULT_PNG
    assert result.mime == "image/png"
    assert result.response_id == "4242"
    create, *polls = fake.calls()
    assert create.method == "POST"
    assert create.path == "/api_ai/generate_image2image"
    assert create.headers["authorization"] == f"Bearer {API_KEY}"
    assert create.headers["content-type"] == "application/x-www-form-urlencoded"
    assert [name for name, _ in create.form] == [
        "do",
        "url",
        "content",
        "strength",
        "scale",
        "original_language",
        "seed",
        "negative_prompt",
    ]
    assert create.fields == create.fields | {
        "do": "create_queue",
        "url": create.fields["url"],
        "content": PROMPT,
        "strength": "40",
        "scale": "7.5",
        "original_language": "ru",
        "seed": "123",
        "negative_prompt": "hands",
    }
    assert create.fields["url"].startswith(f"{turbotext.public_url}/public/provider-media/")
    assert len(polls) == 3
    for poll in polls:
        assert poll.path == "/api_ai/generate_image2image"
        assert poll.form == [("do", "get_result"), ("queueid", "4242")]
        assert poll.headers["authorization"] == f"Bearer {API_KEY}"
    download = fake.requests[-1]
    assert (download.method, download.path) == ("GET", "/image/generate_image2image_id4242_0.png")
    # Turbotext really got the photo from our public URL.
    (fetch,) = fake.fetches
    assert (fetch.field, fetch.status, fetch.content) == ("url", 200, PHOTO)
    assert fetch.content_type == "image/jpeg"


async def test_optional_parameters_are_left_out_when_unset(
    turbotext: Turbotext, fake: FakeTurbotext
) -> None:
    await turbotext.run(image2image(strength=0, scale=20, original_language="en"))
    create = fake.calls("create_queue")[0]
    assert "seed" not in create.fields
    assert "negative_prompt" not in create.fields
    assert (create.fields["strength"], create.fields["scale"]) == ("0", "20.0")
    assert create.fields["original_language"] == "en"


@pytest.mark.parametrize(
    ("settings", "role", "photo_field", "template_field"),
    [
        (MixImagesSettings(prompt="в стиле дисней"), "style", "url_image_target", "url"),
        (DeepfakePhotoSettings(face_restore=True), "body", "url_image_target", "url"),
    ],
    ids=["mix_images", "deepfake_photo"],
)
async def test_photo_and_template_go_in_their_fields(
    turbotext: Turbotext,
    fake: FakeTurbotext,
    settings: OperationSettings,
    role: str,
    photo_field: str,
    template_field: str,
) -> None:
    templates = [
        TemplateImage(role="background", mime="image/png", data=make_image("PNG", (8, 8))),
        TemplateImage(role=role, mime="image/png", data=TEMPLATE),
    ]
    result = await turbotext.run(settings, templates=templates)

    assert result.data == RESULT_PNG
    create = fake.calls("create_queue")[0]
    method = OPERATIONS[type(settings)]
    assert create.path == f"/api_ai/{method}"
    fetched = {fetch.field: fetch.content for fetch in fake.fetches}
    assert fetched == {photo_field: PHOTO, template_field: TEMPLATE}
    # Photo first, then the template (SPEC §4.1), each its own public URL.
    urls = [create.fields[photo_field], create.fields[template_field]]
    async with turbotext.factory() as session:
        keys = (
            await session.scalars(select(MediaObject.id).order_by(MediaObject.created_at))
        ).all()
    assert [url.rsplit("/", 1)[1] for url in urls] == list(keys)
    if method == "mix_images":
        assert create.fields["content"] == "в стиле дисней"
    else:
        assert create.fields["face_restore"] == "True"


async def test_deepfake_and_mix_put_photo_and_template_in_opposite_roles(
    turbotext: Turbotext, fake: FakeTurbotext
) -> None:
    """`mix_images`: the photo is `url_image_target`, the style `url`. In
    `deepfake_photo` `url` is the picture whose face is replaced — the template —
    and `url_image_target` the face put in: the guest's photo."""
    await turbotext.run(
        MixImagesSettings(), templates=[TemplateImage("style", "image/png", TEMPLATE)]
    )
    mix = {f.field: f.content for f in fake.fetches}
    fake.reset()
    await turbotext.run(
        DeepfakePhotoSettings(), templates=[TemplateImage("body", "image/png", TEMPLATE)]
    )
    deepfake = {f.field: f.content for f in fake.fetches}
    assert mix["url"] == deepfake["url"] == TEMPLATE
    assert mix["url_image_target"] == deepfake["url_image_target"] == PHOTO
    assert "content" not in fake.calls("create_queue")[0].fields
    assert fake.calls("create_queue")[0].fields["face_restore"] == "False"


@pytest.mark.parametrize(
    ("settings", "role"),
    [(MixImagesSettings(), "style"), (DeepfakePhotoSettings(), "body")],
    ids=["mix_images", "deepfake_photo"],
)
async def test_a_missing_template_fails_before_anything_is_sent(
    turbotext: Turbotext, fake: FakeTurbotext, settings: OperationSettings, role: str
) -> None:
    wrong_role = [TemplateImage("background", "image/png", TEMPLATE)]
    with pytest.raises(ProviderPermanentError, match=f"role '{role}'"):
        await turbotext.run(settings, templates=wrong_role)
    assert fake.requests == []
    async with turbotext.factory() as session:
        assert (await session.scalars(select(MediaObject))).all() == []


async def test_webp_inputs_are_published_as_jpeg_and_nothing_else_changes(
    turbotext: Turbotext, fake: FakeTurbotext
) -> None:
    webp_photo = make_image("WEBP", (150, 100), seed=3)
    webp_template = make_image("WEBP", (90, 120), seed=4)
    await turbotext.run(
        MixImagesSettings(),
        photo=webp_photo,
        mime="image/webp",
        templates=[TemplateImage("style", "image/webp", webp_template)],
    )
    fetched = {fetch.field: fetch for fetch in fake.fetches}
    for field, source in (("url_image_target", webp_photo), ("url", webp_template)):
        fetch = fetched[field]
        assert fetch.content.startswith(b"\xff\xd8\xff")
        assert fetch.content_type == "image/jpeg"
        original, converted = decoded(source), decoded(fetch.content)
        assert converted.shape == original.shape  # not resized, not rotated
        assert abs(converted.astype(int) - original.astype(int)).mean() < 4
    async with turbotext.factory() as session:
        mimes = set((await session.scalars(select(MediaObject.mime))).all())
    assert mimes == {"image/jpeg"}


async def test_png_and_jpeg_inputs_are_published_byte_for_byte(
    turbotext: Turbotext, fake: FakeTurbotext
) -> None:
    await turbotext.run(image2image(), photo=TEMPLATE, mime="image/png")
    (fetch,) = fake.fetches
    assert (fetch.content, fetch.content_type) == (TEMPLATE, "image/png")


async def test_without_a_key_nothing_is_published_or_sent(
    turbotext: Turbotext, fake: FakeTurbotext
) -> None:
    with pytest.raises(ProviderNotConfigured):
        await turbotext.run(image2image(), api_key=None)
    assert fake.requests == []


@pytest.mark.parametrize(
    "values",
    [
        {"strength": -1},
        {"strength": 81},
        {"scale": 0.05},
        {"scale": 20.5},
        {"seed": 0},
        {"seed": 10**10 + 1},
        {"original_language": "russian"},
        {"prompt": ""},
        {"content": "a typo'd field"},
    ],
)
def test_image2image_settings_refuse_values_out_of_bounds(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        image2image(**values)


def test_settings_defaults_follow_turbotext() -> None:
    settings = image2image()
    assert (settings.strength, settings.scale, settings.original_language) == (40, 7.5, "ru")
    assert (settings.seed, settings.negative_prompt) == (None, None)
    assert image2image(strength=80, scale=0.1, seed=10**10).strength == 80
    assert DeepfakePhotoSettings().face_restore is False
    with pytest.raises(ValidationError):
        MixImagesSettings.model_validate({"url": "http://elsewhere"})


async def test_providers_list_turbotext_with_described_settings(
    admin_client: httpx.AsyncClient,
) -> None:
    response = await admin_client.get("/api/providers")
    providers = {p["name"]: p for p in response.json()["providers"]}
    operations = {op["name"]: op for op in providers["turbotext"]["operations"]}
    assert set(operations) == {"generate_image2image", "mix_images", "deepfake_photo"}
    for operation in operations.values():
        schema = operation["settings_schema"]
        assert schema["additionalProperties"] is False
        assert all(field.get("description") for field in schema["properties"].values())
    strength = operations["generate_image2image"]["settings_schema"]["properties"]["strength"]
    assert (strength["minimum"], strength["maximum"], strength["default"]) == (0, 80, 40)
    assert "`style`" in operations["mix_images"]["title"]
    assert "`body`" in operations["deepfake_photo"]["title"]
