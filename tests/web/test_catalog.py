"""One catalog per language (issue 16 §4): both have the same keys, every key is
used by the UI, every text the UI asks for exists, every error code has words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from photochanger.errors import all_error_classes
from photochanger.template_media.schemas import TEMPLATE_ROLES
from photochanger.web import endpoints
from photochanger.web.catalog import CATALOG_DIR, LANGUAGES, pick_language
from photochanger.web.shell import Page

WEB = Path(__file__).parents[2] / "src" / "photochanger" / "web"
SCRIPTS = sorted((WEB / "static" / "js").rglob("*.js"))
PYTHON = sorted(WEB.rglob("*.py"))

# t("key"), t('key', …), and keys written as string literals in tables such as
# STATUS_KEYS = {done: "status.done"}: any quoted `prefix.name` of a known key.
LITERAL = re.compile(r"""["'`]([a-z_]+\.[a-z0-9_.]+)["'`]""")
CALL = re.compile(r"""\bt\(\s*["']([^"']+)["']""")
DYNAMIC_PREFIXES = {"error.", "role."}
"""Keys the UI builds at run time: `error.<failure_reason>` and
`role.<template role>` (both checked below)."""


def catalogs() -> dict[str, dict[str, str]]:
    return {
        language: json.loads((CATALOG_DIR / f"{language}.json").read_text("utf-8"))
        for language in LANGUAGES
    }


def source_text() -> str:
    return "\n".join(path.read_text("utf-8") for path in [*SCRIPTS, *PYTHON])


def test_both_languages_have_the_same_keys() -> None:
    found = catalogs()
    english, russian = set(found["en"]), set(found["ru"])
    assert english - russian == set(), "missing in ru"
    assert russian - english == set(), "missing in en"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_text_is_empty_or_left_untranslated(language: str) -> None:
    found = catalogs()
    for key, text in found[language].items():
        assert text.strip(), f"{language}: {key} is empty"
    if language == "ru":
        same = [
            key
            for key, text in found["ru"].items()
            if text == found["en"][key] and re.search(r"[A-Za-z]{4}", text)
        ]
        # Brand and language names are the same in both.
        assert same == [], f"ru texts still in English: {same}"


def page_titles() -> set[str]:
    """`shell.render` shows `{page}.title` for every page the server has."""
    pages = [value for value in vars(endpoints).values() if isinstance(value, Page)]
    assert pages
    return {f"{page.name}.title" for page in pages}


def test_every_key_is_used() -> None:
    text = source_text()
    literals = set(LITERAL.findall(text)) | page_titles()
    unused = [
        key
        for key in catalogs()["en"]
        if key not in literals and not any(key.startswith(p) for p in DYNAMIC_PREFIXES)
    ]
    assert unused == []


def test_every_text_the_scripts_ask_for_exists() -> None:
    english = catalogs()["en"]
    asked = {key for path in SCRIPTS for key in CALL.findall(path.read_text("utf-8"))}
    assert asked, "the pattern found no t() call at all"
    asked |= page_titles()
    assert sorted(asked - set(english)) == []


def test_every_error_code_has_words_and_the_catalog_no_stale_ones() -> None:
    english = catalogs()["en"]
    reasons = {cls.failure_reason for cls in all_error_classes()}
    # Browser-side reasons: the fetch itself failed, or nothing we know.
    browser_side = {"network_error", "unexpected", "http", "retry_after"}
    in_catalog = {key.removeprefix("error.") for key in english if key.startswith("error.")}
    assert sorted(reasons - in_catalog) == []
    assert sorted(in_catalog - reasons - browser_side) == []


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "en"),
        (None, "ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        (None, "de-DE,de;q=0.9,ru;q=0.5,en;q=0.4", "ru"),
        (None, "en;q=0.3,ru;q=0.8", "ru"),
        (None, "ru;q=0", "en"),
        (None, "fr, *;q=0.5", "en"),
        ("en", "ru-RU", "en"),
        ("ru", "en-US", "ru"),
        ("xx", "ru", "ru"),
    ],
)
def test_the_language_follows_the_switch_then_the_browser(
    cookie: str | None, header: str | None, expected: str
) -> None:
    assert pick_language(cookie, header) == expected


def test_every_template_role_has_a_name_and_no_stale_one() -> None:
    english = catalogs()["en"]
    named = {key.removeprefix("role.") for key in english if key.startswith("role.")}
    assert named == set(TEMPLATE_ROLES)
