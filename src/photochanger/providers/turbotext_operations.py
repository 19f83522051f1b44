"""Turbotext's three operations: their settings (the JSON Schema renders the slot
form, so every field says what it does; bounds from Turbotext's docs), their
template roles, and the form fields each sends."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from photochanger.providers.base import JobContext, OperationSettings, ProviderPermanentError

STYLE_TEMPLATE_ROLE = "style"
"""`mix_images`: the slot's template whose style the guest's photo takes on."""
DEEPFAKE_TEMPLATE_ROLE = "body"
"""`deepfake_photo`: the slot's template picture (a costume, a character, a
scene) that keeps everything but its face, which becomes the guest's."""


class GenerateImage2ImageSettings(OperationSettings):
    prompt: str = Field(
        min_length=1,
        max_length=2000,
        description="What to make of the photo (sent as Turbotext's `content`).",
    )
    strength: int = Field(
        default=40,
        ge=0,
        le=80,
        description="How far the result may move away from the photo: 0 keeps it, "
        "80 changes the most.",
    )
    seed: int | None = Field(
        default=None,
        ge=1,
        le=10**10,
        description="A fixed seed gives repeatable results; empty for a random one.",
    )
    scale: float = Field(
        default=7.5,
        ge=0.1,
        le=20.0,
        description="How closely the picture follows the prompt (guidance scale).",
    )
    negative_prompt: str | None = Field(
        default=None,
        max_length=1000,
        description="What to keep out of the picture (at most about 80 words); "
        "empty for Turbotext's default.",
    )
    original_language: str = Field(
        default="ru",
        pattern=r"^[a-z]{2}$",
        description="Language of the prompt, a two-letter code (`ru`, `en`).",
    )


class MixImagesSettings(OperationSettings):
    prompt: str = Field(
        default="",
        max_length=2000,
        description="Optional words that strengthen the effect (Turbotext's `content`). "
        f"The style comes from the slot's template with role `{STYLE_TEMPLATE_ROLE}`.",
    )


class DeepfakePhotoSettings(OperationSettings):
    face_restore: bool = Field(
        default=False,
        description="Let Turbotext restore the face after the swap (sharper, "
        f"slower). The guest's face goes into the slot's template with role "
        f"`{DEEPFAKE_TEMPLATE_ROLE}`.",
    )


@dataclass(frozen=True)
class WirePlan:
    """One operation on the wire: the method, where the photo and the template
    go, and the other parameters in order."""

    method: str
    photo_field: str
    params: list[tuple[str, str]]
    template_role: str | None = None
    template_field: str | None = None


def wire_plan(ctx: JobContext) -> WirePlan:
    settings = ctx.settings
    if isinstance(settings, GenerateImage2ImageSettings):
        params = [
            ("content", settings.prompt),
            ("strength", str(settings.strength)),
            ("scale", repr(settings.scale)),
            ("original_language", settings.original_language),
        ]
        if settings.seed is not None:
            params.append(("seed", str(settings.seed)))
        if settings.negative_prompt:
            params.append(("negative_prompt", settings.negative_prompt))
        return WirePlan("generate_image2image", "url", params)
    if isinstance(settings, MixImagesSettings):
        # The photo is the target that takes on the template's style.
        return WirePlan(
            "mix_images",
            "url_image_target",
            [("content", settings.prompt)] if settings.prompt else [],
            STYLE_TEMPLATE_ROLE,
            "url",
        )
    if isinstance(settings, DeepfakePhotoSettings):
        # The reverse of mix_images: `url` is the picture whose face is
        # replaced (the template), `url_image_target` the face put in (the guest).
        return WirePlan(
            "deepfake_photo",
            "url_image_target",
            [("face_restore", "True" if settings.face_restore else "False")],
            DEEPFAKE_TEMPLATE_ROLE,
            "url",
        )
    raise ProviderPermanentError(f"turbotext has no operation {ctx.operation!r}")
