"""A loopback TCP forwarder that a test can cut and restore: the app talks to its
database through it, and the test pulls the cable mid-request."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

_ABORT = struct.pack("ii", 1, 0)
"""SO_LINGER on, 0 s: `close()` sends a reset, as a dropped link would surface."""


class TcpProxy:
    """Forwards every connection made to `port` (127.0.0.1) to `upstream`.

    `cut()` resets every open connection and stops listening, so a new connect
    is refused; `restore()` listens again on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self.port = 0

    def start(self) -> TcpProxy:
        self._listen()
        return self

    def cut(self) -> None:
        self._close_listener()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _abort(sock)

    def restore(self) -> None:
        self._listen()

    def stop(self) -> None:
        self.cut()

    @contextmanager
    def cut_off(self) -> Iterator[None]:
        self.cut()
        try:
            yield
        finally:
            self.restore()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.close()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by cut()
            client.settimeout(None)
            try:
                server = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                _abort(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
            target.shutdown(socket.SHUT_WR)
        except OSError:
            for sock in (source, target):
                _abort(sock)


def _abort(sock: socket.socket) -> None:
    # shutdown() wakes the pump blocked in recv() on it; close() then resets.
    for step in (
        lambda: sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _ABORT),
        lambda: sock.shutdown(socket.SHUT_RDWR),
        sock.close,
    ):
        with suppress(OSError):
            step()
