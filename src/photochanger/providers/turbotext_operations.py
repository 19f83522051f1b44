"""Turbotext's three operations: their settings (the JSON Schema renders the slot
form, so every field says what it does; bounds from Turbotext's docs), their
template roles, and the form fields each sends."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from photochanger.providers.base import JobContext, OperationSettings, ProviderPermanentError, ru

STYLE_TEMPLATE_ROLE = "style"
"""`mix_images`: the slot's template whose style the guest's photo takes on."""
DEEPFAKE_TEMPLATE_ROLE = "body"
"""`deepfake_photo`: the slot's template picture (a costume, a character, a
scene) that keeps everything but its face, which becomes the guest's."""


class GenerateImage2ImageSettings(OperationSettings):
    """Settings of the Turbotext `generate_image2image` operation."""

    prompt: str = Field(
        min_length=1,
        max_length=2000,
        title="Prompt",
        description="What to make of the photo (sent as Turbotext's `content`).",
        json_schema_extra=ru(
            "Запрос", "Во что превратить фото (передаётся в Turbotext как `content`)."
        ),
    )
    strength: int = Field(
        default=40,
        ge=0,
        le=80,
        title="Strength",
        description="How far the result may move away from the photo: 0 keeps it, "
        "80 changes the most.",
        json_schema_extra=ru(
            "Сила изменений",
            "Насколько результат может отойти от фото: 0 — почти без изменений, "
            "80 — сильнее всего.",
        ),
    )
    seed: int | None = Field(
        default=None,
        ge=1,
        le=10**10,
        title="Seed",
        description="A fixed seed gives repeatable results; empty for a random one.",
        json_schema_extra=ru(
            "Зерно (seed)",
            "Одно и то же зерно даёт повторяемый результат; пусто — случайное.",
        ),
    )
    scale: float = Field(
        default=7.5,
        ge=0.1,
        le=20.0,
        title="Guidance scale",
        description="How closely the picture follows the prompt (guidance scale).",
        json_schema_extra=ru(
            "Следование запросу",
            "Насколько точно картинка следует запросу (guidance scale).",
        ),
    )
    negative_prompt: str | None = Field(
        default=None,
        max_length=1000,
        title="Negative prompt",
        description="What to keep out of the picture (at most about 80 words); "
        "empty for Turbotext's default.",
        json_schema_extra=ru(
            "Негативный запрос",
            "Чего не должно быть на картинке (не больше примерно 80 слов); "
            "пусто — значение Turbotext по умолчанию.",
        ),
    )
    original_language: str = Field(
        default="ru",
        pattern=r"^[a-z]{2}$",
        title="Prompt language",
        description="Language of the prompt, a two-letter code (`ru`, `en`).",
        json_schema_extra=ru("Язык запроса", "Язык запроса, двухбуквенный код (`ru`, `en`)."),
    )


class MixImagesSettings(OperationSettings):
    """Settings of the Turbotext `mix_images` operation."""

    prompt: str = Field(
        default="",
        max_length=2000,
        title="Prompt",
        description="Optional words that strengthen the effect (Turbotext's `content`). "
        f"The style comes from the slot's template with role `{STYLE_TEMPLATE_ROLE}`.",
        json_schema_extra=ru(
            "Запрос",
            "Необязательные слова, усиливающие эффект (`content` в Turbotext). Стиль берётся "
            f"из шаблона слота с ролью «{STYLE_TEMPLATE_ROLE}».",
        ),
    )


class DeepfakePhotoSettings(OperationSettings):
    """Settings of the Turbotext `deepfake_photo` operation."""

    face_restore: bool = Field(
        default=False,
        title="Restore the face",
        description="Let Turbotext restore the face after the swap (sharper, "
        f"slower). The guest's face goes into the slot's template with role "
        f"`{DEEPFAKE_TEMPLATE_ROLE}`.",
        json_schema_extra=ru(
            "Восстановить лицо",
            "Turbotext восстановит лицо после замены (чётче, но дольше). Лицо гостя "
            f"переносится в шаблон слота с ролью «{DEEPFAKE_TEMPLATE_ROLE}».",
        ),
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
