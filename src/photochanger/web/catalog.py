"""The UI's text: one JSON catalog per language under `static/i18n/`, read by the
pages' script and, for the few strings in the HTML shell, by the server."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "photochanger_lang"
"""Set by the language switch; wins over the browser's Accept-Language."""

CATALOG_DIR = Path(__file__).parent / "static" / "i18n"


@cache
def catalog(language: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((CATALOG_DIR / f"{language}.json").read_text("utf-8"))
    return data


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The switch's choice when it made one, else the browser's first language we
    have (`ru-RU,ru;q=0.9,en;q=0.8` is Russian), else English."""
    if cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
