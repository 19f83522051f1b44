"""The docs keep every setting and error code documented (STYLE rule 11), the
README stays a page a newcomer reads top-down, and no link points nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from photochanger.config import Settings, api_key_variable, base_url_variable
from photochanger.errors import all_error_classes
from photochanger.providers.registry import PROVIDERS
from photochanger.settings.schemas import VALUE_SETTINGS

ROOT = Path(__file__).parents[1]
README_PATH = ROOT / "README.md"
DOCS = ROOT / "docs"
README = README_PATH.read_text()
CONFIGURATION = (DOCS / "configuration.md").read_text()
ERROR_PAGES = (DOCS / "booth-contract.md").read_text() + (DOCS / "admin-api.md").read_text()
MAX_README_LINES = 160

PER_PROVIDER = {"provider_api_keys", "provider_base_urls"}
"""Settings read from one variable per provider, documented as each provider's."""
ENVIRONMENT_SETTINGS = sorted(set(Settings.model_fields) - PER_PROVIDER)
PROVIDER_VARIABLES = sorted(
    [api_key_variable(d.name) for d in PROVIDERS if d.takes_api_key]
    + [base_url_variable(d.name) for d in PROVIDERS if d.default_base_url]
)
"""Every registered provider's `PHOTOCHANGER_<NAME>_API_KEY` / `_BASE_URL`."""
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def table_row_names(text: str) -> set[str]:
    """The first cell of every table row, without its backticks."""
    return {
        line.split("|")[1].strip().strip("`")
        for line in text.splitlines()
        if line.startswith("| `")
    }


def doc_pages() -> list[Path]:
    return [README_PATH, *sorted(DOCS.glob("*.md"))]


def test_the_per_provider_settings_exist() -> None:
    assert set(Settings.model_fields) >= PER_PROVIDER


@pytest.mark.parametrize("name", ENVIRONMENT_SETTINGS)
def test_every_environment_setting_is_documented(name: str) -> None:
    assert f"PHOTOCHANGER_{name.upper()}" in table_row_names(CONFIGURATION)


@pytest.mark.parametrize("variable", PROVIDER_VARIABLES)
def test_every_provider_variable_is_documented(variable: str) -> None:
    assert variable in table_row_names(CONFIGURATION)


@pytest.mark.parametrize("name", VALUE_SETTINGS)
def test_every_runtime_setting_is_documented(name: str) -> None:
    assert name in table_row_names(CONFIGURATION)


def test_provider_keys_are_documented() -> None:
    assert "provider_keys" in table_row_names(CONFIGURATION)
    assert '"provider_keys"' in (DOCS / "admin-api.md").read_text()


@pytest.mark.parametrize("error", all_error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_code_is_documented(error: type) -> None:
    assert f"`{error.failure_reason}`" in ERROR_PAGES  # type: ignore[attr-defined]


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line]
    assert commands == ["make run", "make test"]


def test_readme_fits_on_a_few_screens() -> None:
    assert len(README.splitlines()) <= MAX_README_LINES


def test_readme_links_every_docs_page() -> None:
    linked = set(LINK.findall(README))
    missing = [page.name for page in DOCS.glob("*.md") if f"docs/{page.name}" not in linked]
    assert not missing


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings (outside code blocks)."""
    found = set()
    in_code = False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


@pytest.mark.parametrize("page", doc_pages(), ids=lambda page: page.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path) if path else page
        if not linked.exists() or (anchor and anchor not in anchors(linked)):
            broken.append(target)
    assert not broken
