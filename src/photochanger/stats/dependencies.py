from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from photochanger.dependencies import ServicesDep
from photochanger.stats.service import StatsService


async def get_stats_service(services: ServicesDep) -> StatsService:
    return services.stats


StatsServiceDep = Annotated[StatsService, Depends(get_stats_service)]
