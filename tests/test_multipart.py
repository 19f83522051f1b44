"""The streaming multipart parser and its memory budget: which photos stay in
memory, which go to a temp file, and that every byte reserved is given back."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from photochanger.errors import InvalidRequest, PayloadTooLarge
from photochanger.multipart import (
    BUDGETED_MEMORY_BYTES,
    MAX_PARTS,
    MAX_TEXT_FIELDS,
    SPOOL_MEMORY_BYTES,
    UploadForm,
    declared_length,
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


async def counted_chunks(body: bytes, pulled: list[int]) -> AsyncIterator[bytes]:
    async for chunk in chunks_of(body):
        pulled.append(len(chunk))
        yield chunk


async def test_a_body_of_too_many_parts_is_refused_as_soon_as_it_has_them(
    tmp_path: Path,
) -> None:
    """20 MB of empty parts kept a core busy for 8 s: the parser now stops at
    part 1001, a few kilobytes in (tests/hostile)."""
    part = b"--bnd\r\n\r\n\r\n"
    body = part * (20 * MB // len(part)) + b"--bnd--\r\n"
    pulled: list[int] = []
    with pytest.raises(InvalidRequest, match=rf"more than {MAX_PARTS} parts"):
        await parse_upload_form(
            counted_chunks(body, pulled),
            "multipart/form-data; boundary=bnd",
            declared_length=None,
            file_limit=20 * MB,
            spool_dir=tmp_path,
        )
    assert sum(pulled) <= 64 * 1024


async def test_a_form_of_max_parts_is_read(tmp_path: Path) -> None:
    fields = {f"field{n}": "v" for n in range(MAX_PARTS - 1)}
    body, content_type = multipart_body(fields, {"fileToUpload": ("a.jpg", b"\xff", "x")})
    form = await parse_upload_form(
        chunks_of(body),
        content_type,
        declared_length=len(body),
        file_limit=MB,
        spool_dir=tmp_path,
    )
    assert form.file is not None
    assert len(form.metadata) == MAX_TEXT_FIELDS


async def test_a_second_photo_part_is_refused_and_the_first_removed(tmp_path: Path) -> None:
    """Which photo the booth meant would be a guess (tests/hostile: the first
    of two was run)."""
    photo = noise_jpeg(300 * 1024)  # past 256 KiB: the first goes to a temp file
    part = (
        b'--bnd\r\nContent-Disposition: form-data; name="fileToUpload"; filename="a.jpg"'
        b"\r\n\r\n" + photo + b"\r\n"
    )
    body = part + part + b"--bnd--\r\n"
    content_type = "multipart/form-data; boundary=bnd"
    with pytest.raises(InvalidRequest, match="more than one 'fileToUpload' part"):
        await parse_upload_form(
            chunks_of(body),
            content_type,
            declared_length=len(body),
            file_limit=20 * MB,
            spool_dir=tmp_path,
        )
    assert tmp_file_count(tmp_path) == 0


@pytest.mark.parametrize("value", ["-1", "+5", " 12", "1_000", "١٢", "12abc", "", "9" * 5000])
def test_a_content_length_is_ascii_digits_only(value: str) -> None:
    with pytest.raises(InvalidRequest):
        declared_length(value)


def test_a_content_length_of_10e12_is_a_number_over_the_cap() -> None:
    assert declared_length(str(10**12)) == 10**12
    assert declared_length(None) is None


async def test_text_past_the_body_limit_is_not_blamed_on_the_photo(tmp_path: Path) -> None:
    body, content_type = multipart_body({"profile": "v" * (2 * MB)}, {})
    with pytest.raises(PayloadTooLarge, match=r"the request is more than 1\.2 MB") as refused:
        await parse_upload_form(
            chunks_of(body),
            content_type,
            declared_length=None,
            file_limit=MB,
            spool_dir=tmp_path,
        )
    assert "256 KiB for the other fields" in refused.value.details


async def test_nul_characters_are_not_kept(tmp_path: Path) -> None:
    """PostgreSQL stores no NUL in text or JSON: a booth field with one failed
    the whole job there (tests/hostile). Kept fields have U+FFFD instead."""
    body, content_type = multipart_body(
        {"pass\0word": "x", "profile": "wed\0ding", "hash": "ab\0cd"},
        {"fileToUpload": ("IMG\0.jpg", b"\xff\xd8\xff", "image/jpeg")},
    )
    form = await parse_upload_form(
        chunks_of(body),
        content_type,
        declared_length=len(body),
        file_limit=MB,
        spool_dir=tmp_path,
    )
    assert form.metadata == {"pass\ufffdword": "x", "profile": "wed\ufffdding"}
    assert (form.client_hash, form.file_name) == ("ab\ufffdcd", "IMG\ufffd.jpg")
