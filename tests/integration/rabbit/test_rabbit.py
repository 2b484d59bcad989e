"""hatui against a real 3-node RabbitMQ cluster with real faults: what the operator sees.

Each test starts from a healthy cluster (the fixture resets it), injects one fault through
tests/lab/rabbit.py (SIGKILL, stop_app, a distribution disconnect, a node frozen past
net_ticktime, memory and disk alarms, a quorum queue losing a replica), and asserts the findings
hatui reports through its real faces (``watch`` events, ``check --json``) on the right node, then
that recovery clears them.
Detection times are measured in bench/rabbit.py, not asserted here.
"""
from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.integration.hatui_proc import check_json
from tests.integration.rabbit.capture import QUORUM_QUEUE, declare_quorum_queue, delete_quorum_queue
from tests.integration.rabbit.conftest import CLUSTER, rabbit_toml
from tests.lab import rabbit as rabbit_lab

pytestmark = [pytest.mark.lab, pytest.mark.timeout(300)]

SPOFS_1_2 = {"rabbitmq.spof:mq-1", "rabbitmq.spof:mq-2"}


def finding_ids(doc: dict) -> set[str]:
    return {f["id"] for f in doc["findings"]}


def canary_connections(lab: rabbit_lab.Lab) -> list[dict]:
    """hatui canary connections the cluster holds now (as the lab's administrator sees them)."""
    conns = lab.api(1, "/api/connections?columns=name,state,client_properties.connection_name")
    return [c for c in conns if str(c.get("client_properties", {}).get("connection_name", "")).startswith("hatui")]


def test_healthy_cluster_is_ok(rabbit_healthy, rabbit_config, env):
    rc, doc = check_json(rabbit_config, env)
    assert (rc, doc["status"], doc["findings"]) == (0, "ok", [])


def test_sigkill_names_the_dead_node_from_its_peers_then_spofs_then_recovery(rabbit_healthy, rabbit_config,
                                                                              watcher_factory, env):
    w = watcher_factory(rabbit_config)
    w.wait_quiet(20)
    t0 = time.monotonic()
    rabbit_healthy.kill(3)
    _, ev = w.wait_opened("rabbitmq.unreachable:mq-3", 10, after=t0)
    # a poll in flight at the kill can end otherwise (reset); from then on every poll is refused
    assert ev["finding"]["summary"].startswith("mq-3: management API: "), ev["finding"]["summary"]
    now = {f["id"]: f for f in check_json(rabbit_config, env)[1]["findings"]}
    assert now["rabbitmq.unreachable:mq-3"]["summary"] == "mq-3: management API: connection refused"
    _, ev = w.wait_opened("rabbitmq.not_running:mq-3", 10, after=t0)
    # named by its peers' view (which of them had polled first is a race; the summary grows as they do)
    assert ev["finding"]["summary"].startswith("mq-3: not running, as seen by mq-")
    assert ev["finding"]["severity"] == "critical"
    w.wait_opened("rabbitmq-amqp.unreachable:mq-3", 10, after=t0)
    for fid in SPOFS_1_2:
        _, ev = w.wait_opened(fid, 10, after=t0)
        assert ev["finding"]["kind"] == "spof"
    # a fresh `check` names the dead node too, though it never heard mq-3 say its own name
    rc, doc = check_json(rabbit_config, env)
    assert rc == 2
    assert {"rabbitmq.not_running:mq-3", "rabbitmq.size:" + CLUSTER, "rabbitmq.unreachable:mq-3"} | SPOFS_1_2 \
        <= finding_ids(doc)
    (f,) = [f for f in doc["findings"] if f["id"] == "rabbitmq.not_running:mq-3"]
    assert f["summary"] == "mq-3: not running, as seen by mq-1, mq-2; management API: connection refused"
    t1 = time.monotonic()
    rabbit_healthy.start(3)
    for fid in {"rabbitmq.unreachable:mq-3", "rabbitmq.not_running:mq-3"} | SPOFS_1_2:
        w.wait_cleared(fid, 60, after=t1)
    w.wait_quiet(30)


def test_stop_app_is_a_node_not_running_with_its_api_refused(rabbit_healthy, rabbit_config, watcher_factory, env):
    w = watcher_factory(rabbit_config)
    w.wait_quiet(20)
    t0 = time.monotonic()
    rabbit_healthy.stop_app(3)
    _, ev = w.wait_opened("rabbitmq.not_running:mq-3", 15, after=t0)
    assert ev["finding"]["summary"].startswith("mq-3: not running, as seen by mq-")
    w.wait_opened("rabbitmq.unreachable:mq-3", 15, after=t0)  # while stopping, its API answers 404 a moment
    w.wait_opened("rabbitmq.size:" + CLUSTER, 10, after=t0)
    (f,) = [f for f in check_json(rabbit_config, env)[1]["findings"] if f["id"] == "rabbitmq.unreachable:mq-3"]
    assert f["summary"] == "mq-3: management API: connection refused"
    rabbit_healthy.start_app(3)
    w.wait_quiet(60)


