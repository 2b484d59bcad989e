"""RabbitMQ sources against local stand-ins: a management API that is slow or frozen, closed ports.

What is asserted is what the poller relies on: a slow cluster view never holds a poll past a
fraction of its timeout (the last view comes along with its age), a frozen or closed node fails
in its timeout with words an operator reads, and nothing is left running.
"""
from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from hatui.model import FailureKind
from hatui.model.rabbitmq import parse_management
from hatui.sources import build_sources
from hatui.sources.rabbitmq import GRACE, RabbitManagementSource
from hatui.sources.rabbitmq_amqp import RabbitCanarySource
from tests.fixtures_rabbit import FIXTURES, rabbit_config

CAPTURE = FIXTURES / "healthy"
ANSWERS = {
    "/api/nodes": json.loads((CAPTURE / "nodes.node1.json").read_text())["body"],
    "/api/overview": json.loads((CAPTURE / "overview.node1.json").read_text())["body"],
    "/api/health/checks/alarms": {"status": "ok"},
    "/api/health/checks/local-alarms": {"status": "ok"},
    "/api/health/checks/node-is-quorum-critical": {"status": "ok"},
}


class FakeManagementAPI:
    """An HTTP/1.1 server on loopback answering captured JSON, with a delay per path (``inf``: never)."""

    def __init__(self) -> None:
        self.delay: dict[str, float] = {}
        self.status: dict[str, int] = {}
        self.requests: list[str] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode().split("?")[0]
                self.requests.append(path)
                delay = self.delay.get(path, 0.0)
                await asyncio.sleep(3600 if delay == float("inf") else delay)
                status = self.status.get(path, 200)
                body = json.dumps(ANSWERS.get(path, {"error": "Object Not Found"})).encode()
                if path not in ANSWERS:
                    status = 404
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


def management_source(port: int, timeout: float = 1.0) -> RabbitManagementSource:
    config = rabbit_config(timeout=timeout)
    section = config.section("rabbitmq")
    section.nodes[0] = type(section.nodes[0])(name="mq-1", host="127.0.0.1", management_port=port)
    src = next(s for s in build_sources(config) if s.spec.key == ("rabbitmq", "mq-1"))
    assert isinstance(src, RabbitManagementSource)
    return src


async def test_slow_cluster_view_does_not_hold_the_poll_and_is_picked_up_later():
    api = FakeManagementAPI()
    src = management_source(await api.start())
    try:
        first = await src.poll()
        assert parse_management(first).nodes is not None
        api.delay["/api/nodes"] = 0.8  # a peer frozen: the cluster-wide endpoint waits, the node-local ones do not
        t0 = time.monotonic()
        slow = await src.poll()
        took = time.monotonic() - t0
        assert took < GRACE * 1.0 + 0.1  # below the generic "slow" mark (half the timeout): no flapping
        view = parse_management(slow)
        assert view.nodes is None and "no answer yet" in view.errors["nodes"]
        assert view.last_nodes is not None and len(view.last_nodes) == 3  # the last good view, with its time
        assert view.checks["local-alarms"].ok
        await asyncio.sleep(0.8)
        api.delay.clear()
        later = parse_management(await src.poll())
        assert later.nodes is not None and len(later.nodes) == 3
        assert api.requests.count("/api/nodes") == 2  # the slow request was reused, never stacked
    finally:
        await src.aclose()
        api.close()


async def test_frozen_node_fails_in_its_timeout_as_no_answer():
    api = FakeManagementAPI()
    port = await api.start()
    src = management_source(port, timeout=0.5)
    try:
        for path in ANSWERS:
            api.delay[path] = float("inf")
        t0 = time.monotonic()
        with pytest.raises(Exception) as err:
            await src.poll()
        assert time.monotonic() - t0 < 0.5 + 0.2
        f = src.classify(err.value)
        assert (f.kind, f.message) == (FailureKind.TIMEOUT, "management API: no answer within 0.5 s")
    finally:
        await src.aclose()
        api.close()


async def test_refused_credentials_and_failed_health_checks():
    api = FakeManagementAPI()
    src = management_source(await api.start())
    try:
        ANSWERS["/api/health/checks/alarms"] = {"status": "failed", "reason": "There are alarms in effect in the "
                                                "cluster", "alarms": [{"node": "rabbit2@localhost",
                                                                       "resource": "memory"}]}
        api.status["/api/health/checks/alarms"] = 503
        view = parse_management(await src.poll())
        assert view.checks["alarms"].alarms == (("rabbit2@localhost", "memory"),)
        api.status["/api/nodes"] = 401
        with pytest.raises(Exception) as err:
            await src.poll()
        f = src.classify(err.value)
        assert (f.kind, f.message) == (FailureKind.AUTH, "management API: credentials refused (401)")
    finally:
        ANSWERS["/api/health/checks/alarms"] = {"status": "ok"}
        await src.aclose()
        api.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_closed_management_port_is_refused():
    src = management_source(_free_port())
    try:
        with pytest.raises(Exception) as err:
            await src.poll()
        f = src.classify(err.value)
        assert (f.kind, f.message) == (FailureKind.REFUSED, "management API: connection refused")
    finally:
        await src.aclose()


def canary_source(port: int, timeout: float = 0.5) -> RabbitCanarySource:
    config = rabbit_config(canary=True, timeout=timeout)
    section = config.section("rabbitmq")
    section.nodes[0] = type(section.nodes[0])(name="mq-1", host="127.0.0.1", amqp_port=port)
    src = next(s for s in build_sources(config) if s.spec.key == ("rabbitmq-amqp", "mq-1"))
    assert isinstance(src, RabbitCanarySource)
    return src


def test_canary_on_a_closed_port_is_refused():
    src = canary_source(_free_port())
    with pytest.raises(Exception) as err:
        src.poll()
    f = src.classify(err.value)
    assert (f.kind, f.message) == (FailureKind.REFUSED, "AMQP canary: connection refused")


def test_canary_against_a_silent_listener_gives_up_in_its_timeout():
    """A frozen node: the kernel accepts the TCP connection, nobody speaks AMQP."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        src = canary_source(silent.getsockname()[1], timeout=0.5)
        t0 = time.monotonic()
        with pytest.raises(Exception) as err:
            src.poll()
        assert time.monotonic() - t0 < 0.5 * 2 + 0.3
    f = src.classify(err.value)
    assert (f.kind, f.message) == (FailureKind.TIMEOUT,
                                   "AMQP canary: no answer within 0.5 s to the AMQP handshake")
