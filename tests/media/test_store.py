"""The media store contract, run against both stores: the local directory and
an S3 bucket (moto's S3 server on loopback, through the real aiobotocore
client). Then what only one of them does: the local store's atomic rename and
hard links, the S3 store's prefix, batches and presigned URLs."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import ValidationError

from moto_s3 import S3Bucket, object_bytes, object_names
from photochanger.config import Settings
from photochanger.errors import ResultExpired
from photochanger.media.s3_store import (
    DELETE_BATCH_KEYS,
    S3MediaStore,
    S3Unavailable,
    open_s3_store,
)
from photochanger.media.store import READ_CHUNK_BYTES, InvalidKey, LocalMediaStore, MediaStore
from photochanger.models.base import utcnow
from support import free_port

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

INVALID_KEYS = ["", "/etc/passwd", "../outside.jpg", "results/../../outside.jpg", ".."]


def s3_config(tmp_path: Path, bucket: S3Bucket, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        **bucket.settings(**overrides),
    )


@pytest.fixture
def local_store(tmp_path: Path) -> LocalMediaStore:
    store = LocalMediaStore(tmp_path / "media")
    store.prepare()
    return store


@pytest.fixture(params=["local", "s3"])
async def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    local_store: LocalMediaStore,
    s3_bucket: S3Bucket,  # made for both: an async fixture cannot be asked for by name
) -> AsyncIterator[MediaStore]:
    if request.param == "local":
        yield local_store
        return
    async with open_s3_store(s3_config(tmp_path, s3_bucket)) as s3_store:
        yield s3_store


async def stored_names(store: MediaStore, request: pytest.FixtureRequest) -> list[str]:
    """Every file the store holds, by key, looked at beside the store."""
    if isinstance(store, LocalMediaStore):
        return sorted(
            path.relative_to(store.root).as_posix()
            for path in store.root.rglob("*")
            if path.is_file()
        )
    bucket: S3Bucket = request.getfixturevalue("s3_bucket")
    client: S3Client = request.getfixturevalue("s3_client")
    names = await object_names(client, bucket.name)
    assert all(name.startswith(bucket.prefix + "/") for name in names), names
    return [name.removeprefix(bucket.prefix + "/") for name in names]


# The contract, on both stores.


async def test_put_read_stream_and_exists(store: MediaStore) -> None:
    photo = bytes(range(256)) * (READ_CHUNK_BYTES // 256 * 2 + 7)  # three chunks
    assert await store.put_bytes("results/2026/11/29/a.jpg", photo) == len(photo)
    assert await store.put_bytes("results/2026/11/29/b.jpg", b"second") == 6

    assert await store.read("results/2026/11/29/a.jpg") == photo
    chunks = [chunk async for chunk in store.stream("results/2026/11/29/a.jpg")]
    assert b"".join(chunks) == photo
    assert len(chunks) >= 2
    assert all(len(chunk) <= READ_CHUNK_BYTES for chunk in chunks)
    assert await store.exists("results/2026/11/29/b.jpg")
    assert not await store.exists("results/2026/11/29/c.jpg")


async def test_a_put_replaces_the_whole_file(store: MediaStore) -> None:
    await store.put_bytes("previews/x.webp", b"a much longer first version")
    await store.put_bytes("previews/x.webp", b"short")
    assert await store.read("previews/x.webp") == b"short"


async def test_put_file_stores_the_spooled_upload(store: MediaStore, tmp_path: Path) -> None:
    source = tmp_path / "upload-1"
    source.write_bytes(b"spooled photo")
    assert await store.put_file("templates/slot-001/t.png", source) == 13
    assert await store.read("templates/slot-001/t.png") == b"spooled photo"


async def test_a_missing_source_is_an_error_and_stores_nothing(
    store: MediaStore, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(FileNotFoundError):
        await store.put_file("results/d.jpg", tmp_path / "gone")
    assert not await store.exists("results/d.jpg")
    assert await stored_names(store, request) == []


async def test_a_missing_file_is_file_not_found(store: MediaStore) -> None:
    with pytest.raises(FileNotFoundError):
        await store.read("results/none.jpg")
    chunks = store.stream("results/none.jpg")
    with pytest.raises(FileNotFoundError):
        await anext(chunks)


async def test_delete_removes_and_a_missing_file_is_no_error(store: MediaStore) -> None:
    await store.put_bytes("results/e.jpg", b"photo")
    assert await store.delete("results/e.jpg") is True
    assert not await store.exists("results/e.jpg")
    # Local knows it was gone; S3 cannot tell (a delete answers the same).
    assert await store.delete("results/e.jpg") is isinstance(store, S3MediaStore)


async def test_delete_many_reports_each_key(
    store: MediaStore, request: pytest.FixtureRequest
) -> None:
    kept = "templates/slot-001/keep.png"
    for key in ("results/1.jpg", "previews/1.webp", kept):
        await store.put_bytes(key, b"x")

    outcomes = await store.delete_many(
        ["results/1.jpg", "previews/1.webp", "results/never.jpg", "../escape.jpg"]
    )

    already_gone = "deleted" if isinstance(store, S3MediaStore) else "missing"
    assert outcomes == {
        "results/1.jpg": "deleted",
        "previews/1.webp": "deleted",
        "results/never.jpg": already_gone,
        "../escape.jpg": "missing",  # no file can be there
    }
    assert await stored_names(store, request) == [kept]
    assert await store.delete_many([]) == {}


@pytest.mark.parametrize("key", INVALID_KEYS)
async def test_a_key_that_could_leave_the_store_is_refused(store: MediaStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        await store.put_bytes(key, b"x")
    with pytest.raises(InvalidKey):
        await store.read(key)
    with pytest.raises(InvalidKey):
        await store.exists(key)
    with pytest.raises(InvalidKey):
        await store.delete(key)
    with pytest.raises(InvalidKey):
        await anext(store.stream(key))


async def test_check_writable_leaves_nothing_behind(
    store: MediaStore, request: pytest.FixtureRequest
) -> None:
    await store.check_writable()
    assert await stored_names(store, request) == []


async def test_a_cancelled_check_leaves_only_the_one_probe_behind(
    store: MediaStore, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A readiness check cancelled between its write and its delete (the
    client gave up, the check timed out) leaves the probe; the next ones
    overwrite that same file instead of adding one each."""
    deleting = asyncio.Event()

    async def hang(key: str) -> bool:
        deleting.set()
        await asyncio.Event().wait()
        raise AssertionError("never")

    monkeypatch.setattr(store, "delete", hang)
    for _ in range(3):
        deleting.clear()
        check = asyncio.create_task(store.check_writable())
        async with asyncio.timeout(30):
            await deleting.wait()
        check.cancel()
        with pytest.raises(asyncio.CancelledError):
            await check
    probe = ".tmp/ready-probe" if isinstance(store, LocalMediaStore) else ".ready/probe"
    assert await stored_names(store, request) == [probe]

    monkeypatch.undo()
    await store.check_writable()
    assert await stored_names(store, request) == []


