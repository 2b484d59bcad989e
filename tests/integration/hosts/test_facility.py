"""Power supplies, temperatures and fans, read by hatui from the real BMC emulators of the hosts lab:
Redfish (sushy-tools behind the lab's facility layer, tests/lab/hosts/redfish_facility.py) and IPMI
(ipmi_sim's sensors, polled from files). Each test injects a facility fault through the lab on a Redfish
and an IPMI host at once, waits for ``hatui watch`` to say it, repairs, and waits for it to clear.
The sensors are read every 0.5 s here (60 s by default)."""
from __future__ import annotations

import time

import pytest

from tests.integration.hosts.lab_config import hosts_toml

pytestmark = pytest.mark.lab

WAIT = 10.0  # s: a sensors poll every 0.5 s, ipmi_sim reads its sensor files every 0.5 s
HOSTS = ("hostA", "hostC")  # Redfish (PowerSubsystem, Thermal) and IPMI (sdr)


def _config(write_config, **kw):
    return write_config(hosts_toml(sensors_interval=0.5, power_interval=2.0, **kw))


# the last working supply of each host, as its BMC names it (Redfish: PSU 1; ipmi_sim: PS1 Status)
LAST_SUPPLY = {"hostA": "PSU 1", "hostB": "PSU 1", "hostC": "PS1 Status"}


def test_a_failed_supply_opens_the_hosts_power_spof_and_clears_on_repair(lab, write_config, watch):
    w = watch(_config(write_config))
    t0 = time.monotonic()
    for h in HOSTS:
        lab.set_supply(h, 2, False)
    for h in HOSTS:
        _, ev = w.wait_opened(f"sensors.spof:{h}/{LAST_SUPPLY[h]}", WAIT, after=t0)
        assert ev["finding"]["kind"] == "spof"
        w.wait_opened(f"sensors.supply:{h}", WAIT, after=t0)
    assert "PSU 1 (pdu-a)" in next(e["finding"]["summary"] for _, e in w.events
                                   if e["finding"]["id"] == "sensors.spof:hostA/PSU 1")
    t1 = time.monotonic()
    for h in HOSTS:
        lab.set_supply(h, 2, True)
    for h in HOSTS:
        w.wait_cleared(f"sensors.spof:{h}/{LAST_SUPPLY[h]}", WAIT, after=t1)
        w.wait_cleared(f"sensors.supply:{h}", WAIT, after=t1)


def test_every_host_of_a_rack_warming_names_the_racks_cooling(lab, write_config, watch):
    """hostB (Redfish) and hostC (IPMI) in rack r1: both past the inlet's upper non-critical (30 C)."""
    w = watch(_config(write_config, racks={"hostA": "r2", "hostC": "r1"}))
    t0 = time.monotonic()
    for h in ("hostB", "hostC"):
        lab.set_temperature(h, 34)
    _, ev = w.wait_opened("sensors.cooling:r1", WAIT, after=t0)
    assert ev["finding"]["summary"].startswith("r1: every host in this rack takes in hot air (hostB 34 °C, hostC 34 °C")
    for h in ("hostB", "hostC"):
        w.wait_explained(f"sensors.temperature:{h}", "sensors.cooling:r1", WAIT)
    assert not any(i.endswith(":hostA") for i in w.open_ids())
    t1 = time.monotonic()
    for h in ("hostB", "hostC"):
        lab.set_temperature(h, 24)
    w.wait_cleared("sensors.cooling:r1", WAIT, after=t1)


def test_a_stopped_fan_shows_and_clears(lab, write_config, watch):
    w = watch(_config(write_config))
    t0 = time.monotonic()
    for h in HOSTS:
        lab.stop_fan(h, 1)
    for h in HOSTS:
        _, ev = w.wait_opened(f"sensors.fan:{h}", WAIT, after=t0)
        assert ev["finding"]["severity"] == "critical" and "0 RPM (stopped)" in ev["finding"]["summary"]
    t1 = time.monotonic()
    for h in HOSTS:
        lab.set_fan(h, 1, 5400)
    for h in HOSTS:
        w.wait_cleared(f"sensors.fan:{h}", WAIT, after=t1)


def test_the_healthy_lab_reads_clean_with_sensors(lab, write_config, hosts_env):
    from tests.integration.hatui_proc import check_json

    rc, doc = check_json(_config(write_config), hosts_env)
    assert (rc, doc["status"], doc["findings"]) == (0, "ok", [])
