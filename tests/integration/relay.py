"""A recording relay between hatui and a server: what hatui sent, byte for byte, for the audit tests.

``Relay(("127.0.0.1", 15672))`` listens on a free loopback port (``relay.port``) and forwards every
connection to the target; ``Relay("/run/haproxy.sock")`` does the same for a unix socket
(``relay.path``). ``sent()`` is everything the clients wrote, one bytes object per connection;
``http_requests()`` the request lines found in it. The relay adds no logic: it is the access log the
server does not keep (RabbitMQ's management API, HAProxy's stats page and admin socket).
"""
from __future__ import annotations

import re
import socket
import tempfile
import threading
from pathlib import Path

REQUEST_LINE = re.compile(rb"(?m)^([A-Z]+) (\S+) HTTP/1\.[01]\r$")


class Relay:
    def __init__(self, target: tuple[str, int] | str | Path) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._sent: list[bytearray] = []
        if isinstance(target, tuple):
            self._listener = socket.socket()
            self._listener.bind(("127.0.0.1", 0))
            self.port = self._listener.getsockname()[1]
        else:
            self._dir = tempfile.mkdtemp(prefix="hatui-relay-")
            self.path = str(Path(self._dir) / "relay.sock")
            self._listener = socket.socket(socket.AF_UNIX)
            self._listener.bind(self.path)
        self._listener.listen(64)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _connect(self) -> socket.socket:
        if isinstance(self.target, tuple):
            return socket.create_connection(self.target, timeout=10)
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(str(self.target))
        return s

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            record = bytearray()
            with self._lock:
                self._sent.append(record)
            try:
                server = self._connect()
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, server, record), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, None), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, record: bytearray | None) -> None:
        src.settimeout(None)
        try:
            while data := src.recv(65536):
                if record is not None:
                    with self._lock:
                        record.extend(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def sent(self) -> list[bytes]:
        with self._lock:
            return [bytes(r) for r in self._sent]

    def http_requests(self) -> list[tuple[str, str]]:
        """(method, path) of every HTTP/1.x request the clients sent."""
        return [(m.decode(), p.decode()) for conn in self.sent() for m, p in REQUEST_LINE.findall(conn)]

    def close(self) -> None:
        self._closed = True
        self._listener.close()