async def test_only_the_local_store_has_paths_and_neither_redirects_by_default(
    store: MediaStore,
) -> None:
    await store.put_bytes("results/f.jpg", b"photo")
    path = store.local_path("results/f.jpg")
    if isinstance(store, LocalMediaStore):
        assert path is not None
        assert path.read_bytes() == b"photo"
    else:
        assert path is None
    assert await store.download_url("results/f.jpg", filename="f.jpg", mime="image/jpeg") is None


# The local store.


def temp_files(store: LocalMediaStore) -> list[Path]:
    return list((store.root / ".tmp").glob("*"))


async def test_local_put_makes_the_keys_directories(local_store: LocalMediaStore) -> None:
    assert await local_store.put_bytes("results/2026/11/29/a.jpg", b"photo") == 5
    assert (local_store.root / "results/2026/11/29/a.jpg").read_bytes() == b"photo"
    assert temp_files(local_store) == []


async def test_local_put_survives_its_temp_directory_being_removed(
    local_store: LocalMediaStore,
) -> None:
    shutil.rmtree(local_store.root / ".tmp")
    assert await local_store.put_bytes("results/x.jpg", b"photo") == 5
    assert (local_store.root / "results" / "x.jpg").read_bytes() == b"photo"


async def test_local_put_file_links_the_spooled_upload(local_store: LocalMediaStore) -> None:
    source = local_store.root / ".tmp" / "upload-1"
    source.write_bytes(b"spooled photo")
    assert await local_store.put_file("results/2026/11/29/c.jpg", source) == 13
    assert (local_store.root / "results/2026/11/29/c.jpg").stat().st_ino == source.stat().st_ino


