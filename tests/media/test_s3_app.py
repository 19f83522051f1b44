"""The real app on the S3 media store (SPEC §5.1, §9): every file an ingest,
a preview, an admin or a provider needs goes to the bucket (moto's S3 server
on loopback, looked at through a plain client), and every public link serves
it from there — streamed through the app, or by a presigned redirect."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from conftest import LiveServer, start_live_server
from fakes.turbotext import FakeTurbotext
from fakes.turbotext_bench import API_KEY, PROMPT
from moto_s3 import S3Bucket, object_bytes, object_names, remove_bucket
from photochanger.config import MB, Settings
from photochanger.ingest.answer import ANSWER_IN_MEMORY_BYTES
from photochanger.models import Job, MediaObject
from photochanger.models.base import utcnow
from support import (
    SessionFactory,
    assert_error,
    booth_fields,
    configure_slot,
    echo,
    make_image,
    noise_jpeg,
    photochanger,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client


@pytest.fixture
def public_results() -> str:
    return "stream"


@pytest.fixture
def config(config: Settings, s3_bucket: S3Bucket, public_results: str) -> Settings:
    values = config.model_dump(exclude={"provider_api_keys", "provider_base_urls"})
    values.update(s3_bucket.settings(s3_public_results=public_results))
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def ingest(
    client: httpx.AsyncClient, factory: SessionFactory, seed: int = 0, slot: str = "slot-001"
) -> httpx.Response:
    await configure_slot(factory, slot, **echo())
    response = await client.post(
        f"/api/ingest/{slot}",
        data=booth_fields(),
        files={"fileToUpload": ("IMG_0001.JPG", make_image(seed=seed), "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    return response


async def job(factory: SessionFactory, job_id: str) -> Job:
    async with factory() as session:
        return (await session.scalars(select(Job).where(Job.id == job_id))).one()


async def expire(factory: SessionFactory, job_id: str) -> None:
    """The job's result and what belongs to it expire now."""
    past = utcnow() - timedelta(minutes=1)
    async with factory() as session, session.begin():
        await session.execute(update(Job).where(Job.id == job_id).values(result_expires_at=past))
        await session.execute(
            update(MediaObject).where(MediaObject.job_id == job_id).values(expires_at=past)
        )


async def test_an_ingest_result_lives_in_the_bucket_and_its_link_streams_it(
    client: httpx.AsyncClient,
    factory: SessionFactory,
    config: Settings,
    s3_bucket: S3Bucket,
    s3_client: S3Client,
) -> None:
    response = await ingest(client, factory)
    job_id = response.headers["x-job-id"]

    done = await job(factory, job_id)
    assert done.result_key is not None
    name = s3_bucket.object_name(done.result_key)
    assert await object_bytes(s3_client, s3_bucket.name, name) == response.content
    assert await object_names(s3_client, s3_bucket.name) == [name]
    assert not (config.resolved_media_root / done.result_key).exists()  # not on the disk

    link = response.headers["x-result-url"].removeprefix("http://booth.test")
    result = await client.get(link)
    assert result.status_code == 200
    assert result.content == response.content
    assert result.headers["content-type"] == "image/jpeg"
    assert (
        result.headers["content-disposition"] == f'attachment; filename="photochanger-{job_id}.jpg"'
    )
    assert result.headers["content-length"] == str(len(response.content))

    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "media_store": "ok"}
    assert await object_names(s3_client, s3_bucket.name) == [name]  # the probe is gone


async def test_a_large_result_is_put_from_its_spool_file_and_streamed_back(
    client: httpx.AsyncClient, factory: SessionFactory, s3_bucket: S3Bucket, s3_client: S3Client
) -> None:
    """Over 4 MiB the answer is not held in memory: the booth gets it streamed
    from the bucket."""
    await configure_slot(factory, "slot-001", **echo())
    photo = noise_jpeg(6 * MB)
    assert len(photo) > ANSWER_IN_MEMORY_BYTES

    response = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("IMG_0002.JPG", photo, "image/jpeg")},
    )

    assert response.status_code == 200, response.text
    assert response.content == photo
    assert response.headers["content-length"] == str(len(photo))
    done = await job(factory, response.headers["x-job-id"])
    assert done.result_key is not None
    name = s3_bucket.object_name(done.result_key)
    assert await object_bytes(s3_client, s3_bucket.name, name) == photo


