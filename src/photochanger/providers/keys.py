"""Which API key a provider call uses (SPEC §4.6), read for every call so a key
saved on the settings page applies to the next one without a restart."""

from __future__ import annotations

from pydantic import SecretStr

from photochanger.config import Settings
from photochanger.settings.schemas import RuntimeSettings


def api_key_for(provider: str, runtime: RuntimeSettings, config: Settings) -> str | None:
    """The key saved in settings, else the environment's, else None. Providers
    without a key (`local`) have neither field and get None."""
    field = f"{provider}_api_key"
    for source in (runtime, config):
        value = getattr(source, field, None)
        if isinstance(value, SecretStr) and value.get_secret_value():
            return value.get_secret_value()
    return None
