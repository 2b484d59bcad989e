"""What a new client sees at the hosts lab's Redfish BMCs (issue 13, item 5): a BMC whose certificate no
longer verifies, or whose password changed, must be named by ``watch`` and by ``check`` alike.

What the lab showed (sushy-tools 2.2.0 on werkzeug 3.1): the emulator answers every request with
``Connection: close``, so hatui's Redfish client keeps no connection between polls: each poll is a new TLS
handshake and a new basic-auth check, and the next poll after a change sees it, with no wait for
``fresh_every``. A BMC's web server takes a new certificate by restarting (``Lab.recertify``: hostB's
HTTPS emulator alone; its port refuses for the second it takes).
"""
from __future__ import annotations

import time

import pytest

from tests.integration.hatui_proc import check_json
from tests.lab import hosts as hosts_lab

pytestmark = pytest.mark.lab

# Long on purpose: hatui's first poll of a BMC is a new client's and the next one would be 30 s later, so for
# the whole test every poll is an ordinary one, and it alone must see the change (and the repair).
KEPT_ONLY = 30
VERIFY_FAILED = ("hostB: BMC: TLS failure (TLS: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                 "unable to get local issuer certificate")


def by_id(doc: dict) -> dict[str, dict]:
    return {f["id"]: f for f in doc["findings"]}


def test_a_bmc_certificate_that_no_longer_verifies_is_said_and_check_agrees(lab, write_config, watch, hosts_env,
                                                                            tmp_path):
    config = write_config(extra=f"fresh_every = {KEPT_ONLY}\n")
    w = watch(config)
    w.wait_quiet(20)
    cert, key = lab.other_ca_certificate(tmp_path / "other-ca")  # for 127.0.0.1, from a CA hatui does not trust
    t0 = time.monotonic()
    try:
        lab.recertify("hostB", cert, key)
        _, ev = w.wait_opened("power.unreachable:hostB", 10, after=t0)
        summary = ev["finding"]["summary"]
        assert summary.startswith(VERIFY_FAILED), summary
        assert ev["finding"]["severity"] == "critical"
        assert time.monotonic() - t0 < KEPT_ONLY - 5  # (so no new client has polled since the start)
        rc, doc = check_json(config, hosts_env)
        assert rc == 2 and by_id(doc)["power.unreachable:hostB"]["summary"] == summary
        # only hostB's HTTPS door changed: the other BMCs (hostA over http, hostC over IPMI) answer on
        assert not [f for f in doc["findings"] if f["subject"] != "hostB"], doc["findings"]
    finally:
        t1 = time.monotonic()
        lab.recertify("hostB")
    w.wait_cleared("power.unreachable:hostB", 10, after=t1)
    w.wait_quiet(20)


def test_a_changed_bmc_password_is_refused_at_the_next_poll_and_check_agrees(lab, write_config, watch, hosts_env):
    config = write_config(extra=f"fresh_every = {KEPT_ONLY}\n")
    w = watch(config)
    w.wait_quiet(20)
    t0 = time.monotonic()
    lab.set_bmc_password("Other-Pw-5678")  # the Redfish BMCs' (hostA, hostB); hostC's IPMI keeps its own
    try:
        words = {h: f"{h}: BMC: credentials refused (HTTP 401 for user '{hosts_lab.BMC_USER}')"
                 for h in ("hostA", "hostB")}
        for h, summary in words.items():
            _, ev = w.wait_opened(f"power.bmc_auth:{h}", 10, after=t0)
            assert ev["finding"]["summary"] == summary
        assert time.monotonic() - t0 < KEPT_ONLY - 5  # (so no new client has polled since the start)
        rc, doc = check_json(config, hosts_env)
        found = by_id(doc)
        assert rc == 2 and {h: found[f"power.bmc_auth:{h}"]["summary"] for h in words} == words
        assert not [f for f in doc["findings"] if f["subject"] == "hostC"], doc["findings"]
    finally:
        t1 = time.monotonic()
        lab.set_bmc_password(hosts_lab.BMC_PASSWORD)
    for h in ("hostA", "hostB"):
        w.wait_cleared(f"power.bmc_auth:{h}", 10, after=t1)
    w.wait_quiet(20)
