"""Power supplies, feeds, temperatures and fans from the BMCs, on captures from the real hosts lab
(tests/fixtures/hosts/sensors: Redfish hostA/hostB, IPMI hostC; one poll round per facility fault)."""
from __future__ import annotations

import json

import pytest

from hatui.model import FindingKind, Observation, Severity
from hatui.model.facility import FacilityGarbled, Sensors, outlet_feed, parse_sensors
from hatui.ui.views.hosts import hosts_pane
from tests.fixtures_hosts import FIXTURES, assess, config_of

SENSORS = FIXTURES / "sensors"


def doc(name: str) -> dict:
    return json.loads((SENSORS / f"{name}.json").read_text())


def obs(name: str) -> list[Observation]:
    return [Observation.from_json(o) for o in doc(name)["observations"]]


def data(name: str, host: str) -> dict:
    return next(o.data for o in obs(name) if o.target == host)


def assessed(name: str, toml: str | None = None):
    return assess(config_of(toml or doc(name)["config"]), obs(name))


def sensor_findings(a) -> dict[str, object]:
    return {f.id: f for f in a.findings if f.source == "sensors"}


def test_every_bmc_reports_the_same_machine():
    """Redfish (PowerSubsystem, Thermal) and IPMI (sdr) read alike: 2 supplies, inlet 24 C, 2 fans."""
    for host in ("hostA", "hostB", "hostC"):
        s = parse_sensors(data("healthy", host))
        assert isinstance(s, Sensors)
        assert [x.working for x in s.supplies] == [True, True]
        assert s.inlet is not None and (s.inlet.celsius, s.inlet.unc, s.inlet.ucr, s.inlet.unr) == (24, 30, 40, 50)
        assert [(f.reading, f.lcr, f.lnc) for f in s.fans] == [(5400, 600, 800)] * 2
    assert [x.feed for x in parse_sensors(data("healthy", "hostA")).supplies] == ["pdu-a", "pdu-b"]
    assert [x.feed for x in parse_sensors(data("healthy", "hostC")).supplies] == [None, None]  # IPMI cannot say


@pytest.mark.parametrize("name, expected", [
    ("healthy", {}),
    ("supply_failed", {**{f"sensors.supply:{h}": Severity.WARNING for h in ("hostA", "hostB", "hostC")},
                       # the one working supply is the element, named as its BMC names it
                       **{f"sensors.spof:{h}": Severity.WARNING
                          for h in ("hostA/PSU 1", "hostB/PSU 1", "hostC/PS1 Status")}}),
    ("inlet_warm", {**{f"sensors.temperature:{h}": Severity.WARNING for h in ("hostA", "hostB", "hostC")},
                    "sensors.cooling:r1": Severity.WARNING}),
    ("inlet_hot", {**{f"sensors.temperature:{h}": Severity.CRITICAL for h in ("hostA", "hostB", "hostC")},
                   "sensors.cooling:r1": Severity.CRITICAL}),
    ("fan_stopped", {f"sensors.fan:{h}": Severity.CRITICAL for h in ("hostA", "hostB", "hostC")}),
    ("fan_slow", {f"sensors.fan:{h}": Severity.WARNING for h in ("hostA", "hostB", "hostC")}),
    # hostA's config names pdu-a, hostB's pdu-b: both supplies now on pdu-a; hostC is IPMI (no outlet)
    ("one_feed", {"sensors.spof:hostB/pdu-a": Severity.WARNING}),
])
def test_each_captured_facility_fault_gives_its_verdict(name, expected):
    found = sensor_findings(assessed(name))
    assert {i: f.severity for i, f in found.items()} == expected
    assert all(f.area == "hosts" for f in found.values())


def test_a_rack_warming_together_names_its_cooling_and_explains_its_hosts():
    found = sensor_findings(assessed("inlet_warm"))
    assert found["sensors.cooling:r1"].summary == (
        "r1: every host in this rack takes in hot air (hostA 33 °C, hostB 33 °C at the inlet, past their BMCs' "
        "thresholds): the rack's cooling, or the room's")
    assert found["sensors.temperature:hostA"].caused_by == "sensors.cooling:r1"
    assert found["sensors.temperature:hostB"].caused_by == "sensors.cooling:r1"
    assert found["sensors.temperature:hostC"].caused_by is None  # r2 has one host: its own problem
    assert found["sensors.temperature:hostC"].summary == (
        "hostC: Inlet Temp 33 °C (limit 30 °C): past the BMC's upper non-critical threshold")


def test_one_host_warm_in_a_rack_is_its_own_finding():
    one = [o if o.target != "hostB" else Observation.from_json(
        next(x for x in doc("healthy")["observations"] if x["target"] == "hostB")) for o in obs("inlet_warm")]
    a = assess(config_of(doc("inlet_warm")["config"]), one)
    assert "sensors.cooling:r1" not in sensor_findings(a)
    assert sensor_findings(a)["sensors.temperature:hostA"].caused_by is None