def _sides(summary: str) -> list[set[str]]:
    m = re.search(r"network partition: (.*?), reported by", summary)
    assert m, summary
    return [set(side.split(", ")) for side in m.group(1).split(" | ")]


def test_partition_is_one_finding_naming_both_sides(rabbit_healthy, rabbit_config, watcher_factory, env):
    w = watcher_factory(rabbit_config)
    w.wait_quiet(20)
    t0 = time.monotonic()
    try:
        reported = rabbit_healthy.partition(3)
        _, ev = w.wait_opened(f"rabbitmq.partition:{CLUSTER}", 30, after=t0)
        assert ev["finding"]["severity"] == "critical"
        # which side ends up alone is a race (lab docstring): it is the node the others list
        mentions = {k: sum(k in ps for ps in reported.values()) for k in rabbit_lab.NODES}
        alone = max(mentions, key=mentions.get)
        rc, doc = check_json(rabbit_config, env)
        (f,) = [f for f in doc["findings"] if f["id"] == f"rabbitmq.partition:{CLUSTER}"]
        assert sorted(_sides(f["summary"]), key=len) == [{f"mq-{alone}"}, {f"mq-{k}" for k in rabbit_lab.NODES
                                                                           if k != alone}]
        # each side sees the other "not running", but both answer: no node is reported as crashed
        assert not any(i.startswith("rabbitmq.not_running") for i in finding_ids(doc))
        assert {f"rabbitmq.spof:mq-{k}" for k in rabbit_lab.NODES if k != alone} <= finding_ids(doc)
    finally:
        t1 = time.monotonic()
        rabbit_healthy.heal()
    w.wait_cleared(f"rabbitmq.partition:{CLUSTER}", 60, after=t1)
    w.wait_quiet(60)


def test_frozen_node_never_stalls_the_others_and_is_dropped_after_net_ticktime(rabbit_healthy, rabbit_config,
                                                                                watcher_factory, env):
    w = watcher_factory(rabbit_config)
    w.wait_quiet(20)
    t0 = time.monotonic()
    rabbit_healthy.freeze(3)
    try:
        w.wait_opened("rabbitmq.slow:mq-3", 10, after=t0)  # shown while its poll still hangs
        _, ev = w.wait_opened("rabbitmq.unreachable:mq-3", 10, after=t0)
        assert ev["finding"]["summary"] == "mq-3: management API: no answer within 1 s"
        # the peers answer at once; their cluster view waits for mq-3: reported as such, steadily
        t_check = time.monotonic()
        rc, doc = check_json(rabbit_config, env, timeout=30)
        assert time.monotonic() - t_check < 10
        assert "rabbitmq.unreachable:mq-3" in finding_ids(doc)
        assert not {"rabbitmq.unreachable:mq-1", "rabbitmq.unreachable:mq-2"} & finding_ids(doc)
        # once net_ticktime (10 s in the lab) has passed, the peers drop it
        _, ev = w.wait_opened("rabbitmq.not_running:mq-3", 40, after=t0)
        assert ev["finding"]["summary"].startswith("mq-3: not running, as seen by mq-")
        for fid in SPOFS_1_2:
            w.wait_opened(fid, 10, after=t0)
        opened = [e["finding"]["id"] for t, e in w.events if t >= t0 and e["event"] == "opened"]
        # a live node's data never went stale, and its poll never hung: no slow/stale flapping
        assert not [i for i in opened if re.match(r"rabbitmq\.(stale|slow|unreachable):mq-[12]$", i)], opened
    finally:
        t1 = time.monotonic()
        rabbit_healthy.thaw(3)
    w.wait_cleared("rabbitmq.unreachable:mq-3", 30, after=t1)
    # thawed past net_ticktime, it comes back partitioned (cluster_partition_handling = ignore)
    _, ev = w.wait_opened(f"rabbitmq.partition:{CLUSTER}", 40, after=t1)
    assert "mq-3" in ev["finding"]["summary"]
    # hatui can see the partition (running flags) before RabbitMQ lists it; the lab heals what RabbitMQ
    # lists, so wait for that first (a CI dry run healed too early and the partition stayed)
    rabbit_healthy.wait_for(lambda: any(rabbit_healthy.partitions().values()), 40, what="RabbitMQ lists it")
    rabbit_healthy.heal()
    rabbit_healthy.wait_for(rabbit_healthy.healthy, 120, what="the lab healed")
    w.wait_quiet(60)


