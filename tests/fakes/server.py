"""A small real HTTP server on 127.0.0.1 (Starlette under uvicorn, on a thread) that
stands in for a provider's API: it records every request it receives and answers
with what the test queued, or with the provider's default success."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


@dataclass(frozen=True)
class FilePart:
    """A file field of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    form: list[tuple[str, str | FilePart]] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)

    def fields(self, name: str) -> list[str | FilePart]:
        return [value for key, value in self.form if key == name]


@dataclass
class Reply:
    """What to answer. `chunks` > 0 streams the body without Content-Length."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunks: int = 0

    @classmethod
    def json(cls, payload: Any, status: int = 200, **options: Any) -> Reply:
        headers = {"content-type": "application/json; charset=UTF-8", **options.pop("headers", {})}
        return cls(status=status, body=json.dumps(payload).encode(), headers=headers, **options)


Handler = Callable[[Received], Reply]


class FakeServer:
    """Answers every request with the next queued `Reply`, or with `default(request)`
    when the queue is empty. `check(request)` may answer first, as the real API
    does for a request it refuses (wrong path, missing key)."""

    def __init__(self, default: Handler, check: Callable[[Received], Reply | None]) -> None:
        self._default = default
        self._check = check
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.received: list[Received] = []
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.base_url = ""

    def start(self) -> FakeServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.received.clear()

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def last(self) -> Received:
        return self.received[-1]

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        received = Received(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
        )
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            async with request.form(max_files=100, max_part_size=64 * 1024 * 1024) as form:
                for name, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        data = await value.read()
                        received.form.append(
                            (name, FilePart(value.filename, value.content_type, data))
                        )
                    else:
                        received.form.append((name, value))
        reply = self._check(received)
        with self._lock:
            self.received.append(received)
            if reply is None and self._queue:
                reply = self._queue.popleft()
        reply = reply or self._default(received)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.chunks:
            return StreamingResponse(
                _chunks(reply.body, reply.chunks), status_code=reply.status, headers=reply.headers
            )
        return Response(reply.body, status_code=reply.status, headers=reply.headers)


async def _chunks(body: bytes, count: int) -> AsyncIterator[bytes]:
    size = -(-len(body) // count)
    for start in range(0, len(body), size):
        yield body[start : start + size]
