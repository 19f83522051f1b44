from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from photochanger.cleanup.service import CleanupService
from photochanger.dependencies import ServicesDep


async def get_cleanup_service(services: ServicesDep) -> CleanupService:
    return services.cleanup


CleanupServiceDep = Annotated[CleanupService, Depends(get_cleanup_service)]