async def test_local_failed_rename_removes_the_temp_file(local_store: LocalMediaStore) -> None:
    (local_store.root / "results" / "e.jpg").mkdir(parents=True)  # a directory where the file goes
    with pytest.raises(IsADirectoryError):
        await local_store.put_bytes("results/e.jpg", b"photo")
    assert temp_files(local_store) == []


async def test_local_delete_many_reports_a_file_it_cannot_delete(
    local_store: LocalMediaStore,
) -> None:
    (local_store.root / "results" / "dir.jpg").mkdir(parents=True)  # unlink() refuses it
    assert await local_store.delete_many(["results/dir.jpg"]) == {"results/dir.jpg": "failed"}


# The S3 store.


@pytest.fixture
async def s3_store(tmp_path: Path, s3_bucket: S3Bucket) -> AsyncIterator[S3MediaStore]:
    async with open_s3_store(s3_config(tmp_path, s3_bucket)) as store:
        yield store


async def test_s3_objects_live_under_the_prefix_with_their_type(
    s3_store: S3MediaStore, s3_bucket: S3Bucket, s3_client: S3Client
) -> None:
    await s3_store.put_bytes("results/2026/11/29/a.jpg", b"jpeg")
    await s3_store.put_bytes("previews/2026/11/29/a.webp", b"webp")
    await s3_store.put_bytes("results/a//b/./c.png", b"png")  # a path's spelling, as on disk

    assert await object_names(s3_client, s3_bucket.name) == [
        "studio/prod/previews/2026/11/29/a.webp",
        "studio/prod/results/2026/11/29/a.jpg",
        "studio/prod/results/a/b/c.png",
    ]
    head = await s3_client.head_object(
        Bucket=s3_bucket.name, Key="studio/prod/results/2026/11/29/a.jpg"
    )
    assert (head["ContentType"], head["ContentLength"]) == ("image/jpeg", 4)
    assert await s3_store.read("results/a/b/c.png") == b"png"


async def test_s3_store_without_a_prefix_uses_the_bucket_root(
    tmp_path: Path, s3_bucket: S3Bucket, s3_client: S3Client
) -> None:
    async with open_s3_store(s3_config(tmp_path, s3_bucket, s3_prefix="/")) as store:
        await store.put_bytes("results/a.jpg", b"x")
    assert await object_names(s3_client, s3_bucket.name) == ["results/a.jpg"]


@pytest.mark.parametrize("prefix", ["a/../b", "..", "a//b", "./a"])
def test_a_prefix_must_be_plain_segments(tmp_path: Path, s3_bucket: S3Bucket, prefix: str) -> None:
    with pytest.raises(ValidationError, match="S3 prefix"):
        s3_config(tmp_path, s3_bucket, s3_prefix=prefix)


def test_the_s3_store_needs_a_bucket_and_both_halves_of_a_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="PHOTOCHANGER_S3_BUCKET"):
        Settings(_env_file=None, data_dir=tmp_path, media_store="s3")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="both"):
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path,
            media_store="s3",
            s3_bucket="b",
            s3_access_key_id="only-the-id",
        )


async def test_s3_delete_many_sends_at_most_1000_keys_a_request(
    s3_store: S3MediaStore, s3_bucket: S3Bucket, s3_client: S3Client
) -> None:
    requests: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        requests.append(len(params["Delete"]["Objects"]))

    # botocore's own event hook: the request is observed, not replaced.
    s3_store.client.meta.events.register("provide-client-params.s3.DeleteObjects", count)
    stored = [f"results/2026/11/29/{n}.jpg" for n in (0, 500, 1000, 1001)]
    for key in stored:
        await s3_store.put_bytes(key, b"x")
    keys = [f"results/2026/11/29/{n}.jpg" for n in range(DELETE_BATCH_KEYS + 2)]

    outcomes = await s3_store.delete_many(keys)

    assert requests == [DELETE_BATCH_KEYS, 2]
    assert set(outcomes) == set(keys)
    assert set(outcomes.values()) == {"deleted"}
    assert await object_names(s3_client, s3_bucket.name) == []


