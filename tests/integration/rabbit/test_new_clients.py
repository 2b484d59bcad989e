"""What a new client sees on the real RabbitMQ cluster (issue 13, item 5): hatui's kept connection to a
node's management API must not hide a node that turns new clients away, and ``check`` (always a new
client) names the same finding. The Galera cases are in tests/integration/test_galera.py.

What the lab showed (RabbitMQ 3.10.8, cowboy): hatui keeps ~5 HTTP connections per node alive between polls.

- A node that accepts no more connections (ranch's max_connections reached on the management listener:
  the kernel still completes the TCP handshake, nobody reads the request): the kept connections go on
  answering; only a new client sees it, and it gets no answer.
- A changed password: the management API checks basic auth on every request, so the kept connection is
  refused at once (401), in the same words as ``check``. Nothing is hidden there.
"""
from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.integration.hatui_proc import check_json, until
from tests.integration.rabbit.conftest import CLUSTER, rabbit_toml
from tests.lab import rabbit as rabbit_lab

pytestmark = [pytest.mark.lab, pytest.mark.timeout(180)]

FRESH_EVERY = 3  # s; with the 1 s interval a turned-away new client is seen within about 4 s


def finding_ids(doc: dict) -> set[str]:
    return {f["id"] for f in doc["findings"]}


def _config(tmp_path: Path, extra: str) -> Path:
    p = tmp_path / "fresh.toml"
    p.write_text(rabbit_toml(extra))
    return p


# ---- a node that accepts no more connections -----------------------------------------------------------

def _max_connections(lab: rabbit_lab.Lab, n: int, value: int | None = None) -> int:
    """ranch's limit on node n's management listener (found by its port), set to ``value`` if given: a
    runtime setting (rabbitmqctl eval, over Erlang distribution: it never needs the listener itself)."""
    port = rabbit_lab.mgmt_port(n)
    match = f"{{Ref, I}} <- maps:to_list(ranch:info()), maps:get(port, I) =:= {port}"
    if value is None:
        out = lab.eval(n, f"[maps:get(max_connections, I) || {match}].")
    else:
        out = lab.eval(n, f"[begin ranch:set_max_connections(Ref, {value}), {value} end || {match}].")
    got = out.strip("[]")
    assert got.isdigit(), f"rabbit{n}: management listener not found in ranch:info(): {out}"
    return int(got)


def _new_client_answered(n: int, sockets: list[socket.socket]) -> bool:
    """A new TCP client on node n's management port asks for the service root: answered (any status) or
    not within 1 s. Its socket is kept in ``sockets``: an accepted one holds a slot until closed."""
    s = socket.create_connection((rabbit_lab.HOST, rabbit_lab.mgmt_port(n)), timeout=1)
    sockets.append(s)
    s.sendall(f"GET /api/overview HTTP/1.1\r\nHost: {rabbit_lab.HOST}\r\n\r\n".encode())
    try:
        return bool(s.recv(12))
    except TimeoutError:
        return False


def _connected(w, n: int) -> bool:
    """hatui watch holds a connection to node n's management API (its kept client)."""
    port = rabbit_lab.mgmt_port(n)
    return any(c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
               for c in psutil.Process(w.proc.pid).net_connections("tcp"))


def test_a_management_api_accepting_no_new_connection_is_seen_past_the_kept_connection(rabbit_healthy, tmp_path,
                                                                                      watcher_factory, env):
    lab = rabbit_healthy
    config = _config(tmp_path, f"fresh_every = {FRESH_EVERY}\nclients_interval = 0\n")  # (mq-1's alone)
    w = watcher_factory(config)
    until(lambda: _connected(w, 1), 20, "hatui watch connected to mq-1's management API")
    w.wait_quiet(20)
    before = _max_connections(lab, 1)
    ballast: list[socket.socket] = []
    t0 = time.monotonic()
    _max_connections(lab, 1, 0)
    try:
        # ranch lets each of its acceptors take one more connection once the limit is reached, then none:
        # new clients are taken until one waits unanswered in the accept queue (the kernel's)
        until(lambda: not _new_client_answered(1, ballast), 30, "a new client of mq-1's management API unanswered")
        _, ev = w.wait_opened("rabbitmq.unreachable:mq-1", FRESH_EVERY + 1 + 10, after=t0)
        summary = ev["finding"]["summary"]
        assert summary.startswith("mq-1: a new client cannot get in: management API: no answer within 1 s; "
                                  "hatui's kept connection still worked "), summary
        assert ev["finding"]["severity"] == "critical"
        rc, doc = check_json(config, env)  # a new client too: the same finding
        f = next(f for f in doc["findings"] if f["id"] == "rabbitmq.unreachable:mq-1")
        assert f["summary"] == "mq-1: management API: no answer within 1 s" and rc == 2
        assert not finding_ids(doc) & {"rabbitmq.unreachable:mq-2", "rabbitmq.unreachable:mq-3"}
        assert not any(fid.startswith("rabbitmq-amqp.") for fid in finding_ids(doc))  # AMQP takes clients
    finally:
        t1 = time.monotonic()
        try:
            _max_connections(lab, 1, before)
        finally:
            for s in ballast:
                s.close()
    w.wait_cleared("rabbitmq.unreachable:mq-1", FRESH_EVERY + 10, after=t1)
    w.wait_quiet(30)