@pytest.mark.parametrize("public_results", ["redirect"])
async def test_redirect_mode_sends_the_guest_to_a_presigned_url(
    client: httpx.AsyncClient,
    factory: SessionFactory,
    s3_bucket: S3Bucket,
    s3_client: S3Client,
) -> None:
    response = await ingest(client, factory)
    job_id = response.headers["x-job-id"]
    link = f"/public/results/{job_id}"

    redirect = await client.get(link)

    assert redirect.status_code == 307
    assert redirect.headers["cache-control"] == "no-store"
    location = redirect.headers["location"]
    assert location.startswith(f"{s3_bucket.endpoint}/{s3_bucket.name}/{s3_bucket.prefix}/results/")
    async with httpx.AsyncClient(trust_env=False) as guest:
        download = await guest.get(location)
    assert download.status_code == 200
    assert download.content == response.content
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["content-disposition"] == (
        f'attachment; filename="photochanger-{job_id}.jpg"'
    )

    # The rules of the link still hold in the app: expired is 410, and the object goes.
    await expire(factory, job_id)
    assert_error(await client.get(link), 410, "result_expired")
    done = await job(factory, job_id)
    assert done.result_key is not None
    assert (
        await object_bytes(s3_client, s3_bucket.name, s3_bucket.object_name(done.result_key))
        is None
    )


async def expire_in(factory: SessionFactory, job_id: str, delta: timedelta) -> None:
    async with factory() as session, session.begin():
        await session.execute(
            update(Job).where(Job.id == job_id).values(result_expires_at=utcnow() + delta)
        )


