from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from photochanger.dependencies import ServicesDep
from photochanger.media.service import MediaService


async def get_media_service(services: ServicesDep) -> MediaService:
    return services.media


MediaServiceDep = Annotated[MediaService, Depends(get_media_service)]
