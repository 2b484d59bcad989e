"""Capture what hatui's hosts sources say about the real hosts lab, one scenario per fault.

    cd /work/main && .venv/bin/python -m tests.integration.hosts.capture      # root; ~1 min
    cd /work/main && .venv/bin/python -m tests.integration.hosts.capture --sensors   # the sensors only, ~5 s

Writes tests/fixtures/hosts/observations/<scenario>.json: the observations of one poll round of every
hosts target (exactly what ``hatui record`` stores), with the lab config of lab_config.py; and
tests/fixtures/hosts/verbose/ipmitool_*.json: raw ``ipmitool -v`` runs (the argv hatui uses) for the
classification of ipmitool failures; and tests/fixtures/hosts/sensors/<scenario>.json: the ``sensors``
observations (supplies, temperatures, fans) of every BMC, Redfish and IPMI, one poll round per facility
fault. Leaves the lab up and in its default state.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from hatui.config import parse
from hatui.feed import LiveFeed
from hatui.schedule import target_specs
from hatui.sources import build_sources
from hatui.sources.ipmi import IpmiPowerSource
from tests.integration.hosts.lab_config import BMC_PW_ENV, hosts_toml
from tests.lab import hosts as hosts_lab
from tests.lab.common import run

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hosts"
OBS = FIXTURES / "observations"
VERBOSE = FIXTURES / "verbose"
SENSORS = FIXTURES / "sensors"
SENSOR_SETTLE = 1.2  # s: ipmi_sim reads its sensor files every 0.5 s (tests/lab/hosts.py POLL_MS)


def poll_round(toml: str) -> list[dict]:
    import tomllib

    config = parse(tomllib.loads(toml), "capture.toml")
    out: list[dict] = []

    async def go() -> None:
        feed = LiveFeed(build_sources(config))
        try:
            await feed.poll_round(lambda o: out.append(o.to_json()))
        finally:
            await feed.aclose()  # closes the async clients on this loop

    asyncio.run(go())
    return sorted(out, key=lambda o: (o["source"], o["target"]))


def save(name: str, what: str, toml: str, observations: list[dict]) -> None:
    OBS.mkdir(parents=True, exist_ok=True)
    doc = {"scenario": what, "config": toml, "observations": observations}
    (OBS / f"{name}.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"{name}: {what}")
    for o in observations:
        print("   ", o["source"], o["target"], o.get("failure") or "ok")


def scenario(lab: hosts_lab.Lab, name: str, what: str, inject: Callable[[], None], toml: str | None = None,
             settle: float = 0.0, undo: Callable[[], None] | None = None) -> None:
    lab.reset()
    try:
        inject()
        time.sleep(settle)
        text = toml or hosts_toml(dual=True)
        save(name, what, text, poll_round(text))
    finally:
        if undo is not None:
            undo()
        lab.reset()


def bridge(up: bool) -> None:
    run(["ip", "link", "set", hosts_lab.BRIDGE, "up" if up else "down"], timeout=10)


def capture_ipmitool(lab: hosts_lab.Lab) -> None:
    """Raw ipmitool -v runs with hatui's argv: what classify_ipmitool reads."""
    VERBOSE.mkdir(parents=True, exist_ok=True)
    config = parse(__import__("tomllib").loads(hosts_toml()), "capture.toml")
    spec = next(s for s in target_specs(config) if s.key == ("power", "hostC"))
    host = next(h for h in config.section("hosts").hosts if h.name == "hostC")

    def one(name: str, what: str, password: str = hosts_lab.BMC_PASSWORD, port: int | None = None,
            user: str | None = None) -> None:
        import dataclasses

        bmc = dataclasses.replace(host.bmc, port=port or host.bmc.port, user=user or host.bmc.user)
        argv = IpmiPowerSource(spec, host, bmc).argv()
        t0 = time.monotonic()
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
                           env={"PATH": os.environ["PATH"], "LC_ALL": "C", "IPMI_PASSWORD": password})
        doc = {"what": what, "argv": argv, "rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr,
               "seconds": round(time.monotonic() - t0, 2)}
        (VERBOSE / f"ipmitool_{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
        print(f"ipmitool_{name}: rc={p.returncode} {p.stderr.strip().splitlines()[-1:] or p.stdout.strip()}")

    lab.reset()
    one("on", "power status, powered on")
    one("wrong_password", "a wrong password", password="wrong-password")
    one("unknown_user", "a user the BMC does not know", user="nobody")
    one("no_bmc", "nothing listens on the UDP port", port=9009)
    lab.freeze_bmc("hostC", "ipmi")
    try:
        one("frozen", "the BMC process is SIGSTOPped")
    finally:
        lab.thaw_bmc("hostC", "ipmi")
        lab.reset()


def capture_sensors(lab: hosts_lab.Lab) -> None:
    """One poll round of every BMC's ``sensors`` target per facility fault (both BMC kinds)."""
    SENSORS.mkdir(parents=True, exist_ok=True)
    toml = hosts_toml(sensors_interval=2.0)

    def one(name: str, what: str, inject: Callable[[], None]) -> None:
        lab.reset()
        try:
            inject()
            time.sleep(SENSOR_SETTLE)
            obs = [o for o in poll_round(toml) if o["source"] == "sensors"]
            doc = {"scenario": what, "config": toml, "observations": obs}
            (SENSORS / f"{name}.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
            print(f"sensors/{name}: {what}: " + ", ".join(f"{o['target']} {o.get('failure') or 'ok'}" for o in obs))
        finally:
            lab.reset()

    def each(fault: Callable[[str], None]) -> Callable[[], None]:
        return lambda: [fault(h.name) for h in hosts_lab.HOSTS]  # type: ignore[func-returns-value]

    one("healthy", "every supply working, inlet 24 C, fans 5400 RPM", lambda: None)
    one("supply_failed", "power supply 2 failed on every host", each(lambda h: lab.set_supply(h, 2, False)))
    one("inlet_warm", "inlet 33 C on every host (past the upper non-critical 30)",
        each(lambda h: lab.set_temperature(h, 33)))
    one("inlet_hot", "inlet 42 C on every host (past the upper critical 40)",
        each(lambda h: lab.set_temperature(h, 42)))
    one("fan_stopped", "fan 1 stopped on every host", each(lambda h: lab.stop_fan(h, 1)))
    one("fan_slow", "fan 2 at 700 RPM on every host (below the lower non-critical 800)",
        each(lambda h: lab.set_fan(h, 2, 700)))
    one("one_feed", "power supply 2 of every host plugged into pdu-a (Redfish says; IPMI cannot)",
        each(lambda h: lab.wire_supply(h, 2, "pdu-a")))


def main() -> None:
    import sys

    os.environ[BMC_PW_ENV] = hosts_lab.BMC_PASSWORD
    if "--sensors" in sys.argv[1:]:
        lab = hosts_lab.Lab()
        lab.up()
        capture_sensors(lab)
        return
    os.environ["HATUI_WRONG_PW"] = "wrong-password"
    lab = hosts_lab.Lab()
    lab.up()
    scenario(lab, "healthy", "every BMC answers On, every host answers ping and :22", lambda: None)
    scenario(lab, "redfish_off", "hostA powered off through its Redfish BMC (applied)",
             lambda: (lab.power("hostA", False), lab.wait_power("hostA", False)))
    scenario(lab, "ipmi_off", "hostC powered off through its IPMI BMC", lambda: lab.power("hostC", False, via="ipmi"))
    scenario(lab, "bmc_frozen", "hostA's Redfish emulators and hostC's ipmi_sim SIGSTOPped",
             lambda: (lab.freeze_bmc("hostA", "redfish"), lab.freeze_bmc("hostC", "ipmi")))
    wrong = {h: {"password_env": "HATUI_WRONG_PW"} for h in ("hostA", "hostB", "hostC")}
    scenario(lab, "bmc_wrong_password", "every BMC configured with a wrong password", lambda: None,
             hosts_toml(bmc=wrong))
    odd = {"hostA": {"url": "http://127.0.0.1:18009"}, "hostB": {"system": "no-such-system"},
           "hostC": {"port": 9009}}
    scenario(lab, "bmc_misdirected", "hostA's URL has no listener (refused), hostB names a system the BMC does "
             "not have, hostC's port has no BMC", lambda: None, hosts_toml(bmc=odd))
    scenario(lab, "blackhole", "hostB DROPs everything (iptables in its namespace)",
             lambda: lab.blackhole("hostB", True))
    scenario(lab, "reject", "hostB REJECTs everything (tcp-reset, icmp-port-unreachable)",
             lambda: lab.reject("hostB", True))
    scenario(lab, "link_down", "hostB's link down (bridge-side veth), neighbour entry expired",
             lambda: lab.link("hostB", False), settle=4.0)
    scenario(lab, "listener_stopped", "hostA's :22 service SIGSTOPped (accepts, says nothing)",
             lambda: lab.stop_listener("hostA", "stop"))
    scenario(lab, "listener_killed", "hostA's :22 service killed (refused)", lambda: lab.stop_listener("hostA", "kill"))
    scenario(lab, "uplink_down", "the jump host's own link (the lab bridge) down", lambda: bridge(False),
             undo=lambda: bridge(True))
    capture_ipmitool(lab)
    capture_sensors(lab)


if __name__ == "__main__":
    main()
