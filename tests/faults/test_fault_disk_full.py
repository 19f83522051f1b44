"""SPEC §3.2, §5.1: a full disk is a 503 `provider_unavailable`, with no
half-written file left behind and no job left `pending`.

The media root (where results are put) or the spool directory (where uploads
stream to) is a tmpfs too small for the photo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from faults.faulty import files_under, only_job, post
from faults.small_disk import small_disk
from photochanger.config import Settings
from photochanger.models import Job, MediaObject
from support import SessionFactory, assert_error, configure_slot, echo, make_image, noise_jpeg

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DISK_KB = 64
SMALL_PHOTO = make_image("JPEG", (800, 600), seed=9)
"""Kept in memory, then written into the store."""
LARGE_PHOTO = noise_jpeg(5 * 1024 * 1024)
"""Spooled to disk, then copied into the store (another filesystem: no link)."""


@pytest.fixture
def full_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Which directory (`media` or `spool`) is the small disk, and its path."""
    which: str = request.param
    with small_disk(tmp_path / f"small-{which}", size_kb=DISK_KB) as directory:
        yield which, directory


@pytest.fixture
def config(config: Settings, full_disk: tuple[str, Path]) -> Settings:
    which, directory = full_disk
    setting = {"media": "media_root", "spool": "spool_dir"}[which]
    return config.model_copy(update={setting: directory})


@pytest.mark.parametrize("full_disk", ["media"], indirect=True)
@pytest.mark.parametrize("photo", [SMALL_PHOTO, LARGE_PHOTO], ids=["in_memory", "spooled"])
async def test_a_full_media_disk_fails_the_job_and_leaves_no_partial_file(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings, photo: bytes
) -> None:
    assert len(photo) > DISK_KB * 1024
    await configure_slot(factory, "slot-001", **echo())
    body = assert_error(await post(client, photo), 503, "provider_unavailable")
    assert "media store" in str(body["details"])
    job = await only_job(factory)
    assert (job.status, job.failure_reason) == ("failed", "provider_unavailable")
    assert job.result_key is None
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(MediaObject)) == 0
    assert files_under(config.resolved_media_root) == []
    assert files_under(config.resolved_spool_dir) == []


@pytest.mark.parametrize("full_disk", ["spool"], indirect=True)
async def test_a_full_spool_disk_is_503_with_no_temp_file_and_no_job(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    body = assert_error(await post(client, LARGE_PHOTO), 503, "provider_unavailable")
    assert "Traceback" not in str(body)
    assert files_under(config.resolved_spool_dir) == []
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 0