def test_a_host_on_its_last_supply_is_its_own_spof():
    found = sensor_findings(assessed("supply_failed"))
    spof = found["sensors.spof:hostA/PSU 1"]
    assert spof.kind == FindingKind.SPOF
    assert spof.summary == ("hostA: on its last working power supply, PSU 1 (pdu-a) (PSU 2 failed): "
                            "its loss takes hostA down")
    assert found["sensors.supply:hostA"].summary == (
        "hostA: PSU 2 (pdu-b) failed: no input power (1 of 2 power supplies working, BMC, redfish)")
    assert found["sensors.supply:hostC"].summary == (  # IPMI: the config's feed (one for both)
        "hostC: PS2 Status (pdu-a) failed: Failure detected (1 of 2 power supplies working, BMC, ipmi)")


def test_one_feed_is_a_spof_even_when_the_config_names_another():
    found = sensor_findings(assessed("one_feed"))
    assert found["sensors.spof:hostB/pdu-a"].summary == (
        "hostB: both power supplies draw from pdu-a (its BMC says; the config names pdu-b): "
        "pdu-a is its single point of failure")
    assert found["sensors.spof:hostB/pdu-a"].kind == FindingKind.SPOF
    # the config that names both feeds, as the lab is meant to be wired: hostA on pdu-a alone now too
    toml = doc("one_feed")["config"].replace('power_feed = "pdu-a"\nrack = "r1"',
                                             'power_feed = ["pdu-a", "pdu-b"]\nrack = "r1"', 1)
    found = sensor_findings(assessed("one_feed", toml))
    assert "(its BMC says; the config names pdu-a, pdu-b)" in found["sensors.spof:hostA/pdu-a"].summary


def test_the_hosts_pane_shows_supplies_inlet_and_fans():
    def cells(name: str) -> dict[str, str]:
        config = config_of(doc(name)["config"])
        pane = hosts_pane(assess(config, obs(name)), config)
        col = pane.columns.index("PSU·inlet·fans")
        return {row[1][0]: row[col][0] for row in pane.rows}

    assert cells("healthy") == {"hostA": "PSU 2/2 24°C fans 2/2", "hostB": "PSU 2/2 24°C fans 2/2",
                                "hostC": "PSU 2/2 24°C fans 2/2"}
    assert cells("supply_failed")["hostA"] == "PSU 1/2 ✗ 24°C fans 2/2"
    assert cells("inlet_hot")["hostC"] == "PSU 2/2 42°C! fans 2/2"
    assert cells("fan_stopped")["hostB"] == "PSU 2/2 24°C fans 1/2 ✗"


@pytest.mark.parametrize("bad", [
    {"via": "ipmi", "stdout": "Error: Unable to establish IPMI v2 / RMCP+ session\n"},
    {"via": "ipmi", "stdout": 3},
    {"via": "redfish", "supplies": {"Bay1": {}}},
    {"via": "redfish", "temperatures": [{"Name": "Inlet", "ReadingCelsius": "hot"}]},
    {"via": "redfish", "fans": [{"Name": "Fan", "Status": {"Health": "Bogus"}}]},
    {"via": "snmp"},
])
def test_nonsense_is_garbled_never_healthy(bad):
    with pytest.raises(FacilityGarbled):
        parse_sensors(bad)


def test_a_garbled_answer_marks_the_target_garbled():
    raw = [o.to_json() for o in obs("healthy")]
    raw = [{**o, "data": {"via": "redfish", "fans": [{"Reading": "fast"}]}} if o["target"] == "hostA" else o
           for o in raw]
    a = assess(config_of(doc("healthy")["config"]), [Observation.from_json(o) for o in raw])
    assert "sensors.garbled:hostA" in {f.id for f in a.findings}
    assert a.status != Severity.OK


def test_what_a_bmc_does_not_report_stays_unknown():
    s = parse_sensors({"via": "redfish", "chassis": "1U"})  # no PowerSubsystem, Power or Thermal
    assert (s.supplies, s.temperatures, s.fans, s.inlet) == (None, None, None, None)
    assert parse_sensors({"via": "ipmi", "stdout": ""}).supplies is None


def test_legacy_power_schema_and_outlet_links():
    s = parse_sensors({"via": "redfish", "power_schema": "Power", "supplies": [
        {"MemberId": "0", "Name": "Power Supply Bay", "Status": {"State": "Enabled", "Health": "Warning"}},
        {"MemberId": "1", "Name": "PSU2", "Status": {"State": "Absent"}}]})
    assert [(x.name, x.level, x.working) for x in s.supplies] == [("Power Supply Bay", "warning", True)]
    assert outlet_feed("https://pdu.example/redfish/v1/PowerEquipment/RackPDUs/1/Outlets/A4") == "1"
    assert outlet_feed("/redfish/v1/Chassis/1U") is None
