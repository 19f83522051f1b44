"""A flaky Gemini for the soak (bench/soak.py): a loopback server that speaks the
Gemini `generateContent` wire (the bodies come from tests/fakes/gemini.py) and
answers each request with a fault drawn at random — success, a slow success,
500/503/429, a 200 without an image, a safety refusal, a hang past any sync
window, a 200 whose image is garbage, a body that is not JSON, a truncated body,
a connection reset, or an error that echoes the API key back (a driver must mask
it before logging).

It is a raw asyncio HTTP/1.1 server, not Starlette, so it can break the wire the
way a real network does (half a body, then FIN; an RST). `GET /_faults` answers
the count of each fault served so far.

    .venv/bin/python bench/flaky_provider.py --api-key KEY [--port 0 --seed 1]

prints `listening http://127.0.0.1:PORT` once it accepts connections."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import socket
import struct
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes import gemini
from fakes.server import Reply
from support import make_image

FAULT_WEIGHTS: Mapping[str, int] = {
    "success": 40,
    "slow_success": 8,
    "error_500": 8,
    "error_503": 8,
    "error_429": 6,
    "no_image": 5,
    "safety": 3,
    "hang": 4,
    "garbage_image": 4,
    "garbage_json": 3,
    "truncated": 4,
    "reset": 4,
    "key_echo": 3,
}
"""How often each answer comes, relative to the others."""

MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    """What to do with one request: `reply` after `delay` seconds, then keep the
    connection (`keep_alive`) or break it (`cut` bytes of the body sent, or `reset`)."""

    reply: Reply | None = None
    delay: float = 0.0
    cut: bool = False
    reset: bool = False
    keep_alive: bool = True


@dataclass
class FlakyGemini:
    api_key: str
    rng: random.Random
    hang_seconds: float = 120.0
    weights: Mapping[str, int] = field(default_factory=lambda: dict(FAULT_WEIGHTS))
    served: Counter[str] = field(default_factory=Counter)
    images: list[tuple[bytes, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.images = [
            (make_image("PNG", (512, 384), seed=11), "image/png"),
            (make_image("JPEG", (1024, 768), seed=12), "image/jpeg"),
        ]

    def pick(self) -> str:
        names = list(self.weights)
        return self.rng.choices(names, weights=[self.weights[n] for n in names])[0]

    def answer(self, request: Request) -> Answer:
        if request.method == "GET" and request.path == "/_faults":
            return Answer(Reply.json(dict(self.served)))
        refused = _refused(request, self.api_key)
        if refused is not None:
            self.served[refused[0]] += 1
            return Answer(refused[1])
        fault = self.pick()
        self.served[fault] += 1
        latency = self.rng.uniform(0.05, 1.5)
        return _FAULTS[fault](self, latency)

    def success(self, latency: float) -> Answer:
        image, mime = self.rng.choice(self.images)
        return Answer(gemini.success(image, mime), delay=latency)

    def slow_success(self, _latency: float) -> Answer:
        return self.success(self.rng.uniform(4.0, 9.0))

    def hang(self, _latency: float) -> Answer:
        return Answer(None, delay=self.hang_seconds, keep_alive=False)

    def garbage_image(self, latency: float) -> Answer:
        garbage = self.rng.randbytes(self.rng.randrange(16, 4096))
        if self.rng.random() < 0.5:  # a PNG signature, then nonsense
            garbage = b"\x89PNG\r\n\x1a\n" + garbage
        return Answer(gemini.success(garbage, "image/png"), delay=latency)

    def garbage_json(self, latency: float) -> Answer:
        body = self.rng.choice(
            [
                b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                b'{"candidates": [{"content": {"parts": [{"inlineData": ',
                self.rng.randbytes(2048),
                b"null",
                b'{"candidates": "not a list"}',
            ]
        )
        return Answer(Reply(200, body, {"content-type": "application/json"}), delay=latency)

    def truncated(self, latency: float) -> Answer:
        return Answer(self.success(latency).reply, delay=latency, cut=True, keep_alive=False)

    def reset(self, latency: float) -> Answer:
        return Answer(None, delay=latency, reset=True, keep_alive=False)

    def key_echo(self, latency: float) -> Answer:
        message = f"API key {self.api_key} is not allowed to call this model in this region."
        return Answer(gemini.error(400, "FAILED_PRECONDITION", message), delay=latency)


def _error(status: int, code: str, message: str) -> Callable[[FlakyGemini, float], Answer]:
    def answer(_fake: FlakyGemini, latency: float) -> Answer:
        return Answer(gemini.error(status, code, message), delay=latency)

    return answer


def _no_image(reason: str) -> Callable[[FlakyGemini, float], Answer]:
    def answer(_fake: FlakyGemini, latency: float) -> Answer:
        return Answer(gemini.no_image(reason, text="I can't edit this photo."), delay=latency)

    return answer


_FAULTS: Mapping[str, Callable[[FlakyGemini, float], Answer]] = {
    "success": FlakyGemini.success,
    "slow_success": FlakyGemini.slow_success,
    "error_500": _error(500, "INTERNAL", "An internal error has occurred."),
    "error_503": _error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
    "error_429": _error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted."),
    "no_image": _no_image("NO_IMAGE"),
    "safety": _no_image("IMAGE_SAFETY"),
    "hang": FlakyGemini.hang,
    "garbage_image": FlakyGemini.garbage_image,
    "garbage_json": FlakyGemini.garbage_json,
    "truncated": FlakyGemini.truncated,
    "reset": FlakyGemini.reset,
    "key_echo": FlakyGemini.key_echo,
}
assert set(_FAULTS) == set(FAULT_WEIGHTS)


def _refused(request: Request, api_key: str) -> tuple[str, Reply] | None:
    """What the real API answers to a request it will not run (wrong path, key)."""
    if request.method != "POST" or gemini.PATH.match(request.path) is None:
        return "not_found", gemini.error(404, "NOT_FOUND", f"{request.path} is not found")
    if request.headers.get("x-goog-api-key") != api_key:
        return "wrong_key", gemini.error(400, "INVALID_ARGUMENT", "API key not valid.")
    try:
        body = json.loads(request.body)
    except ValueError:
        return "bad_request", gemini.error(400, "INVALID_ARGUMENT", "Invalid JSON payload.")
    if not isinstance(body, dict) or not body.get("contents"):
        return "bad_request", gemini.error(400, "INVALID_ARGUMENT", "contents is not specified")
    return None


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request of a connection, or None when the client closed it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if length > MAX_BODY_BYTES:
        return None
    try:
        body = await reader.readexactly(length)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return Request(method, path.split("?", 1)[0], headers, body)


def encode(reply: Reply, keep_alive: bool) -> tuple[bytes, bytes]:
    status = HTTPStatus(reply.status)
    headers = {
        **reply.headers,
        "content-length": str(len(reply.body)),
        "connection": "keep-alive" if keep_alive else "close",
    }
    head = f"HTTP/1.1 {status.value} {status.phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return (head + "\r\n").encode("latin-1"), reply.body


def abort_with_reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def serve_connection(
    fake: FlakyGemini, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while (request := await read_request(reader)) is not None:
            answer = fake.answer(request)
            if answer.delay:
                await asyncio.sleep(answer.delay)
            if answer.reset:
                abort_with_reset(writer)
                return
            if answer.reply is None:
                break
            head, body = encode(answer.reply, answer.keep_alive)
            writer.write(head + (body[: len(body) // 2] if answer.cut else body))
            await writer.drain()
            if not answer.keep_alive:
                break
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def start(fake: FlakyGemini, port: int) -> asyncio.Server:
    return await asyncio.start_server(
        lambda reader, writer: serve_connection(fake, reader, writer),
        "127.0.0.1",
        port,
        limit=1024 * 1024,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-key", required=True, help="the key the fake accepts")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang-seconds", type=float, default=120.0)
    args = parser.parse_args()
    fake = FlakyGemini(args.api_key, random.Random(args.seed), args.hang_seconds)

    async def run() -> None:
        server = await start(fake, args.port)
        port = server.sockets[0].getsockname()[1]
        print(f"listening http://127.0.0.1:{port}", flush=True)
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
