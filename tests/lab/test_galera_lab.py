"""The Galera lab's faults are real: what the surviving nodes report changes (~30 s with the lab up)."""
from __future__ import annotations

import pymysql
import pytest

from .fixtures import lab_fixtures
from .galera import CLIENT_HOST, CLIENT_PORTS, MONITOR_PASSWORD, MONITOR_USER, Lab

pytestmark = pytest.mark.lab


def size(value: str):
    return lambda s: s["wsrep_cluster_size"] == value


def healthy(s) -> bool:
    return (s["wsrep_cluster_size"] == "3" and s["wsrep_local_state_comment"] == "Synced"
            and s["wsrep_cluster_status"] == "Primary")


lab, clean = lab_fixtures(Lab)


def monitor_status(port: int) -> dict[str, str]:
    conn = pymysql.connect(host=CLIENT_HOST, port=port, user=MONITOR_USER, password=MONITOR_PASSWORD,
                           connect_timeout=2, read_timeout=2, write_timeout=2)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS LIKE 'wsrep%'")
            return dict(cur.fetchall())
    finally:
        conn.close()


def test_healthy_and_monitor_account_is_usage_only(lab):
    assert [n[0] for n in lab.nodes()] == ["node1", "node2", "node3"]
    for name, host, port in lab.nodes():
        s = monitor_status(port)
        assert healthy(s), (name, s)
        assert s["wsrep_incoming_addresses"].count(host) == 3
    conn = pymysql.connect(host=CLIENT_HOST, port=CLIENT_PORTS[1], user=MONITOR_USER,
                           password=MONITOR_PASSWORD, connect_timeout=2, read_timeout=2)
    try:
        with conn.cursor() as cur, pytest.raises(pymysql.err.OperationalError):
            cur.execute("SELECT user FROM mysql.user")
    finally:
        conn.close()


def test_kill_then_start(lab):
    lab.kill(3)
    assert lab.status_vars(3) is None
    with pytest.raises(pymysql.err.OperationalError):
        monitor_status(CLIENT_PORTS[3])
    lab.wait_for(size("2"), nodes=(1, 2), timeout=15)
    lab.start(3)
    lab.wait_for(healthy, timeout=20)


def test_freeze_then_thaw(lab):
    lab.freeze(3)
    assert lab.frozen(3)
    done = lab.wait_for(size("2"), nodes=(1, 2), timeout=15)
    assert all(s["wsrep_cluster_status"] == "Primary" for s in done.values())
    with pytest.raises(pymysql.err.OperationalError):  # accepted by the kernel, never answered
        monitor_status(CLIENT_PORTS[3])
    lab.thaw(3)
    lab.wait_for(healthy, timeout=30)


def test_isolate_then_heal(lab):
    lab.isolate(3)
    lab.wait_for(size("2"), nodes=(1, 2), timeout=15)
    lab.wait_for(lambda s: s["wsrep_cluster_status"] == "non-Primary", nodes=(3,), timeout=15)
    # the client port of the isolated node still answers: it is partitioned, not down
    assert monitor_status(CLIENT_PORTS[3])["wsrep_ready"] == "OFF"
    lab.heal()
    lab.wait_for(healthy, timeout=30)


def test_desync_and_clean_stop(lab):
    lab.desync(2)
    lab.wait_for(lambda s: s["wsrep_local_state_comment"] == "Donor/Desynced", nodes=(2,), timeout=5)
    lab.reset()
    assert lab.status_vars(2)["wsrep_local_state_comment"] == "Synced"
    lab.stop(3)
    lab.wait_for(size("2"), nodes=(1, 2), timeout=10)