@pytest.mark.parametrize("public_results", ["redirect"])
async def test_a_presigned_url_never_outlives_the_result(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    job_id = (await ingest(client, factory)).headers["x-job-id"]
    link = f"/public/results/{job_id}"
    assert config.s3_presign_seconds > 30

    # Far from its expiry the URL lives the configured time...
    far = await client.get(link)
    assert far.status_code == 307
    expires = parse_qs(urlsplit(far.headers["location"]).query)["X-Amz-Expires"]
    assert expires == [str(config.s3_presign_seconds)]

    # ... and 30 s before it, 30 s at most: the link dies with the result.
    await expire_in(factory, job_id, timedelta(seconds=30))
    near = await client.get(link)
    assert near.status_code == 307
    (seconds,) = parse_qs(urlsplit(near.headers["location"]).query)["X-Amz-Expires"]
    assert 1 <= int(seconds) <= 30

    # Less than a second left is no link at all.
    await expire_in(factory, job_id, timedelta(milliseconds=300))
    assert_error(await client.get(link), 410, "result_expired")


async def test_the_preview_is_made_from_the_bucket_and_kept_there(
    client: httpx.AsyncClient,
    factory: SessionFactory,
    s3_bucket: S3Bucket,
    s3_client: S3Client,
) -> None:
    job_id = (await ingest(client, factory)).headers["x-job-id"]

    preview = await client.get(f"/public/results/{job_id}/preview.webp")

    assert preview.status_code == 200
    assert preview.headers["content-type"] == "image/webp"
    assert preview.content[:4] == b"RIFF"
    assert preview.content[8:12] == b"WEBP"
    done = await job(factory, job_id)
    assert done.preview_key is not None
    stored = await object_bytes(s3_client, s3_bucket.name, s3_bucket.object_name(done.preview_key))
    assert stored == preview.content
    again = await client.get(f"/public/results/{job_id}/preview.webp")
    assert again.content == preview.content


async def test_the_gallery_zip_streams_from_the_bucket(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    factory: SessionFactory,
    s3_bucket: S3Bucket,
    s3_client: S3Client,
) -> None:
    answers = {}
    for seed in range(3):
        response = await ingest(client, factory, seed=seed)
        answers[response.headers["x-job-id"]] = response.content
    gone = next(iter(answers))
    gone_key = (await job(factory, gone)).result_key
    assert gone_key is not None
    await s3_client.delete_object(Bucket=s3_bucket.name, Key=s3_bucket.object_name(gone_key))
    assert (await admin_client.post("/api/gallery/share")).status_code == 200

    response = await client.get("/pub/gallery.zip")

    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert len(names) == 2  # the one gone from the bucket is left out
        for job_id, data in answers.items():
            found = [name for name in names if job_id in name]
            if job_id == gone:
                assert found == []
            else:
                (name,) = found
                assert archive.read(name) == data


async def test_template_media_is_uploaded_to_served_from_and_deleted_in_the_bucket(
    admin_client: httpx.AsyncClient,
    factory: SessionFactory,
    s3_bucket: S3Bucket,
    s3_client: S3Client,
) -> None:
    image = make_image("PNG", (96, 64), seed=5)
    uploaded = await admin_client.post(
        "/api/template-media",
        data={"role": "background", "slot_id": "slot-001"},
        files={"file": ("beach.png", image, "image/png")},
    )
    assert uploaded.status_code == 201, uploaded.text
    template_id = uploaded.json()["id"]
    async with factory() as session:
        query = select(MediaObject.key).where(MediaObject.kind == "template")
        key = (await session.execute(query)).scalar_one()
    name = s3_bucket.object_name(key)
    assert name.startswith(f"{s3_bucket.prefix}/templates/slot-001/")
    assert await object_bytes(s3_client, s3_bucket.name, name) == image

    served = await admin_client.get(f"/api/template-media/{template_id}/file")
    assert (served.status_code, served.content) == (200, image)

    assert (await admin_client.delete(f"/api/template-media/{template_id}")).status_code == 204
    assert await object_bytes(s3_client, s3_bucket.name, name) is None


async def test_cleanup_deletes_expired_objects_and_a_missing_one_is_no_error(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    factory: SessionFactory,
    s3_bucket: S3Bucket,
    s3_client: S3Client,
) -> None:
    expired = [(await ingest(client, factory, seed=seed)).headers["x-job-id"] for seed in (1, 2)]
    live = (await ingest(client, factory, seed=3)).headers["x-job-id"]
    sizes = []
    for job_id in expired:
        done = await job(factory, job_id)
        sizes.append(done.result_size)
        await expire(factory, job_id)
    missing_key = (await job(factory, expired[0])).result_key
    assert missing_key is not None
    await s3_client.delete_object(Bucket=s3_bucket.name, Key=s3_bucket.object_name(missing_key))
    requests: list[tuple[str, int]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        requests.append((model.name, len(params.get("Delete", {}).get("Objects", [None]))))

    # botocore's own event hooks on the app's client: requests observed, not replaced.
    events = app.state.services.store.client.meta.events
    events.register("provide-client-params.s3.DeleteObjects", record)
    events.register("provide-client-params.s3.DeleteObject", record)

    summary = await admin_client.post("/api/cleanup")

    assert summary.status_code == 200, summary.text
    assert requests == [("DeleteObjects", 2)]  # one batch, no delete per key
    body = summary.json()
    # S3 answers a key already gone like one deleted: both count as removed.
    assert body["removed"]["result"] == {"count": 2, "bytes": sum(sizes)}
    assert (body["failed"], body["missing_files"]) == (0, 0)
    live_key = (await job(factory, live)).result_key
    assert live_key is not None
    assert await object_names(s3_client, s3_bucket.name) == [s3_bucket.object_name(live_key)]
    async with factory() as session:
        rows = (await session.execute(select(MediaObject.job_id, MediaObject.cleaned_at))).all()
    assert {job_id for job_id, cleaned in rows if cleaned is not None} == set(expired)
    again = (await admin_client.post("/api/cleanup")).json()
    assert again["removed"]["result"] == {"count": 0, "bytes": 0}


async def test_the_cleanup_command_cleans_the_bucket(
    client: httpx.AsyncClient,
    factory: SessionFactory,
    config: Settings,
    s3_bucket: S3Bucket,
    s3_client: S3Client,
) -> None:
    job_id = (await ingest(client, factory)).headers["x-job-id"]
    await expire(factory, job_id)
    env = {
        "PHOTOCHANGER_DATA_DIR": str(config.data_dir),
        "PHOTOCHANGER_DATABASE_URL": config.resolved_database_url,
        **s3_bucket.environment(),
    }

    done = await asyncio.to_thread(photochanger, "cleanup", env=env)

    assert done.returncode == 0, done.stderr
    size = (await job(factory, job_id)).result_size
    assert f"result: 1 removed, {size} bytes" in done.stdout
    assert await object_names(s3_client, s3_bucket.name) == []


async def test_not_ready_when_the_bucket_is_gone(
    client: httpx.AsyncClient, s3_bucket: S3Bucket, s3_client: S3Client
) -> None:
    assert (await client.get("/readyz")).status_code == 200
    await remove_bucket(s3_client, s3_bucket.name)

    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "media_store": "unwritable"}


# Turbotext fetches its inputs by URL: a real server, its provider media in the bucket.

TURBOTEXT_SLOT = "slot-004"
PHOTO = make_image("JPEG", (320, 240), seed=31)


@pytest.fixture
def server(
    config: Settings, app: FastAPI, fake: FakeTurbotext, s3_bucket: S3Bucket
) -> Iterator[LiveServer]:
    live = start_live_server(
        config,
        extra_env={
            **s3_bucket.environment(),
            "PHOTOCHANGER_TURBOTEXT_BASE_URL": fake.base_url,
            "PHOTOCHANGER_TURBOTEXT_API_KEY": API_KEY,
        },
    )
    yield live
    live.stop()


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=60) as client:
        yield client


