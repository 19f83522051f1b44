"""Checks on a parsed upload, in the order of SPEC §3.2."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from photochanger.config import MB
from photochanger.errors import (
    InvalidPassword,
    InvalidRequest,
    PayloadTooLarge,
    SlotDisabled,
    SlotNotFound,
)
from photochanger.media.image_type import read_image_header
from photochanger.multipart import SpooledFile, UploadForm
from photochanger.slots.repository import SlotConfig


@dataclass(frozen=True)
class CheckedUpload:
    file: SpooledFile
    mime: str
    width: int
    height: int


def check_password(given: str, expected: str) -> None:
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise InvalidPassword("wrong ingest password")


def check_form(form: UploadForm, *, require_password: bool = True) -> tuple[SpooledFile, str]:
    """400s: the parts a booth upload cannot do without (an admin's test run
    sends no password)."""
    if form.file is None:
        raise InvalidRequest(f"missing file field {form.file_field!r}")
    if form.password is None and require_password:
        raise InvalidRequest("missing field 'password'")
    if form.file.size == 0:
        raise InvalidRequest("the uploaded file is empty")
    return form.file, form.password or ""


def check_slot(
    slot: SlotConfig | None, slot_id: str, *, allow_inactive: bool = False
) -> SlotConfig:
    """404s. An admin may test an inactive slot before switching it on."""
    if slot is None:
        raise SlotNotFound(f"no slot {slot_id[:40]!r}")
    if not slot.active and not allow_inactive:
        raise SlotDisabled(f"slot {slot.id} is disabled")
    return slot


def check_size(file: SpooledFile, limit_bytes: int) -> None:
    """413 for a file the parser let through under a limit since lowered."""
    if file.size > limit_bytes:
        raise PayloadTooLarge(
            f"file is {file.size / MB:.1f} MB; the limit is {limit_bytes / MB:.1f} MB"
        )


def check_image(file: SpooledFile) -> CheckedUpload:
    """415 unless the bytes are a JPEG, PNG or WebP whose header Pillow can read."""
    header = read_image_header(file.mime, file.contents)
    return CheckedUpload(file=file, mime=header.mime, width=header.width, height=header.height)


def client_hash_matches(file: SpooledFile, client_hash: str) -> bool:
    """The booth's optional checksum: SHA-1 (DSLR Remote Pro) or SHA-256."""
    value = client_hash.strip().lower()
    if not value.isascii():  # not hex; and compare_digest raises on other str
        return False
    if len(value) == 40:
        return hmac.compare_digest(value, file.sha1.hexdigest())
    if len(value) == 64:
        return hmac.compare_digest(value, file.sha256.hexdigest())
    return False