def test_memory_alarm_blocks_publishers_and_the_canary_leaves_nothing_behind(rabbit_healthy, rabbit_config,
                                                                             watcher_factory):
    w = watcher_factory(rabbit_config)
    w.wait_quiet(20)
    t0 = time.monotonic()
    rabbit_healthy.alarm("memory", 2)
    try:
        _, ev = w.wait_opened("rabbitmq.mem_alarm:mq-2", 15, after=t0)
        # figures are added once the node's stats agree with its alarm (they lag it by ~1 s)
        assert re.fullmatch(r"mq-2: memory alarm( \(\d+ MB used, watermark \d+ MB\))?: publishers blocked "
                            r"cluster-wide", ev["finding"]["summary"]), ev["finding"]["summary"]
        _, ev = w.wait_opened(f"rabbitmq.publishers_blocked:{CLUSTER}", 15, after=t0)
        assert "low on memory" in ev["finding"]["summary"]
        time.sleep(6)  # three more canary rounds: each node's blocked connection is kept, none added
        assert len(canary_connections(rabbit_healthy)) <= 3
    finally:
        t1 = time.monotonic()
        rabbit_healthy.clear_alarms()
    w.wait_cleared("rabbitmq.mem_alarm:mq-2", 20, after=t1)
    w.wait_cleared(f"rabbitmq.publishers_blocked:{CLUSTER}", 20, after=t1)
    w.wait_quiet(20)
    w.stop()
    rabbit_healthy.wait_for(lambda: not canary_connections(rabbit_healthy), 15, "canary connections to close")


def test_disk_alarm_names_the_node(rabbit_healthy, rabbit_config, env):
    rabbit_healthy.alarm("disk", 1)
    try:
        rc, doc = check_json(rabbit_config, env)
        assert rc == 2
        (f,) = [f for f in doc["findings"] if f["id"] == "rabbitmq.disk_alarm:mq-1"]
        assert re.fullmatch(r"mq-1: disk alarm( \(.* free, limit .*\))?: publishers blocked cluster-wide", f["summary"])
    finally:
        rabbit_healthy.clear_alarms()


def test_wrong_password_is_auth_failure_and_never_shown(rabbit_healthy, rabbit_config, env):
    bad = dict(env, HATUI_LAB_RABBIT_PW="Wrong-Secret-1234", HATUI_LAB_RABBIT_CANARY_PW="Wrong-Canary-5678")
    rc, doc = check_json(rabbit_config, bad)
    assert rc == 2
    by_id = {f["id"]: f for f in doc["findings"]}
    assert by_id["rabbitmq.unreachable:mq-1"]["summary"] == "mq-1: management API: credentials refused (401)"
    assert by_id["rabbitmq-amqp.unreachable:mq-1"]["summary"] == "mq-1: AMQP canary: credentials refused"
    assert "Wrong-Secret-1234" not in str(doc) and "Wrong-Canary-5678" not in str(doc)


def test_monitor_account_needs_no_vhost_rights(rabbit_healthy, tmp_path, env):
    """The README's least-privilege claim: the monitoring tag alone reads everything hatui polls."""
    perms = httpx.get(rabbit_healthy.url(1, f"/api/users/{rabbit_lab.MONITOR_USER}/permissions"),
                      auth=(rabbit_lab.ADMIN_USER, rabbit_lab.ADMIN_PASSWORD), timeout=5, trust_env=False).json()
    assert perms == []
    config = tmp_path / "hatui.toml"
    config.write_text(rabbit_toml())
    assert check_json(config, env)[1]["status"] == "ok"


def test_quorum_queue_makes_each_survivor_quorum_critical(rabbit_healthy, rabbit_config, watcher_factory):
    """RabbitMQ's own node-is-quorum-critical check: with one of a quorum queue's 3 replicas gone, losing
    either survivor would leave the queue without a majority: each is a SPOF naming the queue."""
    declare_quorum_queue(rabbit_healthy)
    try:
        w = watcher_factory(rabbit_config)
        w.wait_quiet(20)
        t0 = time.monotonic()
        rabbit_healthy.kill(3)
        for n in (1, 2):
            _, ev = w.wait_opened(f"rabbitmq.quorum_critical:mq-{n}", 20, after=t0)
            assert ev["finding"]["kind"] == "spof"
            assert ev["finding"]["summary"] == (f"mq-{n}: stopping it would leave quorum queues without a majority: "
                                                f"{QUORUM_QUEUE}")
        t1 = time.monotonic()
        rabbit_healthy.start(3)
        for n in (1, 2):
            w.wait_cleared(f"rabbitmq.quorum_critical:mq-{n}", 60, after=t1)
    finally:
        delete_quorum_queue(rabbit_healthy)
