"""How an endpoint reaches the slots service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from photochanger.dependencies import ServicesDep
from photochanger.slots.service import SlotService


async def get_slot_service(services: ServicesDep) -> SlotService:
    return services.slots


SlotServiceDep = Annotated[SlotService, Depends(get_slot_service)]
