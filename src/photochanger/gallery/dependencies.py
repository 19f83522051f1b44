from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from photochanger.dependencies import ServicesDep
from photochanger.gallery.service import GalleryService


async def get_gallery_service(services: ServicesDep) -> GalleryService:
    return services.gallery


GalleryServiceDep = Annotated[GalleryService, Depends(get_gallery_service)]
