from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from photochanger.dependencies import ServicesDep
from photochanger.settings.service import SettingsService


async def get_settings_service(services: ServicesDep) -> SettingsService:
    return services.settings


SettingsServiceDep = Annotated[SettingsService, Depends(get_settings_service)]
