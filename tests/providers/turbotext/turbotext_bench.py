"""What the Turbotext tests share: inputs, and a job context with a real
publisher around the driver."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import FastAPI

from fakes.turbotext import FakeTurbotext
from photochanger.db import SessionFactory
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
from support import make_image, pending_job

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
            factory=services.factory,
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
