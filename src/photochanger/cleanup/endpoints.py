"""`POST /api/cleanup` and `POST /api/slots/{slot_id}/cleanup` (SPEC §5.3, §6.2)."""

from __future__ import annotations

from fastapi import APIRouter

from photochanger.auth.dependencies import AdminUser
from photochanger.cleanup.dependencies import CleanupServiceDep
from photochanger.cleanup.schemas import CleanupSummary
from photochanger.errors import CsrfFailed, NotAuthenticated, SlotNotFound, error_responses

router = APIRouter(tags=["cleanup"])


@router.post("/api/cleanup", responses=error_responses(NotAuthenticated, CsrfFailed))
async def clean_up(admin: AdminUser, cleanup: CleanupServiceDep) -> CleanupSummary:
    """Run a cleanup pass now: delete expired results, previews and leftover
    provider-media files (template media and live results are never touched),
    prune old login failures, and answer what was removed. Safe while the
    periodic task or another replica cleans at the same time."""
    return await cleanup.run(actor=admin.username)


@router.post(
    "/api/slots/{slot_id}/cleanup",
    responses=error_responses(NotAuthenticated, CsrfFailed, SlotNotFound),
)
async def clean_up_slot(
    slot_id: str, admin: AdminUser, cleanup: CleanupServiceDep
) -> CleanupSummary:
    """A cleanup pass over one slot's expired media only."""
    return await cleanup.run(slot_id, actor=admin.username)
