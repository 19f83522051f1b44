"""The README keeps every setting and error code documented (STYLE rule 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from photochanger.config import Settings
from photochanger.errors import all_error_classes
from photochanger.settings.schemas import RuntimeSettings

README = (Path(__file__).parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_environment_setting_is_documented(name: str) -> None:
    assert f"`PHOTOCHANGER_{name.upper()}`" in README


@pytest.mark.parametrize("name", sorted(RuntimeSettings.model_fields))
def test_every_runtime_setting_is_documented(name: str) -> None:
    assert f"| `{name}` |" in README


@pytest.mark.parametrize("error", all_error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_code_is_documented(error: type) -> None:
    assert f"`{error.failure_reason}`" in README  # type: ignore[attr-defined]


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line]
    assert commands == ["make run", "make test"]
