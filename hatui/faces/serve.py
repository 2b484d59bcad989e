"""``hatui serve``: headless live run for Prometheus and other machines.

``/metrics``  Prometheus text (or OpenMetrics, by the scraper's Accept header): hatui.faces.metrics
``/check``    the JSON ``check --json`` prints, for the latest assessment
``/``         a short index

The HTTP server runs in its own threads and only reads the latest assessment, an immutable value the
poll loop swaps whole: a slow scraper never delays a poll, and a frozen server never delays a scrape.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.exposition import choose_encoder

from hatui.config import Config
from hatui.config.maintenance import Maintenance
from hatui.faces.check import check_doc
from hatui.faces.metrics import AssessmentCollector, PollCounts
from hatui.faces.watch import follow
from hatui.feed import LiveFeed
from hatui.model import Observation, Severity
from hatui.monitor import Assessment, Monitor
from hatui.sources import build_sources

INDEX = b"hatui serve\n/metrics  Prometheus metrics\n/check    check --json of the latest assessment\n"
CLIENT_TIMEOUT = 10.0  # seconds a scraper may take to send its request: a stuck client holds one thread, briefly


class ListenError(ValueError):
    """``--listen`` is not HOST:PORT."""


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT`` or ``:PORT`` (every address, as node_exporter reads it)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ListenError(f"--listen {text!r}: expected HOST:PORT, [IPV6]:PORT or :PORT, with a port 1-65535")
    bracketed = host.startswith("[") and host.endswith("]")
    host = host[1:-1] if bracketed else host
    if bracketed or ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise ListenError(f"--listen {text!r}: {host!r} is not an IPv6 address") from exc
    return host, int(port)


class Exposed:
    """The latest assessment and poll counts, swapped whole under a lock (read by the HTTP threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._assessment: Assessment | None = None
        self._polls: dict[tuple[str, str], int] = {}
        self._errors: dict[tuple[str, str, str], int] = {}
        self._counts = PollCounts()

    def observed(self, obs: Observation) -> None:
        self._polls[obs.key] = self._polls.get(obs.key, 0) + 1
        if obs.failure is not None:
            k = (*obs.key, obs.failure.kind.value)
            self._errors[k] = self._errors.get(k, 0) + 1

    def assessed(self, a: Assessment) -> None:
        counts = PollCounts(dict(self._polls), dict(self._errors))
        with self._lock:
            self._assessment, self._counts = a, counts

    def latest(self) -> tuple[Assessment | None, PollCounts]:
        with self._lock:
            return self._assessment, self._counts


def make_server(address: tuple[str, int], exposed: Exposed) -> ThreadingHTTPServer:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AssessmentCollector(exposed.latest))
    ProcessCollector(namespace="hatui", registry=registry)  # hatui's own CPU and memory: it runs for days

    class Handler(BaseHTTPRequestHandler):
        timeout = CLIENT_TIMEOUT
        server_version = "hatui"
        sys_version = ""

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
                self._send(200, content_type, encoder(registry))
            elif path == "/check":
                a, _ = exposed.latest()
                self._send(200, "application/json", (json.dumps(check_doc(a), indent=2) + "\n").encode())
            elif path == "/":
                self._send(200, "text/plain; charset=utf-8", INDEX)
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
            pass  # one line per scrape would bury what matters on stderr

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        daemon_threads = True

    return Server(address, Handler)


def run_serve(config: Config, listen: str, maintenance: Maintenance | None = None) -> int:
    try:
        host, port = parse_listen(listen)
        server = make_server((host, port), exposed := Exposed())
    except ListenError as exc:
        print(f"hatui: {exc}", file=sys.stderr)
        return Severity.UNKNOWN.exit_code  # hatui's own error, as the CLI's
    except OSError as exc:
        print(f"hatui: cannot listen on {listen}: {exc.strerror or exc}", file=sys.stderr)
        return Severity.UNKNOWN.exit_code
    threading.Thread(target=server.serve_forever, name="hatui-serve-http", daemon=True).start()
    print(f"hatui: serving /metrics and /check on {listen}", file=sys.stderr)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        monitor = Monitor(config, started_at=time.time(), maintenance=maintenance.names if maintenance else None)
        await follow(monitor, LiveFeed(build_sources(config)), time.time, exposed.assessed, stop,
                     on_observation=exposed.observed)  # until stopped, an empty config too (UNKNOWN)

    try:
        asyncio.run(run())
    finally:
        server.shutdown()
        server.server_close()
    return 0
