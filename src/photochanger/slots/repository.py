"""SQL on `slot` and its template media, as functions of one connection."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select

from photochanger.models import MediaObject, Slot, TemplateMedia

SLOT_ID_PATTERN = re.compile(r"slot-\d{3}")


def is_slot_id(value: str) -> bool:
    return SLOT_ID_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True)
class SlotConfig:
    """What a job needs of its slot, read once at the door."""

    id: str
    name: str
    provider: str
    operation: str
    settings: dict[str, Any]
    fallback: dict[str, Any] | None
    on_failure: str
    active: bool
    size_limit_mb: int
    max_input_megapixels: float
    version: int


_GET_CONFIG = select(*(Slot.__table__.c[name] for name in SlotConfig.__dataclass_fields__)).where(
    Slot.id == bindparam("b_slot_id")
)


class SlotRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, slot_id: str) -> SlotConfig | None:
        """The slot, or None for an unknown id (any string, including path tricks)."""
        if not is_slot_id(slot_id):
            return None
        row = self.connection.execute(_GET_CONFIG, {"b_slot_id": slot_id}).first()
        return None if row is None else SlotConfig(**row._asdict())

    def template_files(self, slot_id: str) -> list[tuple[str, str, str]]:
        """(role, media key, mime) of the slot's live template images, oldest first."""
        query = (
            select(TemplateMedia.role, MediaObject.key, MediaObject.mime)
            .join(MediaObject, MediaObject.id == TemplateMedia.media_object_id)
            .where(TemplateMedia.slot_id == slot_id, MediaObject.cleaned_at.is_(None))
            .order_by(TemplateMedia.created_at, TemplateMedia.id)
        )
        return [(role, key, mime) for role, key, mime in self.connection.execute(query)]
