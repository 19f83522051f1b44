"""A local stand-in for Turbotext's photo API, speaking its wire format
(https://www.turbotext.ru/photo_ai/docs/info): form-encoded POSTs to
`/api_ai/{method}` with `do=create_queue` then `do=get_result`, answered
`{"action": "reconnect"}` until the result is ready, and the result image served
at an absolute `download.php` link or a relative `image/...` path.

Like the real service it fetches the input URLs it is given (`url`,
`url_image_target`) with an HTTP GET, and records what came back, so a test
proves the published URL really serves the image. Every request it receives is
recorded (path, headers, form fields in order). A test programs the answers
through `fake.scenario` before running the driver.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from support import make_image

INPUT_FIELDS = ("url", "url_image_target")
RESULT_PNG = make_image("PNG", (96, 64), seed=7)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0
    """Seconds to wait before answering (a slow provider)."""


def json_answer(payload: Any, status: int = 200, delay: float = 0.0) -> Answer:
    return Answer(status, json.dumps(payload, ensure_ascii=False).encode(), delay=delay)


@dataclass
class Scenario:
    queue_id: int = 4242
    reconnects: int = 0
    """`get_result` answers `{"action": "reconnect"}` this many times first."""
    never_ready: bool = False
    create: Answer | None = None
    """Replaces the `create_queue` answer (errors, bad bodies, slowness)."""
    polls: list[Answer] = field(default_factory=list)
    """Answered, in order, to the first `get_result` calls, before anything else."""
    result: Answer | None = None
    """Replaces the final `get_result` answer."""
    link: Literal["uploaded_image", "data.image"] = "uploaded_image"
    image: Answer = field(default_factory=lambda: Answer(body=RESULT_PNG, content_type="image/png"))
    """What the result link serves."""
    downloads: list[Answer] = field(default_factory=list)
    """Answered, in order, to the first downloads of the result, before `image`."""
    fetch_inputs: bool = True


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    form: list[tuple[str, str]]
    at: float

    @property
    def fields(self) -> dict[str, str]:
        return dict(self.form)


@dataclass
class Fetch:
    """What the fake got when it fetched an input URL, as Turbotext would."""

    field: str
    url: str
    status: int
    content: bytes
    content_type: str | None


class FakeTurbotext:
    def __init__(self) -> None:
        self.scenario = Scenario()
        self.requests: list[RecordedRequest] = []
        self.fetches: list[Fetch] = []
        self.base_url = ""
        self._polled = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def reset(self) -> None:
        self.scenario = Scenario()
        self.requests.clear()
        self.fetches.clear()
        self._polled = 0

    def calls(self, do: str | None = None) -> list[RecordedRequest]:
        """The API calls received (`/api_ai/...`), optionally of one `do`."""
        return [
            r
            for r in self.requests
            if r.path.startswith("/api_ai/") and (do is None or r.fields.get("do") == do)
        ]

    def result_link(self) -> str:
        queue = self.scenario.queue_id
        if self.scenario.link == "uploaded_image":
            return f"{self.base_url}/download.php?f=result_{queue}.png"
        return f"image/generate_image2image_id{queue}_0.png"

    # --- the server -----------------------------------------------------------

    async def _record(self, request: Request) -> RecordedRequest:
        body = (await request.body()).decode("utf-8", "replace")
        form = parse_qsl(body, keep_blank_values=True) if request.method == "POST" else []
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            headers={k.lower(): v for k, v in request.headers.items()},
            form=form,
            at=time.monotonic(),
        )
        self.requests.append(recorded)
        return recorded

    async def _api(self, request: Request) -> Response:
        recorded = await self._record(request)
        do = recorded.fields.get("do")
        if do == "create_queue":
            answer = await self._create(recorded)
        elif do == "get_result":
            answer = self._poll()
        else:
            answer = json_answer({"success": False, "error": f"unknown do {do!r}"})
        return await _respond(answer)

    async def _create(self, recorded: RecordedRequest) -> Answer:
        if self.scenario.fetch_inputs:
            async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
                for name, value in recorded.form:
                    if name in INPUT_FIELDS:
                        response = await client.get(value)
                        self.fetches.append(
                            Fetch(
                                name,
                                value,
                                response.status_code,
                                response.content,
                                response.headers.get("content-type"),
                            )
                        )
        if self.scenario.create is not None:
            return self.scenario.create
        return json_answer({"success": True, "queueid": self.scenario.queue_id})

    def _poll(self) -> Answer:
        scenario = self.scenario
        if scenario.polls:
            return scenario.polls.pop(0)
        if scenario.never_ready or self._polled < scenario.reconnects:
            self._polled += 1
            return json_answer({"action": "reconnect"})
        if scenario.result is not None:
            return scenario.result
        data: dict[str, Any] = {"width": 96, "height": 64, "seed": 5443937701}
        payload: dict[str, Any] = {"success": True, "error": "", "data": data}
        if scenario.link == "uploaded_image":
            payload["uploaded_image"] = self.result_link()
        else:
            data["image"] = [self.result_link()]
        return json_answer(payload)

    async def _image(self, request: Request) -> Response:
        await self._record(request)
        if self.scenario.downloads:
            return await _respond(self.scenario.downloads.pop(0))
        return await _respond(self.scenario.image)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api_ai/{method}", self._api, methods=["POST"]),
                Route("/download.php", self._image, methods=["GET"]),
                Route("/image/{name:path}", self._image, methods=["GET"]),
            ]
        )

    def start(self) -> None:
        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=0,
            lifespan="off",
            log_config=None,
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Turbotext server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)


async def _respond(answer: Answer) -> Response:
    if answer.delay:
        await asyncio.sleep(answer.delay)
    return Response(answer.body, status_code=answer.status, media_type=answer.content_type)


def running_fake() -> Iterator[FakeTurbotext]:
    """For a fixture: one server, reset by each test."""
    fake = FakeTurbotext()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
