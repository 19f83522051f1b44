"""The streaming multipart parser and its memory budget: which photos stay in
memory, which go to a temp file, and that every byte reserved is given back."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from photochanger.errors import InvalidRequest
from photochanger.multipart import (
    BUDGETED_MEMORY_BYTES,
    SPOOL_MEMORY_BYTES,
    UploadForm,
    parse_upload_form,
)
from photochanger.photo_memory import ByteBudget
from support import booth_fields, multipart_body, noise_jpeg, tmp_file_count

MB = 1024 * 1024


async def chunks_of(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def parse(photo: bytes, spool: Path, budget: ByteBudget | None) -> UploadForm:
    body, content_type = multipart_body(
        booth_fields(), {"fileToUpload": ("a.jpg", photo, "image/jpeg")}
    )
    return await parse_upload_form(
        chunks_of(body),
        content_type,
        declared_length=len(body),
        file_limit=20 * MB,
        spool_dir=spool,
        budget=budget,
    )


def test_a_budget_reserves_only_what_fits() -> None:
    budget = ByteBudget(100)
    assert budget.take(60)
    assert not budget.take(41)
    assert budget.in_use == 60
    assert budget.take(40)
    budget.release(100)
    assert (budget.in_use, budget.peak) == (0, 100)


async def test_a_photo_that_fits_the_budget_stays_in_memory(tmp_path: Path) -> None:
    photo = noise_jpeg(300 * 1024)
    assert SPOOL_MEMORY_BYTES < len(photo) < BUDGETED_MEMORY_BYTES
    budget = ByteBudget(MB)
    form = await parse(photo, tmp_path, budget)
    assert form.file is not None
    assert (form.file.data, form.file.path) == (photo, None)
    assert form.file.sha256.hexdigest() == hashlib.sha256(photo).hexdigest()
    assert budget.in_use == len(photo)
    assert tmp_file_count(tmp_path) == 0
    form.file.discard()
    form.file.discard()  # twice is harmless and gives nothing back twice
    assert budget.in_use == 0


async def test_a_photo_the_budget_has_no_room_for_goes_to_disk(tmp_path: Path) -> None:
    photo = noise_jpeg(300 * 1024)
    budget = ByteBudget(MB)
    assert budget.take(MB - 100 * 1024)  # other requests hold most of it
    form = await parse(photo, tmp_path, budget)
    assert form.file is not None
    assert form.file.path is not None
    assert form.file.data is None
    assert form.file.path.read_bytes() == photo
    assert budget.in_use == MB - 100 * 1024  # what it held before spilling came back
    form.file.discard()
    assert tmp_file_count(tmp_path) == 0


async def test_a_photo_past_the_in_memory_size_goes_to_disk(tmp_path: Path) -> None:
    photo = noise_jpeg(5 * MB)
    assert len(photo) > BUDGETED_MEMORY_BYTES
    budget = ByteBudget(64 * MB)
    form = await parse(photo, tmp_path, budget)
    assert form.file is not None
    assert form.file.path is not None
    assert form.file.path.read_bytes() == photo
    assert budget.in_use == 0
    form.file.discard()
    assert tmp_file_count(tmp_path) == 0


async def test_without_a_budget_only_small_photos_stay_in_memory(tmp_path: Path) -> None:
    small, large = noise_jpeg(100 * 1024), noise_jpeg(300 * 1024)
    kept = await parse(small, tmp_path, None)
    spooled = await parse(large, tmp_path, None)
    assert kept.file is not None
    assert kept.file.data == small
    assert spooled.file is not None
    assert spooled.file.path is not None
    spooled.file.discard()


async def test_a_broken_body_gives_its_memory_back(tmp_path: Path) -> None:
    photo = noise_jpeg(300 * 1024)
    body, content_type = multipart_body(
        booth_fields(), {"fileToUpload": ("a.jpg", photo, "image/jpeg")}
    )
    budget = ByteBudget(MB)
    with pytest.raises(InvalidRequest):
        await parse_upload_form(
            chunks_of(body[: len(body) // 2]),  # the booth went away mid-photo
            content_type,
            declared_length=len(body),
            file_limit=20 * MB,
            spool_dir=tmp_path,
            budget=budget,
        )
    assert budget.in_use == 0
    assert budget.peak > 0
    assert tmp_file_count(tmp_path) == 0
