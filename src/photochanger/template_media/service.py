"""Uploading, listing, serving and deleting template images (SPEC §6.3)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import structlog
from sqlalchemy import Connection, Row

from photochanger.audit.repository import AuditRepository
from photochanger.db import Database
from photochanger.errors import (
    InvalidRequest,
    MediaInUse,
    MediaNotFound,
    ServiceUnavailable,
    SlotNotFound,
    UnsupportedMediaType,
    ValidationFailed,
)
from photochanger.media.image_type import EXTENSIONS, read_image_header
from photochanger.media.metadata import UnreadablePhoto, redrawn_image
from photochanger.media.repository import MediaRepository
from photochanger.media.store import MediaStore
from photochanger.models.base import utcnow
from photochanger.multipart import UploadForm
from photochanger.template_media.repository import TemplateMediaRepository
from photochanger.template_media.schemas import (
    TEMPLATE_ROLES,
    TemplateMediaInfo,
    TemplateMediaList,
)

log = structlog.get_logger("photochanger.template_media")

FILE_FIELD = "file"
ROLE_FIELD = "role"
SLOT_FIELD = "slot_id"


def template_info(row: Row[Any]) -> TemplateMediaInfo:
    return TemplateMediaInfo(
        id=row.id,
        role=row.role,
        mime=row.mime,
        size=row.size,
        filename=row.filename,
        uploaded_for=row.owner_slot_id,
        used_by=row.bound_slot_id,
        created_at=row.created_at,
        created_by=row.created_by,
        file_url=f"/api/template-media/{row.id}/file",
    )


def template_key(slot_id: str, template_id: str, mime: str) -> str:
    return f"templates/{slot_id}/{template_id}.{EXTENSIONS[mime]}"


class TemplateMediaService:
    def __init__(self, database: Database, store: MediaStore) -> None:
        self._database = database
        self._store = store

    async def upload(self, form: UploadForm, actor: str) -> TemplateMediaInfo:
        """Check the parsed upload (400, 422, 415 by the bytes), store the image
        atomically, then its rows. The template is staged: a slot uses it once
        the slot is saved with it.

        What is stored is the image encoded again from its pixels, upright and
        without metadata: a file that is also HTML or script (a polyglot) keeps
        only its picture, and one Pillow cannot decode is a 415 (SECURITY.md)."""
        file = form.file
        if file is None:
            raise InvalidRequest(f"missing file field {FILE_FIELD!r}")
        if file.size == 0:
            raise InvalidRequest("the uploaded file is empty")
        role = form.metadata.get(ROLE_FIELD, "").strip()
        slot_id = form.metadata.get(SLOT_FIELD, "").strip()
        errors = []
        if role not in TEMPLATE_ROLES:
            message = f"role must be one of {', '.join(TEMPLATE_ROLES)}"
            errors.append({"field": ROLE_FIELD, "message": message})
        if not slot_id:
            errors.append({"field": SLOT_FIELD, "message": "the slot the image is for"})
        if errors:
            raise ValidationFailed("the template media upload is not valid", errors)
        exists = await self._database.read(
            lambda c: TemplateMediaRepository(c).slot_exists(slot_id)
        )
        if not exists:
            raise SlotNotFound(f"no slot {slot_id[:40]!r}")
        mime = read_image_header(file.mime, file.contents).mime

        contents = file.contents
        if isinstance(contents, bytes):
            raw = contents
        else:
            raw = await asyncio.to_thread(contents.read_bytes)
        try:
            image = await asyncio.to_thread(redrawn_image, raw, mime)
        except UnreadablePhoto as error:
            raise UnsupportedMediaType(str(error)) from None
        del raw

        template_id = secrets.token_urlsafe(12)
        key = template_key(slot_id, template_id, mime)
        try:
            size = await self._store.put_bytes(key, image)
        except OSError:
            log.exception("media_store_failed")
            raise ServiceUnavailable("the media store is unavailable") from None

        def record(connection: Connection) -> TemplateMediaInfo:
            now = utcnow()
            media_id = MediaRepository(connection).add(
                kind="template", key=key, size=size, mime=mime, slot_id=slot_id, created_at=now
            )
            repository = TemplateMediaRepository(connection)
            repository.add(
                template_id=template_id,
                role=role,
                media_object_id=media_id,
                filename=form.file_name,
                created_by=actor,
                created_at=now,
            )
            after = {"slot_id": slot_id, "role": role, "mime": mime, "size": size}
            AuditRepository(connection).record(
                actor=actor, action="template_media.upload", target=template_id, after=after
            )
            row = repository.get(template_id)
            assert row is not None
            return template_info(row)

        try:
            return await self._database.write(record)
        except BaseException:
            await self._store.delete(key)  # no row will ever point at it
            raise

    async def list_uploaded(self, slot_id: str | None) -> TemplateMediaList:
        rows = await self._database.read(lambda c: TemplateMediaRepository(c).uploaded_for(slot_id))
        return TemplateMediaList(template_media=[template_info(row) for row in rows])

    async def get(self, template_id: str) -> Row[Any]:
        row = await self._database.read(lambda c: TemplateMediaRepository(c).get(template_id))
        if row is None:
            raise MediaNotFound(f"no template media {template_id[:40]!r}")
        return row

    async def delete(self, template_id: str, actor: str) -> None:
        """409 while a slot uses it; else the rows go first (so no slot can bind
        it any more), then the file."""

        def remove(connection: Connection) -> str:
            repository = TemplateMediaRepository(connection)
            row = repository.get(template_id)
            if row is None:
                raise MediaNotFound(f"no template media {template_id[:40]!r}")
            if not repository.delete_unbound(template_id):
                raise MediaInUse(
                    f"{row.bound_slot_id} uses this {row.role} image: save that slot "
                    "without it (or with another) first"
                )
            MediaRepository(connection).mark_cleaned(row.key, utcnow())
            AuditRepository(connection).record(
                actor=actor,
                action="template_media.delete",
                target=template_id,
                before={"slot_id": row.owner_slot_id, "role": row.role, "key": row.key},
            )
            key: str = row.key
            return key

        key = await self._database.write(remove)
        await self._store.delete(key)
