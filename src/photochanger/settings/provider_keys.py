"""Which API key a provider call uses (SPEC §4.6), read for every call so a key
saved on the settings page applies to the next one without a restart."""

from __future__ import annotations

from photochanger.config import Settings
from photochanger.providers.base import ProviderDriver
from photochanger.settings.schemas import RuntimeSettings


def api_key_for(driver: ProviderDriver, runtime: RuntimeSettings, config: Settings) -> str | None:
    """The key saved in settings, else the environment's, else None. A provider
    that takes no key (`local`) gets None."""
    if not driver.takes_api_key:
        return None
    saved = runtime.provider_keys.get(driver.name)
    if saved is not None and saved.get_secret_value():
        return saved.get_secret_value()
    return config.provider_api_key(driver.name)