# ---- a changed password --------------------------------------------------------------------------------

# Long on purpose: the first poll is a new client's and the next one would be 30 s later, so for the whole
# test only the kept connection polls, and it alone must see the change (and the repair).
KEPT_ONLY = 30


def _monitor_status(n: int, password: str) -> int:
    """What node n's management API answers a new client logging in as hatui's account."""
    with contextlib.closing(httpx.Client(timeout=3, trust_env=False)) as c:
        return c.get(f"http://{rabbit_lab.HOST}:{rabbit_lab.mgmt_port(n)}/api/overview",
                     auth=(rabbit_lab.MONITOR_USER, password)).status_code


def test_a_changed_password_fails_the_kept_connection_at_once_and_check_agrees(rabbit_healthy, tmp_path,
                                                                               watcher_factory, env):
    lab, other = rabbit_healthy, "Other-Pw-5678"
    # the cluster's connection list read every 2 s (same account, its own kept client): seen too
    config = _config(tmp_path, f"fresh_every = {KEPT_ONLY}\nclients_interval = 2\n")
    w = watcher_factory(config)
    w.wait_quiet(20)
    t0 = time.monotonic()
    lab.ctl(1, "change_password", rabbit_lab.MONITOR_USER, other)  # users are cluster-wide
    try:
        until(lambda: all(_monitor_status(n, rabbit_lab.MONITOR_PASSWORD) == 401 for n in rabbit_lab.NODES), 10,
               "the old password refused on every node")
        for n in rabbit_lab.NODES:
            # well before a new client is due: the kept connection was refused itself, and says it plainly
            _, ev = w.wait_opened(f"rabbitmq.unreachable:mq-{n}", 10, after=t0)
            assert ev["finding"]["summary"] == f"mq-{n}: management API: credentials refused (401)", ev
            assert ev["finding"]["severity"] == "critical"
        _, ev = w.wait_opened(f"rabbitmq-clients.unreachable:{CLUSTER}", 10, after=t0)
        clients_words = f"{CLUSTER}: credentials refused: management API: /api/connections refused (401)"
        assert ev["finding"]["summary"] == clients_words
        assert time.monotonic() - t0 < KEPT_ONLY - 5  # (so no new client has polled since the start)
        rc, doc = check_json(config, env)
        assert rc == 2
        found = {f["id"]: f["summary"] for f in doc["findings"]}
        for n in rabbit_lab.NODES:
            assert found[f"rabbitmq.unreachable:mq-{n}"] == f"mq-{n}: management API: credentials refused (401)"
        assert found[f"rabbitmq-clients.unreachable:{CLUSTER}"] == clients_words
        assert not any(fid.startswith("rabbitmq-amqp.") for fid in found)  # the canary's account still works
        assert other not in str(doc) and other not in str(w.events)
    finally:
        t1 = time.monotonic()
        lab.ctl(1, "change_password", rabbit_lab.MONITOR_USER, rabbit_lab.MONITOR_PASSWORD)
        until(lambda: all(_monitor_status(n, rabbit_lab.MONITOR_PASSWORD) == 200 for n in rabbit_lab.NODES), 10,
               "the monitor password restored on every node")
    for n in rabbit_lab.NODES:
        w.wait_cleared(f"rabbitmq.unreachable:mq-{n}", 10, after=t1)  # the kept connection again, at once
    w.wait_cleared(f"rabbitmq-clients.unreachable:{CLUSTER}", 10, after=t1)
    w.wait_quiet(30)
