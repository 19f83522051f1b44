"""Shapes of the template media API (SPEC §6.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, Field

TemplateRole = Literal["background", "style", "face", "body", "template"]
"""What a template is for. Each provider operation reads the roles it needs
(`local` reads `background`; the operations' titles in `GET /api/providers` name
theirs), or sends every template of the slot after the photo, whatever its role."""

TEMPLATE_ROLES: tuple[str, ...] = get_args(TemplateRole)


class TemplateMediaInfo(BaseModel):
    id: str
    role: TemplateRole
    mime: str
    size: int
    filename: str | None
    uploaded_for: str | None = Field(description="The slot it was uploaded for.")
    used_by: str | None = Field(
        description="The slot that uses it (saved in that slot's `template_media`), or null "
        "while it is only uploaded; only unused media can be deleted."
    )
    created_at: datetime
    created_by: str
    file_url: str = Field(description="Admin route that serves the image's bytes.")


class TemplateMediaList(BaseModel):
    template_media: list[TemplateMediaInfo]
