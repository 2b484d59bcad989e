"""hatui against the real BMCs of the hosts lab (sushy-tools Redfish emulators, OpenIPMI ipmi_sim).

Each test starts from the lab's default state (every host On, every BMC answering), injects one real fault
through the BMC's own API or by freezing its process, and asserts what ``hatui watch`` / ``check --json``
report, then that recovery clears it. Timings are measured in bench/hosts.py, not asserted here. A host
powered off through its BMC (Redfish and IPMI) is tested on the lab cloud of hosts, where the power cut
takes the host's share of the control plane with it (tests/integration/cloud).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.hatui_proc import check_json
from tests.integration.hosts.lab_config import BMC_PW_ENV, hosts_toml
from tests.lab import hosts as hosts_lab
from tests.lab.common import wait_until

pytestmark = pytest.mark.lab

SETTLE = 2.0  # s for hatui watch to start and poll every target once: a healthy lab opens nothing


def by_id(doc: dict) -> dict[str, dict]:
    return {f["id"]: f for f in doc["findings"]}


def test_healthy_lab_is_ok(lab, write_config, hosts_env):
    rc, doc = check_json(write_config(dual=True), hosts_env)
    assert (rc, doc["status"], doc["findings"]) == (0, "ok", [])


def test_frozen_redfish_bmc_is_no_answer_and_clears_when_thawed(lab, write_config, watch):
    w = watch(write_config())
    time.sleep(SETTLE)
    t0 = time.monotonic()
    lab.freeze_bmc("hostA", "redfish")
    _, ev = w.wait_opened("power.bmc_timeout:hostA", 20, after=t0)
    assert ev["finding"]["summary"] == "hostA: BMC: no answer within 3 s (http://127.0.0.1:18001)"
    assert w.open_ids() <= {"power.bmc_timeout:hostA", "power.slow:hostA"}  # only the frozen BMC
    t1 = time.monotonic()
    lab.thaw_bmc("hostA", "redfish")
    w.wait_cleared("power.bmc_timeout:hostA", 20, after=t1)


def _ipmitools(port: int) -> list[int]:
    """Live ipmitool processes talking to the BMC on ``port``."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            argv = Path(f"/proc/{d}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{d}/stat").read_text().rsplit(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if argv and argv[0].endswith(b"ipmitool") and str(port).encode() in argv and state != "Z":
            found.append(int(d))
    return found


def test_frozen_ipmi_bmc_never_piles_up_ipmitool_processes(lab, write_config, watch):
    """ipmi_sim SIGSTOPped: every poll of it fails, never more than one ipmitool runs against it at any time,
    and none survives."""
    port = lab.host("hostC").ipmi_port
    w = watch(write_config(power_interval=0.2))  # poll the frozen BMC as often as possible
    time.sleep(SETTLE)
    t0 = time.monotonic()
    lab.freeze_bmc("hostC", "ipmi")
    most = 0
    deadline = time.monotonic() + 12  # several failed polls (each ~2-3 s)
    while time.monotonic() < deadline:
        most = max(most, len(_ipmitools(port)))
        time.sleep(0.02)
    _, ev = w.wait_opened("power.bmc_timeout:hostC", 1, after=t0)
    # ipmitool gives up by itself, or (on a loaded machine) is stopped at hatui's own deadline
    assert re.fullmatch(r"hostC: BMC: no answer within 3 s \(UDP 127\.0\.0\.1:9003(; ipmitool stopped)?\)",
                        ev["finding"]["summary"]), ev["finding"]["summary"]
    assert most == 1
    t1 = time.monotonic()
    lab.thaw_bmc("hostC", "ipmi")
    w.wait_cleared("power.bmc_timeout:hostC", 20, after=t1)
    w.stop()
    wait_until(lambda: _ipmitools(port) == [], 5, interval=0.05, what="no ipmitool left")


def test_hatui_stopped_during_a_frozen_ipmi_poll_leaves_no_ipmitool(lab, write_config, watch):
    port = lab.host("hostC").ipmi_port
    lab.freeze_bmc("hostC", "ipmi")
    w = watch(write_config(power_timeout=20.0))  # ipmitool would wait ~16 s on its own
    deadline = time.monotonic() + 10
    while not _ipmitools(port) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_ipmitools(port)) == 1
    w.stop()  # SIGTERM to hatui while ipmitool waits for the frozen BMC
    wait_until(lambda: _ipmitools(port) == [], 5, interval=0.05, what="no ipmitool left")


