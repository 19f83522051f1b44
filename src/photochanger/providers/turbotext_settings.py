"""The settings of Turbotext's three operations: their JSON Schema renders the
slot form, so every field says what it does (bounds from Turbotext's docs)."""

from __future__ import annotations

from pydantic import Field

from photochanger.providers.base import OperationSettings

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
