"""What the lifespan builds once, handed to endpoints as typed dependencies.

`Services` is the one container, filled by the lifespan for the app's lifetime:
the infrastructure (configuration, database, media store, provider registry,
preview maker, photo memory budget) and every feature's service, built from
that infrastructure (they keep no per-request state). Endpoints reach
infrastructure through the aliases here, and a feature's service through the
`<feature>ServiceDep` alias in that feature's `dependencies.py`.

Every dependency function is `async` although it awaits nothing: FastAPI runs a
plain `def` dependency on a worker thread, a thread hop per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from photochanger.auth.service import AuthService
from photochanger.cleanup.service import CleanupService
from photochanger.config import Settings
from photochanger.db import Database
from photochanger.gallery.service import GalleryService
from photochanger.ingest.service import IngestService
from photochanger.jobs.service import JobService
from photochanger.media.preview import PreviewMaker
from photochanger.media.service import MediaService
from photochanger.media.store import MediaStore
from photochanger.metrics.service import Metrics
from photochanger.photo_memory import ByteBudget
from photochanger.providers.registry import ProviderRegistry
from photochanger.settings.service import SettingsService
from photochanger.slots.service import SlotService
from photochanger.stats.service import StatsService
from photochanger.template_media.service import TemplateMediaService


@dataclass
class Services:
    config: Settings
    database: Database
    store: MediaStore
    registry: ProviderRegistry
    previews: PreviewMaker
    photo_memory: ByteBudget
    """Bytes of uploaded photos kept in memory, all requests together."""
    auth: AuthService
    ingest: IngestService
    slots: SlotService
    settings: SettingsService
    template_media: TemplateMediaService
    jobs: JobService
    media: MediaService
    gallery: GalleryService
    """Keeps the public gallery's rate limit and cache: one for the app."""
    stats: StatsService
    cleanup: CleanupService
    """Also the periodic cleanup's."""
    metrics: Metrics
    """The app's Prometheus registry, which the services above record into."""


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_config(services: ServicesDep) -> Settings:
    return services.config


async def get_database(services: ServicesDep) -> Database:
    return services.database


async def get_store(services: ServicesDep) -> MediaStore:
    return services.store


async def get_registry(services: ServicesDep) -> ProviderRegistry:
    return services.registry


ConfigDep = Annotated[Settings, Depends(get_config)]
DatabaseDep = Annotated[Database, Depends(get_database)]
StoreDep = Annotated[MediaStore, Depends(get_store)]
RegistryDep = Annotated[ProviderRegistry, Depends(get_registry)]
