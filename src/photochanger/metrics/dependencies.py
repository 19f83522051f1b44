from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from photochanger.dependencies import ServicesDep
from photochanger.metrics.service import Metrics


async def get_metrics(services: ServicesDep) -> Metrics:
    return services.metrics


MetricsDep = Annotated[Metrics, Depends(get_metrics)]
