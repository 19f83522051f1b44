from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import JSONResponse

from photochanger.dependencies import DatabaseDep, StoreDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a dependency is not ready"}})
async def readyz(database: DatabaseDep, store: StoreDep) -> JSONResponse:
    """Ready to take ingests: the database answers and the media store is writable.
    The store's check writes and deletes one fixed probe key (`.tmp/ready-probe`,
    or `<prefix>/.ready/probe` in a bucket), so a check cancelled half-way (a
    prober that gave up) leaves at most that one object, never one per call."""
    checks: dict[str, str] = {}
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    try:
        await store.check_writable()
        checks["media_store"] = "ok"
    except OSError:
        checks["media_store"] = "unwritable"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
    )
