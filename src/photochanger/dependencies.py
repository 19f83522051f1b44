"""What the lifespan builds, handed to endpoints as typed dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from photochanger.auth.service import AuthService
from photochanger.config import Settings
from photochanger.db import Database, SessionFactory
from photochanger.ingest.service import IngestService
from photochanger.media.preview import PreviewMaker
from photochanger.media.store import LocalMediaStore
from photochanger.photo_memory import ByteBudget
from photochanger.providers.registry import ProviderRegistry


@dataclass
class Services:
    config: Settings
    engine: AsyncEngine
    factory: SessionFactory
    database: Database
    store: LocalMediaStore
    registry: ProviderRegistry
    previews: PreviewMaker
    ingest: IngestService
    auth: AuthService
    photo_memory: ByteBudget
    """Bytes of uploaded photos kept in memory, all requests together."""


async def get_services(request: Request) -> Services:
    """`async` although it awaits nothing, like every dependency here: FastAPI
    runs a plain `def` dependency on a worker thread, a thread hop per request."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
