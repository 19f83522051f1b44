"""SQL on `template_media` (with its `media_object`), as functions of one connection.

The binding model: `media_object.slot_id` is the slot an image was uploaded *for*
(it never changes); `template_media.slot_id` is the slot that *uses* it, set only
by saving that slot (`PUT /api/slots/{id}`), NULL while the upload is staged or
after the slot replaced or dropped its role. Ingest reads the bound rows only, and
a slot has at most one bound image per role: binding a role unbinds the old one in
the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from photochanger.models import MediaObject, Slot, TemplateMedia


def _columns() -> Any:
    return select(
        TemplateMedia.id,
        TemplateMedia.role,
        TemplateMedia.slot_id.label("bound_slot_id"),
        MediaObject.slot_id.label("owner_slot_id"),
        TemplateMedia.filename,
        TemplateMedia.created_at,
        TemplateMedia.created_by,
        TemplateMedia.media_object_id,
        MediaObject.key,
        MediaObject.mime,
        MediaObject.size,
    ).join(MediaObject, MediaObject.id == TemplateMedia.media_object_id)


class TemplateMediaRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(
        self,
        *,
        template_id: str,
        role: str,
        media_object_id: str,
        filename: str | None,
        created_by: str,
        created_at: datetime,
    ) -> None:
        """A staged template (bound to no slot until a slot's save names it)."""
        self.connection.execute(
            insert(TemplateMedia),
            [
                {
                    "id": template_id,
                    "slot_id": None,
                    "role": role,
                    "media_object_id": media_object_id,
                    "filename": filename,
                    "created_by": created_by,
                    "created_at": created_at,
                }
            ],
        )

    def slot_exists(self, slot_id: str) -> bool:
        """Whether a template can be uploaded for this slot id."""
        query = select(Slot.id).where(Slot.id == slot_id)
        return self.connection.execute(query).first() is not None

    def get(self, template_id: str) -> Row[Any] | None:
        query = _columns().where(TemplateMedia.id == template_id, MediaObject.cleaned_at.is_(None))
        return self.connection.execute(query).first()

    def uploaded_for(self, slot_id: str | None) -> list[Row[Any]]:
        """Live templates uploaded for a slot (every slot when None), newest first."""
        query = _columns().where(MediaObject.cleaned_at.is_(None))
        if slot_id is not None:
            query = query.where(MediaObject.slot_id == slot_id)
        query = query.order_by(TemplateMedia.created_at.desc(), TemplateMedia.id)
        return list(self.connection.execute(query))

    def bound_to(self, slot_id: str) -> list[Row[Any]]:
        """The templates the slot uses, one per role, by role."""
        query = (
            _columns()
            .where(TemplateMedia.slot_id == slot_id, MediaObject.cleaned_at.is_(None))
            .order_by(TemplateMedia.role, TemplateMedia.created_at)
        )
        return list(self.connection.execute(query))

    def unbind(self, slot_id: str, role: str) -> None:
        self.connection.execute(
            update(TemplateMedia)
            .where(TemplateMedia.slot_id == slot_id, TemplateMedia.role == role)
            .values(slot_id=None)
        )

    def bind(self, slot_id: str, role: str, template_id: str) -> bool:
        """Make `template_id` the slot's image for `role`, replacing any other.
        False when the template is gone (deleted meanwhile)."""
        self.unbind(slot_id, role)
        result = self.connection.execute(
            update(TemplateMedia).where(TemplateMedia.id == template_id).values(slot_id=slot_id)
        )
        return result.rowcount == 1

    def delete_unbound(self, template_id: str) -> bool:
        """Remove the row unless a slot uses it; the check and the delete are one
        statement, so a concurrent save cannot bind it in between."""
        result = self.connection.execute(
            delete(TemplateMedia).where(
                TemplateMedia.id == template_id, TemplateMedia.slot_id.is_(None)
            )
        )
        return result.rowcount == 1
