"""The hosts lab's faults are real: BMCs and the network change what a client sees (~30 s with the lab up)."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import httpx
import pytest

from .fixtures import lab_fixtures
from .hosts import BMC_PASSWORD, BMC_USER, BRIDGE, NET_CIDR, Lab, tcp_probe

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the hosts lab needs root (netns, iptables)"),
]


lab, clean = lab_fixtures(Lab)


def ping(addr: str) -> int:
    return subprocess.run(["ping", "-n", "-q", "-c1", "-W1", addr], capture_output=True, timeout=5).returncode


def test_default_state(lab):
    out = subprocess.run(
        ["ip", "route", "show", "exact", NET_CIDR], capture_output=True, text=True, timeout=5
    ).stdout
    assert f"dev {BRIDGE}" in out and "unreachable" in out and "metric 4000" in out
    for h in lab.hosts():
        assert tcp_probe(h["address"], 22, 1.0, read_banner=True)[0] == "banner"
        assert ping(h["address"]) == 0
        r = httpx.get(h["redfish_url"] + h["system_path"], auth=(BMC_USER, BMC_PASSWORD), timeout=5)
        assert r.status_code == 200 and r.json()["PowerState"] == "On" and r.json()["Id"] == h["system_id"]
        r = httpx.get(
            h["redfish_https_url"] + h["system_path"],
            auth=(BMC_USER, BMC_PASSWORD),
            verify=lab.ssl_context(),
            timeout=5,
        )
        assert r.status_code == 200 and r.json()["Name"] == h["name"]
        assert lab.ipmitool(h["name"], "chassis", "power", "status").stdout.strip() == "Chassis Power is on"


def test_redfish_auth_and_tls(lab):
    h = lab.hosts()[0]
    assert httpx.get(h["redfish_url"] + "/redfish/v1/Systems", timeout=5).status_code == 401
    assert (
        httpx.get(h["redfish_url"] + "/redfish/v1/Systems", auth=(BMC_USER, "nope"), timeout=5).status_code
        == 401
    )
    assert (
        httpx.get(h["redfish_url"] + "/redfish/v1/", timeout=5).status_code == 200
    )  # service root: anonymous
    with pytest.raises(httpx.ConnectError):  # self-signed lab CA: not trusted by default
        httpx.get(h["redfish_https_url"] + "/redfish/v1/", timeout=5)


def test_power_off_via_redfish_and_ipmi(lab):
    # hostA via Redfish (applied 0-11 s later) while hostB goes off via IPMI: in parallel to save time
    result = {}
    t = threading.Thread(
        target=lambda: result.setdefault(
            "waited", (lab.power("hostA", False), lab.wait_power("hostA", False))[1]
        )
    )
    t.start()
    lab.power("hostB", False, via="ipmi")
    r = lab.ipmitool("hostB", "chassis", "power", "status")
    assert (r.returncode, r.stdout.strip()) == (0, "Chassis Power is off")
    assert lab.power_state("hostC", "ipmi") is True
    t.join(20)
    assert "waited" in result, "Redfish power off never applied"
    assert lab.redfish("hostA").json()["PowerState"] == "Off"
    assert lab.redfish("hostA", https=True).json()["PowerState"] == "Off"  # same machine behind both doors
    assert lab.redfish("hostB").json()["PowerState"] == "On"  # Redfish and IPMI fakes are independent
    lab.reset()
    assert lab.power_state("hostA") and lab.power_state("hostB", "ipmi")


def test_frozen_bmcs(lab):
    lab.freeze_bmc("hostB", "ipmi")
    lab.freeze_bmc("hostC", "redfish")
    t0 = time.monotonic()
    r = lab.ipmitool("hostB", "chassis", "power", "status", retries=1, interval=1, timeout=10)
    assert r.returncode == 1 and "Unable to establish IPMI v2 / RMCP+ session" in r.stderr
    assert time.monotonic() - t0 < 5
    assert lab.power_state("hostA", "ipmi")  # the other BMCs still answer
    with pytest.raises(httpx.ReadTimeout):  # the kernel accepts, the emulator never answers
        lab.redfish("hostC", timeout=1)
    assert lab.redfish("hostB").status_code == 200
    lab.thaw_bmc("hostB", "ipmi")
    lab.thaw_bmc("hostC", "redfish")
    assert lab.power_state("hostB", "ipmi") and lab.power_state("hostC")


def test_wrong_ipmi_password(lab):
    r = lab.ipmitool("hostA", "chassis", "power", "status", password="wrong-password")
    assert r.returncode == 1 and "RMCP+" in r.stderr


def test_blackhole_times_out(lab):
    lab.blackhole("hostA", True)
    outcome, took = tcp_probe("10.213.0.11", 22, 1.0)
    assert outcome == "timeout" and took >= 0.9
    assert ping("10.213.0.11") != 0
    assert tcp_probe("10.213.0.12", 22, 1.0, read_banner=True)[0] == "banner"
    lab.blackhole("hostA", False)
    assert tcp_probe("10.213.0.11", 22, 1.0, read_banner=True)[0] == "banner"


def test_reject_is_refused(lab):
    lab.reject("hostB", True)
    outcome, took = tcp_probe("10.213.0.12", 22, 1.0)
    assert outcome == "ECONNREFUSED" and took < 0.5
    assert ping("10.213.0.12") != 0
    lab.reject("hostB", False)
    assert tcp_probe("10.213.0.12", 22, 1.0, read_banner=True)[0] == "banner"


def test_link_down_is_unreachable(lab):
    lab.link("hostC", False)
    outcome, _ = tcp_probe("10.213.0.13", 22, 1.0)
    assert outcome in ("timeout", "EHOSTUNREACH")
    assert ping("10.213.0.13") != 0
    lab.link("hostC", True)
    assert tcp_probe("10.213.0.13", 22, 1.0, read_banner=True)[0] == "banner"


def test_listener_stopped_and_killed(lab):
    lab.stop_listener("hostA")  # hung: the kernel completes the handshake, no banner
    assert tcp_probe("10.213.0.11", 22, 0.5, read_banner=True)[0] == "read-timeout"
    assert ping("10.213.0.11") == 0
    lab.start_listener("hostA")
    assert tcp_probe("10.213.0.11", 22, 1.0, read_banner=True)[0] == "banner"
    lab.stop_listener("hostA", how="kill")
    assert tcp_probe("10.213.0.11", 22, 1.0)[0] == "ECONNREFUSED"
    lab.reset()
    assert tcp_probe("10.213.0.11", 22, 1.0, read_banner=True)[0] == "banner"


def test_bench_net(lab):
    try:
        net = lab.bench_net(20)
        assert len(net["answering"]) == len(net["blackholed"]) == 20
        assert tcp_probe(*net["answering"][0], 1.0, read_banner=True)[0] == "banner"
        assert tcp_probe(*net["blackholed"][0], 0.5)[0] == "timeout"
    finally:
        lab.bench_net_down()
    out = subprocess.run(
        ["ip", "route", "show", "10.214.0.0/16"], capture_output=True, text=True, timeout=5
    ).stdout
    assert out.strip() == ""


def test_reset_is_fast(lab):
    lab.power("hostC", False, via="ipmi")
    lab.blackhole("hostC", True)
    t0 = time.monotonic()
    lab.reset()
    assert time.monotonic() - t0 < 2
    assert lab.power_state("hostC", "ipmi")
    assert tcp_probe("10.213.0.13", 22, 1.0, read_banner=True)[0] == "banner"
