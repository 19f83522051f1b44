"""`photochanger provider-check NAME`: one small real request with the configured
key, so a studio can test its key before the event. Opt-in; never run by tests
against a real service (they point the base URL at a fake)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

from PIL import Image

from photochanger.config import Settings, api_key_variable
from photochanger.db import Database, create_engine
from photochanger.deadline import Deadline
from photochanger.media.open_store import open_media_store
from photochanger.media.provider_media import ProviderMediaPublisher
from photochanger.providers.base import (
    InputImage,
    JobContext,
    ProviderDriver,
    ProviderError,
    ProviderNotConfigured,
)
from photochanger.providers.registry import PROVIDERS, UnknownProvider, build_registry
from photochanger.settings.provider_keys import api_key_for
from photochanger.settings.service import read_runtime_settings

CHECK_SECONDS = 60.0


@dataclass(frozen=True)
class CheckReport:
    exit_code: int  # 0 an image came back, 1 the provider failed, 2 it could not be asked
    lines: list[str]
    image: bytes | None = None


def sample_photo() -> bytes:
    """A small generated JPEG: enough for a provider to edit, cheap to send."""
    image = Image.linear_gradient("L").resize((256, 256)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def checkable_providers(drivers: Iterable[type[ProviderDriver]] = PROVIDERS) -> list[str]:
    """The names `provider-check` takes: the providers that declare a check."""
    return [driver.name for driver in drivers if driver.check is not None]


async def check_provider(
    config: Settings, name: str, extra: Sequence[type[ProviderDriver]] = ()
) -> CheckReport:
    """Send the provider's `check` request with the key the server would use
    (settings, else env). `extra` as in `build_registry`."""
    database = Database(create_engine(config.resolved_database_url))
    registry = build_registry(config, extra)
    media = AsyncExitStack()
    try:
        try:
            driver = registry.get(name)
        except UnknownProvider:
            return CheckReport(2, [f"{name}: no such provider"])
        if driver.check is None:
            return CheckReport(2, [f"{name}: has nothing to check"])
        operation = driver.check.operation
        runtime = await database.read(read_runtime_settings)
        key = api_key_for(driver, runtime, config)
        if driver.takes_api_key and key is None:
            env = api_key_variable(name)
            return CheckReport(2, [f"{name}: no key configured (settings or {env})"])
        settings = registry.parse_settings(name, operation, driver.check.settings)
        await registry.start()
        photo = sample_photo()
        deadline = Deadline.start(CHECK_SECONDS)
        store = await media.enter_async_context(open_media_store(config))
        publisher = ProviderMediaPublisher(
            database=database,
            store=store,
            public_base_url=config.public_base_url,
            job_id=None,
            slot_id=None,
            deadline=deadline,
        )
        ctx = JobContext(
            job_id="provider-check",
            slot_id="provider-check",
            operation=operation,
            settings=settings,
            image=InputImage(mime="image/jpeg", size=len(photo), data=photo),
            deadline=deadline,
            api_key=key,
            publish=publisher,
        )
        started = time.monotonic()
        try:
            result = await driver.edit(ctx)
        except ProviderNotConfigured as exc:
            return CheckReport(2, [f"{name}: not configured: {exc.message}"])
        except ProviderError as exc:
            return CheckReport(
                1,
                [
                    f"{name}: FAILED ({type(exc).__name__}) after "
                    f"{time.monotonic() - started:.1f} s",
                    f"  reason: {exc.reason}",
                    f"  message: {exc.message}",
                    f"  response id: {exc.response_id}",
                ],
            )
        finally:
            await publisher.discard()
        data = result.data
        if data is None:
            assert result.path is not None
            data = result.path.read_bytes()
        return CheckReport(
            0,
            [
                f"{name}: OK in {time.monotonic() - started:.1f} s",
                f"  image: {result.mime}, {len(data)} bytes",
                f"  response id: {result.response_id}",
                f"  usage: {result.usage.as_record() if result.usage else {}}",
            ],
            image=data,
        )
    finally:
        await media.aclose()
        await registry.close()
        await database.dispose()
