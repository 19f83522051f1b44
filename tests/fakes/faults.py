"""A provider endpoint that misbehaves below the HTTP layer the other fakes speak:
a raw socket server on 127.0.0.1 that reads each request, then answers with the
fault it is set to — a connection reset mid-answer, a body that never ends, a
huge error page — or, over TLS with a certificate nothing trusts, a proper answer
(which a client that checks certificates never gets to read)."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from fakes.server import Reply

Fault = Callable[[socket.socket], None]
"""Writes the answer (or the lack of one) to the connection."""

_RESET = struct.pack("ii", 1, 0)


def answer(reply: Reply) -> Fault:
    """A whole, well-formed answer."""

    def send(connection: socket.socket) -> None:
        connection.sendall(_head(reply.status, reply.headers, len(reply.body)) + reply.body)

    return send


def reset_mid_answer(status: int = 200, declared: int = 200_000, sent: int = 4096) -> Fault:
    """Headers promising `declared` bytes, `sent` of them, then a TCP reset."""

    def send(connection: socket.socket) -> None:
        headers = {"content-type": "application/json; charset=UTF-8"}
        connection.sendall(_head(status, headers, declared) + b'{"candidates": [' + b" " * sent)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)

    return send


def endless_body(status: int = 200, every: float = 0.2) -> Fault:
    """A chunked body that never ends: a byte every `every` seconds, so no read
    ever waits long enough to time out, until the client hangs up."""

    def send(connection: socket.socket) -> None:
        headers = {"content-type": "application/json", "transfer-encoding": "chunked"}
        connection.sendall(_head(status, headers, None) + b"1\r\n{\r\n")
        while True:
            time.sleep(every)
            connection.sendall(b"1\r\n \r\n")

    return send


def huge_body(status: int = 503, size: int = 10 * 1024 * 1024, declare: bool = False) -> Fault:
    """An error page of `size` bytes (a proxy's HTML, say), made as it is sent
    so the fake itself holds none of it; chunked unless `declare`."""
    chunk = b"<p>Service Unavailable</p>" * 2520  # ~64 KiB

    def send(connection: socket.socket) -> None:
        headers = {"content-type": "text/html"}
        if not declare:
            headers["transfer-encoding"] = "chunked"
        connection.sendall(_head(status, headers, size if declare else None))
        left = size
        while left > 0:
            piece = chunk[: min(left, len(chunk))]
            left -= len(piece)
            connection.sendall(piece if declare else b"%x\r\n%s\r\n" % (len(piece), piece))
        if not declare:
            connection.sendall(b"0\r\n\r\n")

    return send


def _head(status: int, headers: dict[str, str], length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if length is not None:
        lines.append(f"content-length: {length}")
    lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class Request:
    """What the server read of one request."""

    request_line: str
    headers: dict[str, str]
    body_size: int


class FaultServer:
    """Serves `fault` to every request, on a thread per connection. With `tls`,
    connections are TLS (server side) first; a client that refuses the
    certificate never makes a request. `requests` are those fully read;
    `unfinished` counts answers the client cut off (it hung up mid-answer)."""

    def __init__(self, fault: Fault, *, tls: ssl.SSLContext | None = None) -> None:
        self.fault = fault
        self._tls = tls
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self.unfinished = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        port = self._listener.getsockname()[1]
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _address = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(30)
        try:
            if self._tls is not None:
                connection = self._tls.wrap_socket(connection, server_side=True)
            request = _read_request(connection)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            self.fault(connection)
        except OSError:  # the client hung up (or refused our certificate)
            with self._lock:
                self.unfinished += 1
        finally:
            connection.close()


def _read_request(connection: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    size = len(body)
    while size < length:
        chunk = connection.recv(min(65536, length - size))
        if not chunk:
            return None
        size += len(chunk)
    return Request(request_line, headers, size)


def self_signed_tls(directory: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1,
    which no client trusts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    certificate_path, key_path = directory / "cert.pem", directory / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate_path, key_path)
    return context


def serving(fault: Fault, *, tls: ssl.SSLContext | None = None) -> Iterator[FaultServer]:
    """A started `FaultServer`, stopped after (for fixtures: `yield from`)."""
    server = FaultServer(fault, tls=tls).start()
    try:
        yield server
    finally:
        server.stop()
