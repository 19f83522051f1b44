"""`GET/PUT /api/settings` (SPEC §6.5)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from photochanger.auth.dependencies import AdminUser
from photochanger.errors import (
    CsrfFailed,
    InvalidRequest,
    NotAuthenticated,
    ValidationFailed,
    error_responses,
)
from photochanger.settings.dependencies import SettingsServiceDep
from photochanger.settings.schemas import SettingsUpdate, SettingsView

router = APIRouter(tags=["settings"])


@router.get("/api/settings", responses=error_responses(NotAuthenticated))
async def read_settings(
    admin: AdminUser, settings: SettingsServiceDep, response: Response
) -> SettingsView:
    """Every runtime setting with its value, `updated_at` and `updated_by` (null
    while the default applies). The ingest password is shown in plain text, as
    the studio asked; provider keys never are: `provider_keys` has one entry per
    provider that takes a key, with whether one is configured, its last 4
    characters and where it comes from (saved here, or the environment's
    `PHOTOCHANGER_<NAME>_API_KEY`)."""
    response.headers["Cache-Control"] = "no-store"
    return await settings.view()


@router.put(
    "/api/settings",
    responses=error_responses(InvalidRequest, NotAuthenticated, CsrfFailed, ValidationFailed),
)
async def update_settings(
    body: SettingsUpdate, admin: AdminUser, settings: SettingsServiceDep, response: Response
) -> SettingsView:
    """Change the fields sent, and only those; all or none. Limits as in the
    settings table (422 `validation_error` naming each invalid field). Keys are
    sent as `provider_keys: {"<provider>": "<key>"}`, only those named change; a
    key sent as `""` or null is removed, so the environment's key applies again.
    The change applies to the next request on every replica, and is audited
    with secrets masked. Answers the same view as `GET`."""
    response.headers["Cache-Control"] = "no-store"
    return await settings.update(body.model_dump(exclude_unset=True), admin.username)
