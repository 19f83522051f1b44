from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from photochanger.dependencies import ServicesDep
from photochanger.template_media.service import TemplateMediaService


async def get_template_media_service(services: ServicesDep) -> TemplateMediaService:
    return services.template_media


TemplateMediaServiceDep = Annotated[TemplateMediaService, Depends(get_template_media_service)]
