"""The HTTP/1.1 protocol `photochanger serve` runs: uvicorn's httptools
protocol with a bound on the request head, and its own 400s in SPEC §3.2's shape.

httptools puts no limit on a request line or header: it keeps what has
arrived until the head ends, so one request with a 50 MB header line took
100 MB of the server's memory (tests/hostile). Here a head past
`MAX_REQUEST_HEAD_BYTES` is answered 400 and the connection closed, so a head
costs at most that much plus one read. A booth's head is a few hundred bytes,
an admin's browser's a few kilobytes with its cookies; behind the proxy of
deploy/nginx.conf nginx's own limit (4 × 8 KiB) is the smaller one."""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_REQUEST_HEAD_BYTES = 64 * 1024


class _HeadTooLarge(Exception):
    """Raised from a parser callback: httptools turns it into a parse error."""


class BoundedHttpProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` that refuses a request head over `MAX_REQUEST_HEAD_BYTES`."""

    _in_head = False
    _head_bytes = 0
    """The head's size as the parser hands it over (URL, then each whole header)."""
    _read_in_head = 0
    """Bytes read while the head stayed open: a header line that never ends
    reaches no callback, but is held all the same."""
    _head_too_large = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = self._read_in_head = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_REQUEST_HEAD_BYTES:
            self._head_too_large = True
            raise _HeadTooLarge

    def data_received(self, data: bytes) -> None:
        # A read in which a head begins holds at most one read of it (asyncio
        # reads 256 KiB at most); only reads that find the head open are counted.
        head_was_open = self._in_head
        super().data_received(data)
        if not (head_was_open and self._in_head) or self.transport.is_closing():
            return
        self._read_in_head += len(data)
        if self._read_in_head > MAX_REQUEST_HEAD_BYTES:
            self._in_head, self._head_too_large = False, True
            self.send_400_response("")

    def send_400_response(self, msg: str) -> None:
        """A request the server cannot parse (broken framing, a head too large)
        is answered like any other invalid request: JSON, then the connection closes."""
        if self._head_too_large:
            self.logger.warning("Request head over %d bytes.", MAX_REQUEST_HEAD_BYTES)
            msg = f"the request line and headers are over {MAX_REQUEST_HEAD_BYTES // 1024} KiB"
        body = json.dumps(
            {"status": "error", "failure_reason": "invalid_request", "details": msg}
        ).encode()
        head = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"cache-control: no-store\r\n",
            b"connection: close\r\n",
            b"\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