async def test_turbotext_fetches_its_input_from_the_bucket_through_the_app(
    http: httpx.AsyncClient,
    server: LiveServer,
    factory: SessionFactory,
    fake: FakeTurbotext,
    s3_bucket: S3Bucket,
    s3_client: S3Client,
) -> None:
    await configure_slot(
        factory,
        TURBOTEXT_SLOT,
        provider="turbotext",
        operation="generate_image2image",
        settings={"prompt": PROMPT},
        fallback=None,
    )

    response = await http.post(
        f"/api/ingest/{TURBOTEXT_SLOT}",
        data=booth_fields(),
        files={"fileToUpload": ("IMG_0001.JPG", PHOTO, "image/jpeg")},
    )

    assert response.status_code == 200, response.text
    (create,) = fake.calls("create_queue")
    url = create.fields["url"]
    assert url.startswith(f"{server.base_url}/public/provider-media/")
    (fetch,) = fake.fetches
    assert (fetch.url, fetch.status, fetch.content) == (url, 200, PHOTO)
    async with factory() as session:
        query = select(MediaObject).where(MediaObject.kind == "provider_media")
        (published,) = (await session.scalars(query)).all()
    assert published.id == url.rsplit("/", 1)[1]
    assert published.cleaned_at is not None  # discarded when the job ended
    assert published.key.startswith("provider-media/")
    assert (
        await object_bytes(s3_client, s3_bucket.name, s3_bucket.object_name(published.key)) is None
    )
    assert_error(await http.get(url), 410, "media_expired")

    job_id = response.headers["x-job-id"]
    result = await http.get(response.headers["x-result-url"])
    assert (result.status_code, result.content) == (200, response.content)
    done = await job(factory, job_id)
    assert done.result_key is not None
    assert await object_names(s3_client, s3_bucket.name) == [s3_bucket.object_name(done.result_key)]


async def test_an_expired_result_whose_object_cannot_be_deleted_is_left_for_cleanup(
    client: httpx.AsyncClient,
    factory: SessionFactory,
    s3_bucket: S3Bucket,
    s3_client: S3Client,
) -> None:
    """The link of an expired result deletes its object first and marks the
    row after: a bucket that refuses leaves the row for cleanup to retry,
    never an object that no live row names."""
    job_id = (await ingest(client, factory)).headers["x-job-id"]
    await expire(factory, job_id)
    await remove_bucket(s3_client, s3_bucket.name)  # every S3 call now fails

    assert_error(await client.get(f"/public/results/{job_id}"), 410, "result_expired")

    async with factory() as session:
        media = await session.scalars(select(MediaObject).where(MediaObject.job_id == job_id))
        assert [row.cleaned_at for row in media if row.kind == "result"] == [None]
