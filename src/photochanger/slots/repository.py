from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.models import MediaObject, Slot, TemplateMedia

SLOT_ID_PATTERN = re.compile(r"slot-\d{3}")


def is_slot_id(value: str) -> bool:
    return SLOT_ID_PATTERN.fullmatch(value) is not None


class SlotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, slot_id: str) -> Slot | None:
        """The slot, or None for an unknown id (any string, including path tricks)."""
        if not is_slot_id(slot_id):
            return None
        return await self.session.get(Slot, slot_id)

    async def template_files(self, slot_id: str) -> list[tuple[str, str, str]]:
        """(role, media key, mime) of the slot's live template images, oldest first."""
        query = (
            select(TemplateMedia.role, MediaObject.key, MediaObject.mime)
            .join(MediaObject, MediaObject.id == TemplateMedia.media_object_id)
            .where(TemplateMedia.slot_id == slot_id, MediaObject.cleaned_at.is_(None))
            .order_by(TemplateMedia.created_at, TemplateMedia.id)
        )
        return [(role, key, mime) for role, key, mime in (await self.session.execute(query))]
