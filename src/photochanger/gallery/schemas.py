from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from photochanger.json_values import json_number

MAX_SHARE_MINUTES = 120


class ShareRequest(BaseModel):
    minutes: int = Field(
        default=15, ge=1, le=MAX_SHARE_MINUTES, description="How long the gallery stays open."
    )

    _numbers = field_validator("minutes", mode="before")(json_number)


class ShareState(BaseModel):
    open: bool
    share_until: datetime | None = Field(description="When the share ends; null when revoked.")
    updated_at: datetime | None
    updated_by: str | None


class GalleryResult(BaseModel):
    job_id: str
    result_url: str = Field(description="Download link of the result (`/public/results/{id}`).")
    preview_url: str = Field(description="Small WebP preview, made on its first request.")
    finished_at: datetime | None
    expires_at: datetime | None


class GallerySlot(BaseModel):
    slot_id: str
    name: str
    results: list[GalleryResult] = Field(description="Newest first, at most 10.")


class GalleryView(BaseModel):
    """The admin's view: the share state and what guests see."""

    share: ShareState
    page_url: str = Field(
        description="The public gallery's absolute URL, the one its QR code "
        "(`/pubgallery/qr.png`) encodes."
    )
    slots: list[GallerySlot]


class PublicGallery(BaseModel):
    """What guests see during a share window."""

    share_until: datetime
    slots: list[GallerySlot]