async def test_a_missing_bucket_is_unavailable_not_a_missing_file(
    tmp_path: Path, s3_bucket: S3Bucket
) -> None:
    gone = S3Bucket(s3_bucket.endpoint, s3_bucket.name + "-never-made")
    async with open_s3_store(s3_config(tmp_path, gone)) as store:
        with pytest.raises(S3Unavailable, match="NoSuchBucket"):
            await store.read("results/a.jpg")
        with pytest.raises(S3Unavailable, match="NoSuchBucket"):
            await store.check_writable()
        outcomes = await store.delete_many(["results/a.jpg", "results/b.jpg"])
        assert outcomes == {"results/a.jpg": "failed", "results/b.jpg": "failed"}


async def test_an_unreachable_endpoint_is_an_os_error(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    nowhere = S3Bucket(f"http://127.0.0.1:{free_port()}", s3_bucket.name)  # nothing listens
    async with open_s3_store(s3_config(tmp_path, nowhere)) as store:
        with pytest.raises(S3Unavailable, match="unreachable"):
            await store.put_bytes("results/a.jpg", b"x")
        with pytest.raises(S3Unavailable, match="unreachable"):
            await store.exists("results/a.jpg")


async def test_a_stream_given_up_early_frees_its_connection(
    tmp_path: Path, s3_bucket: S3Bucket
) -> None:
    """With one connection in the pool, a download the client abandons must not
    keep it: the next request needs it."""
    async with open_s3_store(s3_config(tmp_path, s3_bucket, s3_max_connections=1)) as store:
        await store.put_bytes("results/big.jpg", b"x" * (READ_CHUNK_BYTES * 4))
        chunks = store.stream("results/big.jpg")
        assert len(await anext(chunks)) > 0
        await chunks.aclose()  # type: ignore[attr-defined]  # an async generator
        async with asyncio.timeout(30):  # a leaked connection would wait forever
            assert await store.read("results/big.jpg") == b"x" * (READ_CHUNK_BYTES * 4)


async def test_s3_path_style_off_still_reaches_a_loopback_endpoint(
    tmp_path: Path, s3_bucket: S3Bucket, s3_client: S3Client
) -> None:
    """`auto` addressing: an IP endpoint cannot carry the bucket in its host name."""
    async with open_s3_store(s3_config(tmp_path, s3_bucket, s3_path_style=False)) as store:
        await store.put_bytes("results/a.jpg", b"x")
    found = await object_bytes(s3_client, s3_bucket.name, s3_bucket.object_name("results/a.jpg"))
    assert found == b"x"


async def test_redirect_mode_presigns_an_attachment_at_the_public_endpoint(
    tmp_path: Path, s3_bucket: S3Bucket
) -> None:
    port = s3_bucket.endpoint.rsplit(":", 1)[1]
    public = f"http://localhost:{port}"  # the same server under the name guests use
    config = s3_config(
        tmp_path, s3_bucket, s3_public_results="redirect", s3_public_endpoint_url=public
    )
    async with open_s3_store(config) as store:
        await store.put_bytes("results/a.png", b"png bytes")
        url = await store.download_url("results/a.png", filename="photo-a.png", mime="image/png")
    assert url is not None
    assert url.startswith(f"{public}/{s3_bucket.name}/studio/prod/results/a.png?")
    assert "X-Amz-Expires=300" in url
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.content == b"png bytes"
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == 'attachment; filename="photo-a.png"'


async def test_a_presigned_url_ends_with_the_result(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    config = s3_config(tmp_path, s3_bucket, s3_public_results="redirect")
    async with open_s3_store(config) as store:
        await store.put_bytes("results/a.png", b"png bytes")

        async def lifetime(left: timedelta) -> int:
            url = await store.download_url(
                "results/a.png", filename="a.png", mime="image/png", expires_at=utcnow() + left
            )
            assert url is not None
            (seconds,) = parse_qs(urlsplit(url).query)["X-Amz-Expires"]
            return int(seconds)

        assert await lifetime(timedelta(days=1)) == 300
        assert 1 <= await lifetime(timedelta(seconds=30)) <= 30
        with pytest.raises(ResultExpired):
            await lifetime(timedelta(milliseconds=200))
        with pytest.raises(ResultExpired):
            await lifetime(timedelta(minutes=-1))
