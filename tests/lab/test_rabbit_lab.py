"""The RabbitMQ lab's faults are real: what the nodes report changes (~60 s with the lab up)."""
from __future__ import annotations

import time

import httpx
import pika
import pytest

from .fixtures import lab_fixtures
from .rabbit import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    CANARY_PASSWORD,
    CANARY_PERMISSIONS,
    CANARY_USER,
    HOST,
    MONITOR_PASSWORD,
    MONITOR_USER,
    NODES,
    Lab,
    amqp_port,
    node_name,
)

pytestmark = [pytest.mark.lab, pytest.mark.timeout(150)]


lab, clean = lab_fixtures(Lab)


def seen(lab: Lab, by: int, n: int, field: str = "running", auth=(MONITOR_USER, MONITOR_PASSWORD)):
    """Field ``field`` of node n in node ``by``'s /api/nodes, as the monitor user gets it."""
    return next(x.get(field) for x in lab.api(by, "/api/nodes", auth=auth, timeout=5) if x["name"] == node_name(n))


def connect(port: int, user: str, password: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.ConnectionParameters(
        HOST, port, "/", pika.PlainCredentials(user, password), connection_attempts=1, socket_timeout=3,
        stack_timeout=5, blocked_connection_timeout=30))


def canary_roundtrip(port: int = 5672, queue: str = "") -> bytes:
    """What the product's AMQP canary does: server-named exclusive queue, publish via "", consume back."""
    conn = connect(port, CANARY_USER, CANARY_PASSWORD)
    try:
        ch = conn.channel()
        q = ch.queue_declare(queue, exclusive=True).method.queue
        ch.basic_publish("", q, b"canary")
        got: list[bytes] = []
        ch.basic_consume(q, lambda _ch, _m, _p, body: got.append(body), auto_ack=True)
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            conn.process_data_events(0.1)
        return got[0] if got else b""
    finally:
        if conn.is_open:
            conn.close()


def test_healthy_users_and_monitor_access(lab):
    assert [n[0] for n in lab.nodes()] == [node_name(n) for n in NODES]
    for n in NODES:
        assert all(seen(lab, n, k) for k in NODES)
        assert seen(lab, n, n, "partitions") == []
    # the monitor user reads the cluster-wide API but has no vhost access (no AMQP, no aliveness test)
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError):
        connect(amqp_port(1), MONITOR_USER, MONITOR_PASSWORD)
    r = httpx.get(lab.url(1, "/api/aliveness-test/%2F"), auth=(MONITOR_USER, MONITOR_PASSWORD), timeout=5,
                  trust_env=False)
    assert r.status_code == 401


def test_canary_permissions_are_least(lab):
    for n in NODES:
        assert canary_roundtrip(amqp_port(n)) == b"canary"
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
        canary_roundtrip(queue="hatui-named-queue")
    try:
        for k in ("configure", "write", "read"):  # drop any one right: the round trip is refused
            lab._api_send("PUT", f"/api/permissions/%2F/{CANARY_USER}", {**CANARY_PERMISSIONS, k: ""})
            with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
                canary_roundtrip()
    finally:
        lab._api_send("PUT", f"/api/permissions/%2F/{CANARY_USER}", CANARY_PERMISSIONS)
    assert canary_roundtrip() == b"canary"


def test_kill_is_seen_by_the_other_nodes(lab):
    lab.kill(3)
    lab.wait_for(lambda: not seen(lab, 1, 3) and not seen(lab, 2, 3), 15, "rabbit1/2 to see rabbit3 down")
    with pytest.raises(httpx.ConnectError):
        lab.api(3, "/api/overview", timeout=2)
    lab.start(3)
    assert all(seen(lab, k, 3) for k in NODES)


def test_memory_alarm_blocks_publishers(lab):
    lab.alarm("memory", 2)
    assert seen(lab, 1, 2, "mem_alarm") is True and seen(lab, 1, 1, "mem_alarm") is False
    r = httpx.get(lab.url(1, "/api/health/checks/alarms"), auth=(MONITOR_USER, MONITOR_PASSWORD), timeout=5,
                  trust_env=False)
    assert r.status_code == 503 and r.json()["alarms"] == [{"node": node_name(2), "resource": "memory"}]
    # a publisher on another node is blocked: the broker stops reading and says connection.blocked
    conn = connect(amqp_port(1), ADMIN_USER, ADMIN_PASSWORD)
    blocked: list[str] = []
    conn.add_on_connection_blocked_callback(lambda _c, frame: blocked.append(frame.method.reason))
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"x")
    deadline = time.monotonic() + 10
    while not blocked and time.monotonic() < deadline:
        conn.process_data_events(0.1)
    lab.clear_alarms()  # before close(): a blocked connection's close would wait for the broker
    conn.close()
    assert blocked == ["low on memory"]


def test_partition_is_reported(lab):
    parts = lab.partition(3)
    assert any(parts.values()), parts
    assert parts.get(3) == [1, 2], parts  # disconnecting from node 3's side isolates node 3
    assert any(seen(lab, k, k, "partitions") for k in NODES)
    lab.heal()
    assert not any(lab.partitions().values())
