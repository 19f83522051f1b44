"""The slots API (SPEC §6.2): list, read, save, audit trail. The test run is
the ingest's second door (`ingest/test_run.py`)."""

from __future__ import annotations

from fastapi import APIRouter

from photochanger.auth.dependencies import AdminUser
from photochanger.errors import (
    CsrfFailed,
    InvalidRequest,
    NotAuthenticated,
    SlotNotFound,
    SlotVersionConflict,
    ValidationFailed,
    error_responses,
)
from photochanger.slots.dependencies import SlotServiceDep
from photochanger.slots.schemas import SlotAudit, SlotDetail, SlotList, SlotUpdate

router = APIRouter(tags=["slots"])


@router.get("/api/slots", responses=error_responses(NotAuthenticated))
async def list_slots(slots: SlotServiceDep, _admin: AdminUser) -> SlotList:
    """All 15 slots for the dashboard: name, provider, operation, active, version,
    who saved it last and when, the ingest URL, when its last job started, and
    what it spent today (UTC, test runs included) against its `daily_budget`,
    in the price table's `currency`."""
    return await slots.list_slots()


@router.get("/api/slots/{slot_id}", responses=error_responses(NotAuthenticated, SlotNotFound))
async def get_slot(slot_id: str, slots: SlotServiceDep, _admin: AdminUser) -> SlotDetail:
    """One slot's full configuration, the template images it uses, and its 10
    newest results that have not expired (public and preview links)."""
    return await slots.detail(slot_id)


@router.put(
    "/api/slots/{slot_id}",
    responses=error_responses(
        InvalidRequest,
        NotAuthenticated,
        CsrfFailed,
        SlotNotFound,
        SlotVersionConflict,
        ValidationFailed,
    ),
)
async def save_slot(
    slot_id: str, change: SlotUpdate, slots: SlotServiceDep, admin: AdminUser
) -> SlotDetail:
    """Save a slot. Fields left out keep their values; `settings` (and the
    fallback's) are validated by the operation's settings model and stored as
    it normalises them; `template_media` merges by role (a role not named is
    kept, null removes it). With `version`, a save over a newer version is a 409
    `slot_version_conflict`. The version goes up by one, `updated_by` becomes
    the admin, an audit entry records before and after (secrets masked), and the
    next ingest uses the new configuration. Answers the saved slot."""
    return await slots.update(slot_id, change, admin.username)


@router.get("/api/slots/{slot_id}/audit", responses=error_responses(NotAuthenticated, SlotNotFound))
async def slot_audit(slot_id: str, slots: SlotServiceDep, _admin: AdminUser) -> SlotAudit:
    """Who changed this slot, when, and from what to what; newest first (50)."""
    return await slots.audit(slot_id)
