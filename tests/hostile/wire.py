"""A raw HTTP/1.1 client for requests no well-behaved client sends: any request
line and head, a body that lies about its length, chunked framing by hand,
a body sent a byte at a time. The body is written from a thread while the
answer is read, as a booth does; a server that answers early and closes is
not an error, and neither is one that closes without answering (`None`)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hostile.corpus import Answer


@dataclass(frozen=True)
class WireResult:
    answer: Answer | None
    """None: the server closed the connection, or kept it, without an answer."""
    seconds: float
    """From the end of the request head to the end of the answer."""


def request_head(path: str | bytes, headers: dict[str, str], *, host: str = "127.0.0.1") -> bytes:
    raw_path = path.encode() if isinstance(path, str) else path
    lines = [b"POST " + raw_path + b" HTTP/1.1", b"Host: " + host.encode()]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in headers.items()]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def chunked(parts: Iterable[bytes]) -> Iterator[bytes]:
    """Transfer-Encoding: chunked framing of `parts`."""
    for part in parts:
        if part:
            yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def send(
    base_url: str,
    head: bytes | Iterable[bytes],
    body: Iterable[bytes] = (),
    *,
    wait_for_continue: bool = False,
    half_close: bool = False,
    timeout: float = 30.0,
) -> WireResult:
    """Write `head` (bytes, or chunks when it is too large to hold), then
    `body`; return the final answer."""
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    reader = _Reader(sock)
    try:
        if wait_for_continue:
            assert isinstance(head, bytes)
            sock.sendall(head)
            started = time.monotonic()
            first = reader.answer(final=False)
            if first is None or first.status != 100:
                return WireResult(first, time.monotonic() - started)
            head = b""
        head_chunks = [head] if isinstance(head, bytes) else head
        sender = threading.Thread(
            target=_write, args=(sock, head_chunks, body, half_close), daemon=True
        )
        started = time.monotonic()
        sender.start()
        answer = reader.answer(final=True)
        seconds = time.monotonic() - started
        _close(sock)  # so a sender still trickling stops at its next write
        sender.join(timeout=timeout)
        return WireResult(answer, seconds)
    finally:
        _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected any more
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _write(
    sock: socket.socket, head: Iterable[bytes], body: Iterable[bytes], half_close: bool
) -> None:
    try:
        for chunk in head:
            sock.sendall(chunk)
        for chunk in body:
            sock.sendall(chunk)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the server answered and closed; that is the point


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()

    def _fill(self) -> bool:
        try:
            chunk = self._sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, TimeoutError):
            return False
        self._buffer += chunk
        return bool(chunk)

    def answer(self, *, final: bool) -> Answer | None:
        """The next answer; with `final`, interim (1xx) answers are skipped."""
        while True:
            while b"\r\n\r\n" not in self._buffer:
                if not self._fill():
                    return None
            end = self._buffer.index(b"\r\n\r\n")
            lines = self._buffer[:end].decode("latin-1").split("\r\n")
            del self._buffer[: end + 4]
            status = int(lines[0].split()[1])
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if 100 <= status < 200 and final:
                continue
            length = int(headers.get("content-length", "0"))
            while len(self._buffer) < length and self._fill():
                pass
            body = bytes(self._buffer[:length])
            del self._buffer[:length]
            return Answer(status, headers, body)
