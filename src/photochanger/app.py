"""`create_app()`: the ASGI application and its lifespan."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from photochanger import __version__
from photochanger.auth.endpoints import router as auth_router
from photochanger.auth.service import AuthService, resolve_jwt_secret
from photochanger.cleanup.endpoints import router as cleanup_router
from photochanger.cleanup.scheduler import PeriodicCleanup
from photochanger.cleanup.service import CleanupService
from photochanger.config import MB, Settings
from photochanger.db import Database, create_engine
from photochanger.dependencies import Services
from photochanger.errors import (
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    PhotoChangerError,
    RouteNotFound,
    ServiceUnavailable,
    ValidationFailed,
    field_errors,
)
from photochanger.gallery.endpoints import router as gallery_router
from photochanger.gallery.service import GalleryService
from photochanger.health import router as health_router
from photochanger.ingest.endpoints import router as ingest_router
from photochanger.ingest.service import IngestService
from photochanger.ingest.test_run import router as test_run_router
from photochanger.jobs.endpoints import router as jobs_router
from photochanger.jobs.recovery import close_interrupted_jobs
from photochanger.jobs.service import JobService
from photochanger.media.endpoints import router as media_router
from photochanger.media.open_store import open_media_store
from photochanger.media.preview import PreviewMaker
from photochanger.media.service import MediaService
from photochanger.media.temp_files import claimed_temp_directories
from photochanger.metrics.endpoints import router as metrics_router
from photochanger.metrics.service import Metrics
from photochanger.middleware import RequestIdMiddleware
from photochanger.migrate import current_revision, head_revision
from photochanger.photo_memory import ByteBudget
from photochanger.providers.base import ProviderDriver
from photochanger.providers.endpoints import router as providers_router
from photochanger.providers.registry import build_registry
from photochanger.query_params import single_query_values
from photochanger.settings.endpoints import router as settings_router
from photochanger.settings.service import SettingsService, ensure_ingest_password
from photochanger.slots.endpoints import router as slots_router
from photochanger.slots.service import SlotService
from photochanger.stats.endpoints import router as stats_router
from photochanger.stats.service import StatsService
from photochanger.template_media.endpoints import router as template_media_router
from photochanger.template_media.service import TemplateMediaService
from photochanger.web.api_docs import api_docs_router
from photochanger.web.assets import StaticAssets
from photochanger.web.endpoints import public_router as public_pages_router
from photochanger.web.endpoints import router as web_router
from photochanger.web.qr import router as qr_router
from photochanger.web.security import SecurityHeadersMiddleware

log = structlog.get_logger("photochanger")


class SchemaNotCurrent(RuntimeError):
    pass


def create_app(
    config: Settings | None = None, *, extra_providers: Sequence[type[ProviderDriver]] = ()
) -> FastAPI:
    """The application on `config` (default: the environment's). `extra_providers`
    are registered beside the built-in ones, as `build_registry` does."""
    config = config or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config.prepare_directories()
        engine = create_engine(config.resolved_database_url)
        revision = await current_revision(engine)
        if revision != head_revision():
            await engine.dispose()
            raise SchemaNotCurrent(
                f"database schema is at {revision!r}, not {head_revision()!r}: "
                "run `photochanger migrate` first"
            )
        database = Database(engine)
        media = AsyncExitStack()  # the S3 client, when the store is a bucket
        store = await media.enter_async_context(open_media_store(config))
        media.enter_context(claimed_temp_directories(config, store))
        registry = build_registry(config, extra_providers)
        await registry.start()
        closed = await close_interrupted_jobs(database, config.instance_id)
        if closed:
            log.warning("jobs_interrupted", count=closed)
        generated = await ensure_ingest_password(database, config)
        if generated:
            # Shown once, on the operator's console, never through the logs.
            print(f"New ingest password: {generated}", file=sys.stderr)
        previews = PreviewMaker(store, database)
        metrics = Metrics(
            providers=[driver.name for driver in registry],
            media_disk=config.resolved_media_root if config.media_store == "local" else None,
            cleanup_enabled=config.cleanup_enabled,
        )
        cleanup = CleanupService(database, store, metrics=metrics)
        app.state.services = Services(
            config=config,
            database=database,
            store=store,
            registry=registry,
            previews=previews,
            photo_memory=ByteBudget(config.photo_memory_mb * MB),
            auth=AuthService(database, await resolve_jwt_secret(database, config)),
            ingest=IngestService(
                database=database, store=store, registry=registry, config=config, metrics=metrics
            ),
            slots=SlotService(database, registry, config),
            settings=SettingsService(
                database, config, registry.with_api_keys, registry.default_prices()
            ),
            template_media=TemplateMediaService(database, store),
            jobs=JobService(database, config),
            media=MediaService(database, store, previews),
            gallery=GalleryService(database),
            stats=StatsService(database, registry.default_prices().currency),
            cleanup=cleanup,
            metrics=metrics,
        )
        periodic_cleanup = None
        if config.cleanup_enabled:
            # Started last: the first run comes after the app is serving.
            periodic_cleanup = PeriodicCleanup(cleanup.run, config.cleanup_interval_seconds)
            periodic_cleanup.start()
        try:
            yield
        finally:
            if periodic_cleanup is not None:
                await periodic_cleanup.stop()
            await app.state.services.ingest.stop()
            await previews.close()
            await registry.close()
            await media.aclose()
            await database.dispose()

    app = FastAPI(
        title="PhotoChanger",
        version=__version__,
        description="The backend behind a photo booth's upload URL: a photo goes in, "
        "the edited photo comes back within the sync window.",
        lifespan=lifespan,
        # Served by `web.api_docs` instead, as `api_docs` allows.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(single_query_values)],
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestIdMiddleware)
    # Starlette types a handler as taking any Exception; each of ours takes the
    # class it is registered for, hence the ignores.
    app.add_exception_handler(PhotoChangerError, _render_domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _render_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _render_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _render_database_error)  # type: ignore[arg-type]
    # A refused database connection (asyncpg raises it unwrapped) or a failing disk.
    app.add_exception_handler(OSError, _render_database_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _render_unexpected_error)
    app.include_router(ingest_router)
    app.include_router(auth_router)
    app.include_router(qr_router)  # before media's `/public/results/{job_id:path}`
    app.include_router(media_router)
    app.include_router(providers_router)
    app.include_router(slots_router)
    app.include_router(test_run_router)
    app.include_router(template_media_router)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(settings_router)
    app.include_router(gallery_router)
    app.include_router(cleanup_router)
    app.include_router(jobs_router)
    app.include_router(stats_router)
    app.include_router(api_docs_router(config))
    app.include_router(web_router)
    app.include_router(public_pages_router)
    app.mount("/static", StaticAssets(), name="static")
    return app


async def _render_domain_error(_request: Request, error: PhotoChangerError) -> JSONResponse:
    return error.to_response()


async def _render_validation_error(
    _request: Request, error: RequestValidationError
) -> JSONResponse:
    """A request FastAPI could not parse: the same error shape as everything else,
    with one `{field, message}` per problem for the UI to highlight."""
    errors = field_errors(error.errors())
    return ValidationFailed("the request is not valid", errors).to_response()


async def _render_http_error(request: Request, error: StarletteHTTPException) -> Response:
    """The router's own 404 and 405 in the shape of every other error."""
    if error.status_code == 405:
        answer = MethodNotAllowed("this path does not take this method").to_response()
        # Starlette's `Allow` names the first matching route's methods only.
        answer.headers["Allow"] = ", ".join(sorted(_methods_of(request.app, request.url.path)))
        return answer
    if error.status_code == 404:
        return RouteNotFound("no such path").to_response()
    if error.status_code == 400:  # FastAPI's: a body that is not text at all
        return InvalidRequest("the request body could not be parsed").to_response()
    return await http_exception_handler(request, error)


async def _render_database_error(request: Request, error: DBAPIError | OSError) -> JSONResponse:
    cause = error.orig if isinstance(error, DBAPIError) else error
    if _refused_value(error):
        # PostgreSQL refused a value the request brought (a NUL character, a
        # number out of range): the request is at fault, the database is fine.
        log.warning("value_refused_by_database", error=type(cause).__name__)
        if any("\x00" in str(value) for value in request.path_params.values()):
            return RouteNotFound("no such path: no id holds a NUL character").to_response()
        return ValidationFailed("a value in the request cannot be stored", []).to_response()
    log.error("storage_unavailable", error=type(cause).__name__)
    return ServiceUnavailable("the database or media store is unavailable").to_response()


def _methods_of(app: FastAPI, path: str) -> set[str]:
    """Every method some route takes on this path (through the included routers)."""
    found: set[str] = set()
    pending: list[BaseRoute] = list(app.router.routes)
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)
        if included is not None:
            pending.extend(included.routes)
        elif isinstance(route, Route) and route.methods and route.path_regex.match(path):
            found |= route.methods
    return found


def _refused_value(error: DBAPIError | OSError) -> bool:
    """A data exception (SQLSTATE class 22): asyncpg's is not always mapped to
    `DataError` (a NUL character arrives as a plain `Error` with code 22021)."""
    if isinstance(error, DataError):
        return True
    code = getattr(error.orig, "sqlstate", None) if isinstance(error, DBAPIError) else None
    return isinstance(code, str) and code.startswith("22")


async def _render_unexpected_error(_request: Request, error: Exception) -> JSONResponse:
    log.error("unexpected_error", error=type(error).__name__, exc_info=error)
    return InternalError("unexpected error; see the server log for this request id").to_response()
