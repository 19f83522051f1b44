"""The `local` provider's operation settings: what a slot stores and the admin's
form shows. Only pydantic here: the server process validates slots with these
and never imports the image libraries, which live in the worker processes
(`worker.py`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from photochanger.providers.base import OperationSettings, ru

Background = Literal["template", "studio", "color", "blur"]
Style = Literal["cartoon", "pencil", "color_grade"]
Grade = Literal["natural", "warm", "cool", "vintage", "noir"]

_HEX_COLOUR = r"^#[0-9A-Fa-f]{6}$"

JpegQuality = Annotated[
    int,
    Field(
        ge=50,
        le=100,
        title="JPEG/WebP quality",
        description="Quality of the result when the photo is a JPEG or WebP (PNG stays lossless).",
        json_schema_extra=ru(
            "Качество JPEG/WebP",
            "Качество результата, если фото в формате JPEG или WebP (PNG сохраняется без потерь).",
        ),
    ),
]
"""The one quality setting every local operation offers."""


class BackgroundReplaceSettings(OperationSettings):
    """Settings of the `background_replace` operation."""

    background: Background = Field(
        default="studio",
        title="Background",
        description="template: the slot's template image with role 'background', scaled to "
        "cover the photo and centred (never stretched; a slot without one gets the studio "
        "backdrop); studio: a lit grey studio paper backdrop; color: a solid colour; "
        "blur: the photo's own background, blurred.",
        json_schema_extra=ru(
            "Фон",
            "Шаблон: изображение шаблона слота с ролью «background», масштабированное по "
            "размеру фото и выровненное по центру (без растягивания; если шаблона нет — "
            "студийный фон); студийный фон: серый студийный бумажный фон со светом; цвет: "
            "однотонная заливка; размытие: собственный фон фото, размытый.",
            {"template": "Шаблон", "studio": "Студийный фон", "color": "Цвет", "blur": "Размытие"},
            labels={"template": "Template", "studio": "Studio", "color": "Colour", "blur": "Blur"},
        ),
    )
    color: str = Field(
        default="#2E5E8C",
        pattern=_HEX_COLOUR,
        title="Colour",
        description="The background colour for 'color', as #RRGGBB.",
        json_schema_extra=ru("Цвет", "Цвет фона для варианта «Цвет», в виде #RRGGBB."),
    )
    studio_color: str = Field(
        default="#80848A",
        pattern=_HEX_COLOUR,
        title="Studio paper colour",
        description="The paper colour of the studio backdrop, as #RRGGBB; the light and "
        "vignette are added to it.",
        json_schema_extra=ru(
            "Цвет студийной бумаги",
            "Цвет бумаги студийного фона в виде #RRGGBB; свет и виньетка добавляются к нему.",
        ),
    )
    blur_strength: float = Field(
        default=0.5,
        ge=0.05,
        le=1.0,
        allow_inf_nan=False,
        title="Blur strength",
        description="How blurred the background is for 'blur': 1 is a blur of 5 % of the "
        "photo's diagonal, 0.5 (default) a strong portrait-lens look.",
        json_schema_extra=ru(
            "Сила размытия",
            "Насколько размыт фон для варианта «Размытие»: 1 — размытие на 5 % диагонали "
            "фото, 0,5 (по умолчанию) — сильное размытие, как у портретного объектива.",
        ),
    )
    edge_softness: float = Field(
        default=1.0,
        ge=0.0,
        le=10.0,
        allow_inf_nan=False,
        title="Edge softness",
        description="Feathering of the guests' outline, in pixels of a 1-megapixel photo "
        "(scaled with the photo, so every size looks the same). 0 is the sharpest.",
        json_schema_extra=ru(
            "Мягкость края",
            "Растушёвка контура гостей в пикселях для фото в 1 мегапиксель (масштабируется "
            "вместе с фото, поэтому любой размер выглядит одинаково). 0 — самый резкий край.",
        ),
    )
    refine_edges: bool = Field(
        default=True,
        title="Refine edges",
        description="Snap the outline to the photo's own edges (hair, shoulders) and remove "
        "the old background's colour from them. Off only to see the raw model.",
        json_schema_extra=ru(
            "Уточнять края",
            "Подгонять контур по краям самого фото (волосы, плечи) и убирать с них цвет "
            "старого фона. Выключать только чтобы увидеть необработанный результат модели.",
        ),
    )
    light_wrap: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        title="Light wrap",
        description="How much of the new background's light spills onto the guests' "
        "edges, so they sit in the scene instead of on top of it. 0 is off.",
        json_schema_extra=ru(
            "Ореол света",
            "Сколько света нового фона ложится на края гостей, чтобы они были в сцене, "
            "а не наклеены поверх неё. 0 — выключено.",
        ),
    )
    color_match: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        title="Colour match",
        description="Shift the guests' colour balance towards the new background's light, "
        "by this share of the difference between old and new background (at most 5 % per "
        "colour, and at most 3 levels on skin, so faces keep their colour; brightness is "
        "kept). 0 is off.",
        json_schema_extra=ru(
            "Подгонка цвета",
            "Сдвигать цветовой баланс гостей к освещению нового фона на эту долю разницы "
            "между старым и новым фоном (не больше 5 % на канал и не больше 3 уровней на "
            "коже, чтобы лица не меняли цвет; яркость сохраняется). 0 — выключено.",
        ),
    )
    jpeg_quality: JpegQuality = 92


class StylizeSettings(OperationSettings):
    """Settings of the `stylize` operation."""

    style: Style = Field(
        default="cartoon",
        title="Style",
        description="cartoon: flat colours with ink outlines; pencil: a graphite sketch; "
        "color_grade: a photographic look chosen below.",
        json_schema_extra=ru(
            "Стиль",
            "Мультфильм: плоские цвета с чернильным контуром; карандаш: графитный набросок; "
            "цветокоррекция: фотографический образ, выбранный ниже.",
            {"cartoon": "Мультфильм", "pencil": "Карандаш", "color_grade": "Цветокоррекция"},
            labels={"cartoon": "Cartoon", "pencil": "Pencil", "color_grade": "Colour grade"},
        ),
    )
    grade: Grade = Field(
        default="warm",
        title="Colour grade",
        description="The look used by the color_grade style: natural (a gentle lift of "
        "contrast and colour), warm, cool, vintage (faded and warm) or noir (high-contrast "
        "black and white).",
        json_schema_extra=ru(
            "Цветокоррекция",
            "Образ для стиля «Цветокоррекция»: естественный (лёгкое усиление контраста и "
            "цвета), тёплый, холодный, винтаж (выцветший и тёплый) или нуар (контрастный "
            "чёрно-белый).",
            {
                "natural": "Естественный",
                "warm": "Тёплый",
                "cool": "Холодный",
                "vintage": "Винтаж",
                "noir": "Нуар",
            },
            labels={
                "natural": "Natural",
                "warm": "Warm",
                "cool": "Cool",
                "vintage": "Vintage",
                "noir": "Noir",
            },
        ),
    )
    strength: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        title="Strength",
        description="How much of the effect to apply: 1 is the full effect, 0 the original photo.",
        json_schema_extra=ru(
            "Сила",
            "Насколько сильно применить эффект: 1 — полностью, 0 — исходное фото.",
        ),
    )
    jpeg_quality: JpegQuality = 92


class EnhanceSettings(OperationSettings):
    """Settings of the `enhance` operation."""

    auto_levels: bool = Field(
        default=True,
        title="Auto levels",
        description="Stretch the tones so the darkest 0.5 % of the photo is black and the "
        "brightest 0.5 % white (the same for the three colours, so hues do not shift; "
        "limited, so a dark room does not turn into day).",
        json_schema_extra=ru(
            "Автоуровни",
            "Растянуть тона так, чтобы самые тёмные 0,5 % фото стали чёрными, а самые "
            "светлые 0,5 % — белыми (одинаково для трёх каналов, поэтому оттенки не "
            "сдвигаются; с ограничением, чтобы тёмный зал не превратился в день).",
        ),
    )
    sharpen: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        title="Sharpening",
        description="Strength of an unsharp mask: 0 is off, 0.3 a light print sharpening, "
        "1 strong.",
        json_schema_extra=ru(
            "Резкость",
            "Сила нерезкой маски: 0 — выключено, 0,3 — лёгкая резкость для печати, 1 — сильная.",
        ),
    )
    jpeg_quality: JpegQuality = 92
