"""The shared gallery as one ZIP (SPEC §10 "Gallery ZIP")."""

from __future__ import annotations

import io
import zipfile

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.models import Job
from support import SessionFactory, assert_error, booth_fields, configure_slot, echo, make_image


async def test_the_zip_holds_every_photo_of_the_open_gallery(
    admin_client: httpx.AsyncClient,
    client: httpx.AsyncClient,
    factory: SessionFactory,
    app: FastAPI,
) -> None:
    assert_error(await client.get("/pub/gallery.zip"), 403, "gallery_closed")
    await configure_slot(factory, "slot-001", **echo())
    await configure_slot(factory, "slot-002", **echo())
    answers = {}
    for seed, slot in enumerate(("slot-001", "slot-001", "slot-002")):
        photo = make_image("JPEG", (320, 240), seed=300 + seed)
        response = await client.post(
            f"/api/ingest/{slot}",
            data=booth_fields(),
            files={"fileToUpload": ("a.jpg", photo, "image/jpeg")},
        )
        assert response.status_code == 200
        answers[response.headers["x-job-id"]] = (slot, response.content)
    gone = next(iter(answers))  # its file vanished: left out, not a broken download
    store = app.state.services.store
    async with factory() as session:
        key = (await session.execute(select(Job.result_key).where(Job.id == gone))).scalar_one()
    await store.delete(key)
    assert (await admin_client.post("/api/gallery/share")).status_code == 200

    response = await client.get("/pub/gallery.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert len(names) == 2
        for job_id, (slot, data) in answers.items():
            found = [name for name in names if job_id in name]
            if job_id == gone:
                assert found == []
                continue
            (name,) = found
            assert name.startswith(f"{slot}/")
            assert name.endswith(".jpg")
            assert archive.read(name) == data
