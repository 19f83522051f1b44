from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from photochanger.dependencies import ServicesDep
from photochanger.jobs.service import JobService


async def get_job_service(services: ServicesDep) -> JobService:
    return services.jobs


JobServiceDep = Annotated[JobService, Depends(get_job_service)]
