"""The Turbotext test bench, registered as a pytest plugin in tests/conftest.py:
the fake Turbotext (one server per module, reset by each test), the real app
served by uvicorn on the test's loop so the fake can fetch our provider-media
URLs over HTTP, and a job context with a real publisher around the driver."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI

from fakes.turbotext import FakeTurbotext, running_fake
from photochanger.deadline import Deadline
from photochanger.media.provider_media import ProviderMediaPublisher
from photochanger.providers.base import (
    InputImage,
    JobContext,
    OperationSettings,
    ProviderResult,
    TemplateImage,
)
from photochanger.providers.turbotext import TurbotextDriver
from photochanger.providers.turbotext_operations import (
    DeepfakePhotoSettings,
    GenerateImage2ImageSettings,
    MixImagesSettings,
)
from support import SessionFactory, make_image, pending_job

API_KEY = "tt-test-key-0123456789abcdef"
PHOTO = make_image("JPEG", (160, 120), seed=1)
TEMPLATE = make_image("PNG", (120, 160), seed=2)
PROMPT = "девушка в костюме супермена"
OPERATIONS = {
    GenerateImage2ImageSettings: "generate_image2image",
    MixImagesSettings: "mix_images",
    DeepfakePhotoSettings: "deepfake_photo",
}


@dataclass
class Turbotext:
    driver: TurbotextDriver
    fake: FakeTurbotext
    factory: SessionFactory
    app: FastAPI
    public_url: str

    async def run(
        self,
        settings: OperationSettings,
        *,
        photo: bytes = PHOTO,
        mime: str = "image/jpeg",
        templates: Sequence[TemplateImage] = (),
        window: float = 20.0,
        api_key: str | None = API_KEY,
    ) -> ProviderResult:
        job_id = secrets.token_urlsafe(12)
        async with self.factory() as session, session.begin():
            session.add(pending_job(job_id))
        deadline = Deadline.start(window)
        services = self.app.state.services
        publisher = ProviderMediaPublisher(
            database=services.database,
            store=services.store,
            public_base_url=self.public_url,
            job_id=job_id,
            slot_id="slot-001",
            deadline=deadline,
        )
        ctx = JobContext(
            job_id=job_id,
            slot_id="slot-001",
            operation=OPERATIONS[type(settings)],
            settings=settings,
            image=InputImage(mime=mime, size=len(photo), data=photo),
            deadline=deadline,
            templates=templates,
            api_key=api_key,
            publish=publisher,
        )
        return await self.driver.edit(ctx)


def image2image(**values: object) -> GenerateImage2ImageSettings:
    return GenerateImage2ImageSettings.model_validate({"prompt": PROMPT, **values})


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeTurbotext]:
    yield from running_fake()


@pytest.fixture
def fake(fake_server: FakeTurbotext) -> FakeTurbotext:
    fake_server.reset()
    return fake_server


@pytest.fixture
async def public_url(app: FastAPI) -> AsyncIterator[str]:
    """The real app served by uvicorn on this test's loop: the fake fetches our
    provider-media URLs from it over HTTP."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the app did not start under uvicorn"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def turbotext(
    fake: FakeTurbotext, factory: SessionFactory, app: FastAPI, public_url: str
) -> AsyncIterator[Turbotext]:
    driver = TurbotextDriver(fake.base_url + "/")
    await driver.start()
    yield Turbotext(driver, fake, factory, app, public_url)
    await driver.close()
