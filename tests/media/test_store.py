"""LocalMediaStore: atomic writes that make their directories when missing and
leave no temp file behind when they fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from photochanger.media.store import LocalMediaStore


@pytest.fixture
def store(tmp_path: Path) -> LocalMediaStore:
    store = LocalMediaStore(tmp_path / "media")
    store.prepare()
    return store


def temp_files(store: LocalMediaStore) -> list[Path]:
    return list((store.root / ".tmp").glob("*"))


async def test_put_bytes_makes_the_keys_directories(store: LocalMediaStore) -> None:
    assert await store.put_bytes("results/2026/11/29/a.jpg", b"photo") == 5
    assert await store.put_bytes("results/2026/11/29/b.jpg", b"second") == 6
    assert await store.read("results/2026/11/29/a.jpg") == b"photo"
    assert temp_files(store) == []


async def test_put_survives_its_temp_directory_being_removed(store: LocalMediaStore) -> None:
    shutil.rmtree(store.root / ".tmp")
    assert await store.put_bytes("results/x.jpg", b"photo") == 5
    assert (store.root / "results" / "x.jpg").read_bytes() == b"photo"


async def test_put_file_links_the_spooled_upload(store: LocalMediaStore, tmp_path: Path) -> None:
    source = store.root / ".tmp" / "upload-1"
    source.write_bytes(b"spooled photo")
    assert await store.put_file("results/2026/11/29/c.jpg", source) == 13
    assert (store.root / "results/2026/11/29/c.jpg").stat().st_ino == source.stat().st_ino


async def test_a_missing_source_is_an_error_and_leaves_nothing(
    store: LocalMediaStore, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await store.put_file("results/d.jpg", tmp_path / "gone")
    assert not (store.root / "results" / "d.jpg").exists()
    assert temp_files(store) == []


async def test_a_failed_rename_removes_the_temp_file(store: LocalMediaStore) -> None:
    (store.root / "results" / "e.jpg").mkdir(parents=True)  # a directory where the file goes
    with pytest.raises(IsADirectoryError):
        await store.put_bytes("results/e.jpg", b"photo")
    assert temp_files(store) == []