def test_four_ways_a_redfish_bmc_fails_are_four_different_findings(lab, write_config, hosts_env):
    """401, no answer (frozen emulator), connection refused, and a BMC that answers without the system."""
    lab.freeze_bmc("hostC", "redfish")
    refused = "http://127.0.0.1:18009"  # no listener there
    text = hosts_toml(bmc={"hostA": {"password_env": "HATUI_WRONG_PW"},
                           "hostB": {"system": "ctrl-9"},
                           "hostC": {"type": "redfish", "url": lab.host("hostC").redfish_url, "host": None,
                                     "port": None}})
    text += ("\n[[hosts.host]]\nname = \"hostD\"\n"
             f"bmc = {{ type = \"redfish\", url = \"{refused}\", user = \"x\", password_env = \"{BMC_PW_ENV}\" }}\n")
    rc, doc = check_json(write_config(text), hosts_env, timeout=60)
    found = by_id(doc)
    assert rc == 2
    assert found["power.bmc_auth:hostA"]["summary"] == "hostA: BMC: credentials refused (HTTP 401 for user " \
                                                          "'hatui-bmc')"
    assert found["hosts.no_such_system:hostB"]["summary"] == (
        "hostB: the BMC answers but has no system 'ctrl-9' (it lists: 11111111-0000-4000-8000-000000000002)")
    assert found["power.bmc_timeout:hostC"]["summary"] == "hostC: BMC: no answer within 3 s (http://127.0.0.1:18003)"
    assert found["power.bmc_refused:hostD"]["summary"] == f"hostD: BMC: connection refused ({refused})"


def test_wrong_ipmi_password_is_credentials_refused(lab, write_config, hosts_env):
    rc, doc = check_json(write_config(bmc={"hostC": {"password_env": "HATUI_WRONG_PW"}}), hosts_env)
    assert by_id(doc)["power.bmc_auth:hostC"]["summary"] == "hostC: BMC: credentials refused (wrong password)"


def test_tls_is_verified_unless_insecure(lab, write_config, hosts_env):
    """hostB's HTTPS emulator has a certificate from the lab's own CA: without ca_file it is refused as TLS;
    with insecure = true it is accepted (and the status bar says TLS NOT VERIFIED)."""
    rc, doc = check_json(write_config(bmc={"hostB": {"ca_file": None}}), hosts_env)
    f = by_id(doc)["power.unreachable:hostB"]
    assert f["summary"].startswith("hostB: BMC: TLS failure (TLS: ") and "CERTIFICATE_VERIFY_FAILED" in f["summary"]
    rc, doc = check_json(write_config(bmc={"hostB": {"ca_file": None, "insecure": True}}), hosts_env)
    assert (rc, doc["findings"]) == (0, [])


def test_a_frozen_bmc_does_not_hold_up_the_other_targets(lab, write_config, watch):
    """Two BMCs frozen with a long power timeout: a network fault on another host is still seen at once."""
    w = watch(write_config(power_timeout=15.0))
    time.sleep(SETTLE)
    lab.freeze_bmc("hostA", "redfish")
    lab.freeze_bmc("hostC", "ipmi")
    time.sleep(1.0)  # both BMC polls now hang
    t0 = time.monotonic()
    lab.blackhole("hostB", True)
    t, _ = w.wait_opened("hosts.unreachable:hostB", 10, after=t0)
    # network: interval 0.5 s + probe timeout 0.5 s; far below the 15 s the frozen BMCs hold their polls
    assert t - t0 < 5.0


def test_a_recording_holds_no_secret_and_replays_the_same_findings(lab, write_config, hosts_env, tmp_path):
    lab.power("hostC", False, via="ipmi")
    config = write_config(bmc={"hostB": {"password_env": "HATUI_WRONG_PW"}})
    rec = tmp_path / "hosts.jsonl"
    subprocess.run([sys.executable, "-m", "hatui", "record", "-o", str(rec), "--duration", "4", "--config",
                    str(config)], env=hosts_env, capture_output=True, text=True, timeout=30, check=True)
    text = rec.read_text()
    assert hosts_lab.BMC_PASSWORD not in text and "wrong-password" not in text and "password_env" not in text
    out = subprocess.run([sys.executable, "-m", "hatui", "replay", str(rec), "--events", "--speed", "20"],
                         env=hosts_env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    opened = {e["finding"]["id"] for e in events if e["event"] == "opened"}
    assert {"hosts.power_off:hostC", "power.bmc_auth:hostB"} <= opened
