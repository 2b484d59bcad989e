"""The cloud lab's own claims (tests/lab/cloud.py): guard routes, no way out of the namespaces, a power cut
kills every process of its host at once, a feed's BMCs report Off, a switch cuts exactly its hosts.

Opt-in like tests/integration/cloud: runs only with ``HATUI_LAB_CLOUD=1``."""
from __future__ import annotations

import os

import pytest

from tests.lab import cloud
from tests.lab.common import port_open, run, wait_until
from tests.lab.fixtures import lab_fixtures

pytestmark = [pytest.mark.lab, pytest.mark.cloud,
              pytest.mark.skipif(os.environ.get("HATUI_LAB_CLOUD") != "1", reason="opt-in: HATUI_LAB_CLOUD=1")]

lab, clean = lab_fixtures(cloud.Lab)


def test_guard_route_and_no_way_out(lab):
    out = run(["ip", "route", "show", "exact", cloud.CIDR]).stdout
    assert "unreachable" in out and f"metric {cloud.GUARD_METRIC}" in out
    for h in cloud.HOSTS.values():
        routes = run(["ip", "-n", h.netns, "route", "show"]).stdout
        assert "default" not in routes, routes
        probe = run(["ip", "netns", "exec", h.netns, "ip", "route", "get", "192.0.2.1"], check=False)
        assert probe.returncode != 0  # Network is unreachable: nothing leaves through a namespace


def test_hosts_reach_each_other_by_name(lab):
    out = run(["ip", "netns", "exec", "hc-ctl-1", "getent", "hosts", "ctl-2"]).stdout
    assert out.split()[0] == cloud.HOSTS["ctl-2"].address


def test_power_off_through_ipmi_kills_every_process_at_once(lab):
    h = cloud.HOSTS["ctl-2"]
    assert len(cloud._ns_pids(h.netns)) >= 3
    lab.power(h.name, False)
    lab.wait_power(h.name, False)
    assert cloud._ns_pids(h.netns) == []
    assert not port_open(h.address, cloud.SSH_PORT, 0.5)
    lab.power(h.name, True)
    lab.wait_power(h.name, True)
    wait_until(lambda: port_open(h.address, cloud.SSH_PORT, 0.5), 20, what="ctl-2 booted")


def test_feed_off_bmcs_report_off(lab):
    lab.feed("pdu-b", False)
    for name in ("ctl-3", "cmp-1"):
        lab.wait_power(name, False)
        assert cloud.HostPower.bmc_on(cloud.HOSTS[name]) is False
    assert cloud.HostPower.booted(cloud.HOSTS["ctl-1"]) and cloud.HostPower.booted(cloud.HOSTS["ctl-2"])


def test_switch_down_cuts_exactly_its_hosts(lab):
    lab.switch("sw-2", False)
    wait_until(lambda: not port_open("10.216.2.12", 22, 0.3) and not port_open("10.216.2.21", 22, 0.3), 10)
    assert port_open("10.216.1.11", 22, 1) and port_open("10.216.1.13", 22, 1)
