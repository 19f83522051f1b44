"""What a remote provider gets of a job (SPEC §10 "downscale before the
provider", "guests' privacy"): the photo and template images at most the
slot's `max_input_megapixels`, upright, without metadata. Made once per job,
on a worker thread, when the first remote step runs; a `local` step never
waits for it and gets the photo as uploaded."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace

from photochanger.media.downscale import SentImage, for_remote
from photochanger.providers.base import InputImage, JobContext, TemplateImage


@dataclass(frozen=True)
class _Prepared:
    photo: SentImage
    templates: tuple[TemplateImage, ...]


class RemoteInputs:
    def __init__(self, max_megapixels: float) -> None:
        self._max_megapixels = max_megapixels
        self._preparing: asyncio.Future[_Prepared] | None = None

    @property
    def sent(self) -> SentImage | None:
        """The photo as it was sent, once a remote step has had it."""
        preparing = self._preparing
        if preparing is None or not preparing.done() or preparing.exception() is not None:
            return None
        return preparing.result().photo

    async def applied_to(self, ctx: JobContext) -> JobContext:
        """`ctx` with its photo and templates as a remote provider gets them.
        Raises `UnreadablePhoto` when one cannot be decoded. The work runs once
        per job: an attempt that times out while it runs leaves it running for
        the next attempt to pick up, not to start again."""
        if self._preparing is None:
            self._preparing = asyncio.ensure_future(
                asyncio.to_thread(self._prepare, ctx.image, ctx.templates)
            )
            # Its failure is the awaiting attempt's; if none awaits any more, it is done with.
            self._preparing.add_done_callback(lambda done: done.cancelled() or done.exception())
        prepared = await asyncio.shield(self._preparing)
        photo = prepared.photo
        return replace(
            ctx,
            image=InputImage(mime=photo.mime, size=len(photo.data), data=photo.data),
            templates=prepared.templates,
        )

    def _prepare(self, image: InputImage, templates: Sequence[TemplateImage]) -> _Prepared:
        photo = for_remote(image.read_bytes(), self._max_megapixels)
        sent = []
        for template in templates:
            fitted = for_remote(template.data, self._max_megapixels)
            sent.append(TemplateImage(role=template.role, mime=fitted.mime, data=fitted.data))
        return _Prepared(photo, tuple(sent))
