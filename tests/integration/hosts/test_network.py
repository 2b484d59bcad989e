"""hatui against the hosts lab's network: hosts in namespaces behind a bridge, with real faults (iptables DROP
and REJECT inside a host, a link down, a hung or dead service, the jump host's own link down).

``dual`` is a host with two links (hostA's and hostB's addresses): a fault on hostB leaves it on its last.
"""
from __future__ import annotations

import time

import pytest

from tests.integration.hatui_proc import check_json
from tests.integration.hosts.conftest import bridge

pytestmark = pytest.mark.lab

SETTLE = 2.0  # s for hatui watch to start and poll every target once: a healthy lab opens nothing
SEEN = 10     # s: network targets poll every 0.5 s with 0.5 s probes; generous against a loaded CI machine


@pytest.mark.parametrize("fault, way", [
    ("blackhole", "no answer (timeout): blackholed (DROP), down, or cut off"),
    ("reject", "refused: something rejects every probe (firewall REJECT, or its services are down)"),
])
def test_iptables_faults_say_which_way_the_host_fails(lab, write_config, watch, fault, way):
    w = watch(write_config(dual=True))
    time.sleep(SETTLE)
    w.wait_quiet(SEEN)
    t0 = time.monotonic()
    getattr(lab, fault)("hostB", True)
    _, ev = w.wait_opened("hosts.unreachable:hostB", SEEN, after=t0)
    assert ev["finding"]["summary"] == f"hostB: management network unreachable: 10.213.0.12 {way}"
    _, ev = w.wait_opened("hosts.link_down:dual", SEEN, after=t0)
    assert ev["finding"]["kind"] == "spof"
    assert ev["finding"]["summary"].startswith("dual: on its last link (10.213.0.11): 10.213.0.12 ")
    t1 = time.monotonic()
    getattr(lab, fault)("hostB", False)
    w.wait_cleared("hosts.unreachable:hostB", SEEN, after=t1)
    w.wait_cleared("hosts.link_down:dual", SEEN, after=t1)
    w.wait_quiet(SEEN)


def test_link_down_is_unreachable_and_clears_when_the_link_is_back(lab, write_config, watch, hosts_env):
    w = watch(write_config(dual=True))
    time.sleep(SETTLE)
    t0 = time.monotonic()
    lab.link("hostB", False)
    _, ev = w.wait_opened("hosts.unreachable:hostB", SEEN, after=t0)
    # first the connects time out (warm ARP entry), then the neighbour fails: EHOSTUNREACH (lab: ~2-3 s)
    assert ev["finding"]["summary"].startswith("hostB: management network unreachable: 10.213.0.12 ")
    w.wait_opened("hosts.link_down:dual", SEEN, after=t0)
    rc, doc = check_json(write_config(dual=True), hosts_env)
    assert rc == 2 and {"hosts.unreachable:hostB", "hosts.link_down:dual"} <= {f["id"] for f in doc["findings"]}
    t1 = time.monotonic()
    lab.link("hostB", True)
    w.wait_cleared("hosts.unreachable:hostB", SEEN, after=t1)
    w.wait_cleared("hosts.link_down:dual", SEEN, after=t1)


@pytest.mark.parametrize("how, words", [
    ("stop", "hostA: 10.213.0.11 tcp/22 accepts but says nothing (no banner within 0.5 s) (the host itself answers)"),
    ("kill", "hostA: 10.213.0.11 tcp/22 refused (the host itself answers)"),
])
def test_a_hung_or_dead_service_on_a_live_host(lab, write_config, watch, how, words):
    w = watch(write_config())
    time.sleep(SETTLE)
    t0 = time.monotonic()
    lab.stop_listener("hostA", how)
    _, ev = w.wait_opened("hosts.service_down:hostA", SEEN, after=t0)
    assert ev["finding"]["summary"] == words and ev["finding"]["severity"] == "warning"
    assert "hosts.unreachable:hostA" not in w.open_ids()
    t1 = time.monotonic()
    lab.start_listener("hostA")
    w.wait_cleared("hosts.service_down:hostA", SEEN, after=t1)


def test_jump_uplink_down_is_said_once_instead_of_every_host_dead(lab, write_config, watch):
    w = watch(write_config(dual=True))
    time.sleep(SETTLE)
    t0 = time.monotonic()
    bridge(False)
    try:
        _, ev = w.wait_opened("hosts.uplink_down:jump", SEEN, after=t0)
        assert ev["finding"]["summary"].startswith(
            "jump: the jump host's own link to the management network is down (br-hatui down)")
        time.sleep(3.0)  # several network polls, every one of them failing
        assert not any(fid.startswith("hosts.unreachable:") for fid in w.open_ids())
        assert w.open_ids() == {"hosts.uplink_down:jump"}
    finally:
        t1 = time.monotonic()
        bridge(True)
    w.wait_cleared("hosts.uplink_down:jump", SEEN, after=t1)
    w.wait_quiet(SEEN)


def test_without_watched_links_every_host_silent_is_one_finding(lab, write_config, hosts_env):
    bridge(False)
    try:
        rc, doc = check_json(write_config(dual=True, interfaces=()), hosts_env)
    finally:
        bridge(True)
    ids = {f["id"] for f in doc["findings"]}
    assert "hosts.none_reachable:jump" in ids
    assert not any(i.startswith("hosts.unreachable:") for i in ids)
