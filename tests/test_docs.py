"""The README keeps every setting and error code documented (STYLE rule 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from photochanger.config import Settings, api_key_variable, base_url_variable
from photochanger.errors import all_error_classes
from photochanger.providers.registry import PROVIDERS
from photochanger.settings.schemas import VALUE_SETTINGS, api_key_setting

README = (Path(__file__).parents[1] / "README.md").read_text()

PER_PROVIDER = {"provider_api_keys", "provider_base_urls"}
"""Settings read from one variable per provider, documented as each provider's."""


def provider_variables() -> list[str]:
    assert set(Settings.model_fields) >= PER_PROVIDER
    variables = [api_key_variable(d.name) for d in PROVIDERS if d.takes_api_key]
    return variables + [base_url_variable(d.name) for d in PROVIDERS if d.default_base_url]


@pytest.mark.parametrize("name", sorted(set(Settings.model_fields) - PER_PROVIDER))
def test_every_environment_setting_is_documented(name: str) -> None:
    assert f"`PHOTOCHANGER_{name.upper()}`" in README


@pytest.mark.parametrize("variable", provider_variables())
def test_every_provider_variable_is_documented(variable: str) -> None:
    assert f"`{variable}`" in README


@pytest.mark.parametrize(
    "name",
    [*VALUE_SETTINGS, *(api_key_setting(d.name) for d in PROVIDERS if d.takes_api_key)],
)
def test_every_runtime_setting_is_documented(name: str) -> None:
    assert f"| `{name}` |" in README


@pytest.mark.parametrize("error", all_error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_code_is_documented(error: type) -> None:
    assert f"`{error.failure_reason}`" in README  # type: ignore[attr-defined]


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line]
    assert commands == ["make run", "make test"]
