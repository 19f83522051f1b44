"""`Settings` reads each provider's `PHOTOCHANGER_<NAME>_API_KEY` and
`PHOTOCHANGER_<NAME>_BASE_URL` from the environment and `.env`, by the names the
drivers declare."""

from __future__ import annotations

from pathlib import Path

import pytest

from photochanger.config import Settings
from photochanger.providers.registry import build_registry
from photochanger.settings.provider_keys import api_key_for
from photochanger.settings.schemas import RuntimeSettings


def test_provider_variables_come_from_the_environment_and_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "PHOTOCHANGER_GEMINI_API_KEY=gemini-from-the-file\n"
        "PHOTOCHANGER_OPENAI_API_KEY=openai-from-the-file\n"
        "PHOTOCHANGER_TURBOTEXT_BASE_URL=https://proxy.example/turbotext/\n"
    )
    monkeypatch.setenv("PHOTOCHANGER_OPENAI_API_KEY", "openai-from-the-environment")
    monkeypatch.setenv("PHOTOCHANGER_TURBOTEXT_API_KEY", "")
    monkeypatch.setenv("PHOTOCHANGER_PUBLIC_BASE_URL", "https://booth.example/")
    config = Settings(_env_file=env_file, data_dir=tmp_path)  # type: ignore[call-arg]

    assert config.provider_api_key("gemini") == "gemini-from-the-file"
    assert config.provider_api_key("openai") == "openai-from-the-environment"
    assert config.provider_api_key("turbotext") is None  # set, but empty
    assert config.provider_base_url("turbotext", "unused") == "https://proxy.example/turbotext"
    assert config.provider_base_url("gemini", "the default") == "the default"
    # A variable of a field of its own is never a provider's.
    assert config.public_base_url == "https://booth.example"
    assert "public" not in config.provider_base_urls

    # What a call uses: the saved key wins; a provider without a key gets none.
    saved = RuntimeSettings(provider_keys={"openai": "openai-saved"})
    drivers = {driver.name: driver for driver in build_registry(config)}
    assert api_key_for(drivers["gemini"], saved, config) == "gemini-from-the-file"
    assert api_key_for(drivers["openai"], saved, config) == "openai-saved"
    assert api_key_for(drivers["turbotext"], saved, config) is None
    monkeypatch.setenv("PHOTOCHANGER_LOCAL_API_KEY", "nobody-asked")
    assert api_key_for(drivers["local"], saved, Settings(_env_file=None)) is None  # type: ignore[call-arg]


def test_without_the_env_file_only_the_environment_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("PHOTOCHANGER_GEMINI_API_KEY=from-the-file\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PHOTOCHANGER_GEMINI_API_KEY", raising=False)
    assert Settings().provider_api_key("gemini") == "from-the-file"
    assert Settings(_env_file=None).provider_api_key("gemini") is None  # type: ignore[call-arg]
