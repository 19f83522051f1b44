"""Hostile requests whose attack is on the wire, so they go to a real uvicorn
over a socket: lengths that lie, chunked bodies past the cap, 100-continue
with an oversized length, request heads of 100 KB and more, path tricks the
client must not normalise, a body trickled slower than the sync window."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from hostile import samples
from hostile.bodies import Part, assemble, booth_body, booth_parts, content_type
from hostile.wire import chunked, request_head

MB = 1024 * 1024
CAP = 20 * MB + 256 * 1024
"""The most body the server accepts: the 20 MB cap and the multipart allowance."""
INGEST = "/api/ingest/slot-001"


@dataclass(frozen=True)
class WireCase:
    name: str
    head: Callable[[], bytes | Iterable[bytes]]
    status: int | None
    """None: the connection closes without an answer (the client went away)."""
    failure_reason: str | None = None
    body: Callable[[], Iterable[bytes]] = lambda: ()
    wait_for_continue: bool = False
    half_close: bool = False


def _multipart(length: int | None = None, **headers: str) -> dict[str, str]:
    length_header = {} if length is None else {"Content-Length": str(length)}
    return {"Content-Type": content_type(), **length_header, **headers}


def _booth() -> bytes:
    return booth_body(samples.photo())


def _photo_then_zeros(total: int) -> Iterator[bytes]:
    """A booth body's start, then the photo going on for `total` bytes."""
    parts = booth_parts(samples.photo())
    yield assemble(parts).rsplit(b"\xff\xd9", 1)[0]
    block = bytes(256 * 1024)
    for _ in range(total // len(block)):
        yield block


def _field_going_on(total: int) -> Iterator[bytes]:
    head = assemble([Part(b"profile", b"")], closed=False).removesuffix(b"\r\n")
    yield head
    block = b"v" * (256 * 1024)
    for _ in range(total // len(block)):
        yield block


def _with_path(path: bytes) -> WireCase:
    name = "path_" + path.decode("latin-1").removeprefix("/api/ingest/")
    return WireCase(
        name,
        lambda: request_head(path, _multipart(len(_booth()))),
        404,
        "slot_not_found",
        body=lambda: [_booth()],
    )


def _head_going_on(total: int) -> Iterator[bytes]:
    yield request_head(INGEST, _multipart()).removesuffix(b"\r\n") + b"X-Junk: "
    block = b"j" * (256 * 1024)
    for _ in range(total // len(block)):
        yield block


def _cut_by_its_length() -> bytes:
    body = _booth()
    return request_head(INGEST, _multipart(len(body) // 2)) + body


WIRE_CORPUS: list[WireCase] = [
    WireCase("content_length_of_10e12", lambda: request_head(INGEST, _multipart(10**12)), 413,
             "payload_too_large", body=lambda: _photo_then_zeros(128 * MB)),
    WireCase("content_length_of_10e12_expecting_100_continue",
             lambda: request_head(INGEST, _multipart(10**12, Expect="100-continue")), 413,
             "payload_too_large", wait_for_continue=True),
    WireCase("expect_100_continue_one_byte_over_the_cap",
             lambda: request_head(INGEST, _multipart(CAP + 1, Expect="100-continue")), 413,
             "payload_too_large", wait_for_continue=True),
    WireCase("chunked_photo_past_the_cap",
             lambda: request_head(INGEST, _multipart(**{"Transfer-Encoding": "chunked"})), 413,
             "payload_too_large", body=lambda: chunked(_photo_then_zeros(96 * MB))),
    WireCase("chunked_text_field_past_the_cap",
             lambda: request_head(INGEST, _multipart(**{"Transfer-Encoding": "chunked"})), 413,
             "payload_too_large", body=lambda: chunked(_field_going_on(96 * MB))),
    WireCase("content_length_shorter_than_the_body", _cut_by_its_length, 400,
             "invalid_request"),
    WireCase("content_length_longer_than_the_body_then_closed",
             lambda: request_head(INGEST, _multipart(len(_booth()) + 1000)), None,
             body=lambda: [_booth()], half_close=True),
    WireCase("header_line_of_100_kb",
             lambda: request_head(INGEST, _multipart(len(_booth()), **{"X-Junk": "j" * 102_400})),
             400, "invalid_request", body=lambda: [_booth()]),
    WireCase("request_line_of_100_kb",
             lambda: request_head(INGEST + "x" * 102_400, _multipart(len(_booth()))), 400,
             "invalid_request", body=lambda: [_booth()]),
    WireCase("header_of_64_mb_never_ending", lambda: _head_going_on(64 * MB), 400,
             "invalid_request"),
    WireCase("chunk_size_not_hex",
             lambda: request_head(INGEST, _multipart(**{"Transfer-Encoding": "chunked"})), 400,
             "invalid_request", body=lambda: [b"zz\r\n" + _booth() + b"\r\n0\r\n\r\n"]),
    WireCase("chunked_and_content_length",
             lambda: request_head(INGEST, _multipart(50, **{"Transfer-Encoding": "chunked"})), 400,
             "invalid_request", body=lambda: chunked([_booth()])),
    WireCase("content_length_not_a_number",
             lambda: request_head(INGEST, {"Content-Type": content_type(),
                                           "Content-Length": "12abc"}), 400, "invalid_request"),
    WireCase("content_length_negative",
             lambda: request_head(INGEST, {"Content-Type": content_type(),
                                           "Content-Length": "-1"}), 400, "invalid_request"),
    *(
        _with_path(path)
        for path in (
            b"/api/ingest/../api/ingest/slot-001",
            b"/api/ingest/slot-001/../slot-002",
            b"/api/ingest/%2e%2e%2fslot-001",
            b"/api/ingest/slot-001%2F..%2Fslot-002",
            b"/api/ingest/%C3%A9%F0%9F%98%80",
            b"/api/ingest/%FF%FE",
            b"/api/ingest/slot-001%00",
            b"/api/ingest/%20slot-001",
            b"/api/ingest/slot-001/",
            b"/api/ingest/",
        )
    ),
    WireCase("path_in_raw_utf8",
             lambda: request_head("/api/ingest/слот-001".encode(), _multipart(len(_booth()))),
             400, "invalid_request", body=lambda: [_booth()]),
]  # fmt: skip


def slowloris(window: float, stop: Callable[[], bool]) -> tuple[bytes, Iterator[bytes]]:
    """A booth body whose photo arrives a byte every 2 s after its first
    kilobyte, for longer than `window`: (head, body)."""
    body = _booth()
    start = body.index(b"\xff\xd8") + 1024

    def trickle() -> Iterator[bytes]:
        yield body[:start]
        for offset in range(start, start + int(window / 2) + 3):
            if stop():
                return
            time.sleep(2)
            yield body[offset : offset + 1]

    return request_head(INGEST, _multipart(len(body))), trickle()


def short_body() -> tuple[bytes, list[bytes]]:
    """A body 100 bytes shorter than its Content-Length, the connection kept open."""
    body = _booth()
    return request_head(INGEST, _multipart(len(body) + 100)), [body]
