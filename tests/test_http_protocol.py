"""The server's HTTP protocol (`http_protocol.py`): a request head over 64 KiB
is refused, however it arrives, while heads under it, keep-alive and pipelined
requests with large bodies pass; the server's own 400s are SPEC §3.2 JSON.
A real uvicorn on loopback, serving an app that answers with the body's size."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from hostile.wire import chunked, request_head, send
from photochanger.http_protocol import MAX_REQUEST_HEAD_BYTES, BoundedHttpProtocol
from support import free_port

KB = 1024
MB = 1024 * KB


async def body_size(scope: dict[str, object], receive: object, send: object) -> None:
    assert scope["type"] == "http"
    size, more = 0, True
    while more:
        message = await receive()  # type: ignore[operator]
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    answer = str(size).encode()
    headers = [(b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": answer})  # type: ignore[operator]


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        body_size, port=port, http=BoundedHttpProtocol, lifespan="off", log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def post(url: str, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    result = send(url, head, [body])
    assert result.answer is not None
    return result.answer.status, result.answer.body


def assert_invalid_request(status: int, body: bytes, details: str) -> None:
    assert status == 400
    answer = json.loads(body)
    assert answer == {"status": "error", "failure_reason": "invalid_request", "details": details}


def test_a_header_line_of_100_kb_is_refused(server_url: str) -> None:
    head = request_head("/", {"Content-Length": "2", "X-Junk": "j" * 100 * KB})
    assert_invalid_request(
        *post(server_url, head, b"ok"), "the request line and headers are over 64 KiB"
    )


def test_a_request_line_of_100_kb_is_refused(server_url: str) -> None:
    head = request_head("/" + "p" * 100 * KB, {"Content-Length": "0"})
    assert_invalid_request(*post(server_url, head), "the request line and headers are over 64 KiB")


def test_many_headers_together_over_the_limit_are_refused(server_url: str) -> None:
    headers = {f"X-H{n}": "v" * KB for n in range(80)}
    status, _ = post(server_url, request_head("/", {"Content-Length": "0", **headers}))
    assert status == 400


def test_a_head_under_the_limit_with_a_large_body_passes(server_url: str) -> None:
    cookie = "c" * (MAX_REQUEST_HEAD_BYTES - 2 * KB)
    head = request_head("/", {"Content-Length": str(MB), "Cookie": cookie})
    assert post(server_url, head, bytes(MB)) == (200, str(MB).encode())


def test_a_header_that_never_ends_is_cut_off_early(server_url: str) -> None:
    """No callback sees a header before its line ends: what was read while
    the head stayed open is counted, so the server stops reading within a
    few hundred kilobytes, not after the client's 64 MB."""
    host, port = server_url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Junk: ")
        try:
            while sent < 64 * MB:
                sock.sendall(b"j" * (64 * KB))
                sent += 64 * KB
        except OSError:
            pass  # refused and closed
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400")
    assert sent < 64 * MB


def test_keep_alive_and_pipelined_requests_with_large_bodies_pass(server_url: str) -> None:
    """A head that begins in the same read as the end of the body before it
    is not taken for a long one."""
    body = bytes(300 * KB)
    one = request_head("/", {"Content-Length": str(len(body))}) + body
    host, port = server_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(one * 3)
        received = b""
        while received.count(b"HTTP/1.1 200") < 3:
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
    assert b"HTTP/1.1 400" not in received
    assert received.count(b"\r\n\r\n" + str(len(body)).encode()) == 3


def test_broken_chunked_framing_gets_a_json_400(server_url: str) -> None:
    head = request_head("/", {"Transfer-Encoding": "chunked"})
    status, body = post(server_url, head, b"zz\r\nnot hex\r\n0\r\n\r\n")
    assert_invalid_request(status, body, "Invalid HTTP request received.")


def test_well_framed_chunks_pass(server_url: str) -> None:
    head = request_head("/", {"Transfer-Encoding": "chunked"})
    result = send(server_url, head, chunked([b"a" * 100 * KB, b"b" * 10]))
    assert result.answer is not None
    assert (result.answer.status, result.answer.body) == (200, b"102410")
