"""Hosts rules on captures from the real lab (tests/fixtures/hosts/observations): one verdict per fault."""
from __future__ import annotations

import dataclasses

import pytest

from hatui.model import FindingKind, Observation, Severity
from hatui.model.hosts import HostDataGarbled, MissingSystem, PowerStatus, parse_links, parse_power, parse_probes
from tests.fixtures_hosts import assess, assess_scenario, config_of, observations, scenario


@pytest.mark.parametrize("name, expected, status", [
    ("healthy", set(), Severity.OK),
    ("redfish_off", {"hosts.power_off:hostA"}, Severity.CRITICAL),
    ("ipmi_off", {"hosts.power_off:hostC"}, Severity.CRITICAL),
    ("bmc_frozen", {"power.bmc_timeout:hostA", "power.bmc_timeout:hostC"}, Severity.CRITICAL),
    ("bmc_wrong_password", {"power.bmc_auth:hostA", "power.bmc_auth:hostB", "power.bmc_auth:hostC"},
     Severity.CRITICAL),
    ("bmc_misdirected", {"power.bmc_refused:hostA", "hosts.no_such_system:hostB", "power.bmc_timeout:hostC"},
     Severity.CRITICAL),
    ("blackhole", {"hosts.unreachable:hostB", "hosts.link_down:dual"}, Severity.CRITICAL),
    ("reject", {"hosts.unreachable:hostB", "hosts.link_down:dual"}, Severity.CRITICAL),
    ("link_down", {"hosts.unreachable:hostB", "hosts.link_down:dual"}, Severity.CRITICAL),
    ("listener_stopped", {"hosts.service_down:hostA"}, Severity.WARNING),
    ("listener_killed", {"hosts.service_down:hostA", "hosts.service_down:dual"}, Severity.WARNING),
    ("uplink_down", {"hosts.uplink_down:jump"}, Severity.CRITICAL),
])
def test_each_captured_fault_gives_its_verdict(name, expected, status):
    a = assess_scenario(name)
    assert {f.id for f in a.findings} == expected
    assert a.status == status
    assert all(f.area == "hosts" for f in a.findings)


def summaries(name: str) -> dict[str, str]:
    return {f.id: f.summary for f in assess_scenario(name).findings}


def test_the_four_ways_a_bmc_fails_read_differently():
    """401, timeout, refused, and a BMC that answers without the system: four different findings."""
    wrong, frozen, odd = summaries("bmc_wrong_password"), summaries("bmc_frozen"), summaries("bmc_misdirected")
    assert wrong["power.bmc_auth:hostA"] == "hostA: BMC: credentials refused (HTTP 401 for user 'hatui-bmc')"
    assert wrong["power.bmc_auth:hostC"] == "hostC: BMC: credentials refused (wrong password)"
    assert frozen["power.bmc_timeout:hostA"] == "hostA: BMC: no answer within 3 s (http://127.0.0.1:18001)"
    assert frozen["power.bmc_timeout:hostC"] == "hostC: BMC: no answer within 3 s (UDP 127.0.0.1:9003)"
    assert odd["power.bmc_refused:hostA"] == "hostA: BMC: connection refused (http://127.0.0.1:18009)"
    assert odd["hosts.no_such_system:hostB"] == ("hostB: the BMC answers but has no system 'no-such-system' "
                                                 "(it lists: 11111111-0000-4000-8000-000000000002)")


def test_power_off_names_the_host_and_the_bmc_kind():
    assert summaries("redfish_off")["hosts.power_off:hostA"] == "hostA: powered off (BMC, redfish)"
    assert summaries("ipmi_off")["hosts.power_off:hostC"] == "hostC: powered off (BMC, ipmi)"


@pytest.mark.parametrize("name, way", [
    ("blackhole", "no answer (timeout): blackholed (DROP), down, or cut off"),
    ("reject", "refused: something rejects every probe (firewall REJECT, or its services are down)"),
    ("link_down", "no answer (timeout): blackholed (DROP), down, or cut off"),
])
def test_unreachable_says_which_way_it_fails(name, way):
    assert summaries(name)["hosts.unreachable:hostB"] == f"hostB: management network unreachable: 10.213.0.12 {way}"


def test_a_host_on_its_last_link_is_a_spof():
    a = assess_scenario("blackhole")
    spof = next(f for f in a.findings if f.id == "hosts.link_down:dual")
    assert spof.kind == FindingKind.SPOF and spof.severity == Severity.WARNING
    assert spof.summary == "dual: on its last link (10.213.0.11): 10.213.0.12 no answer (timeout)"


def test_hung_and_dead_services_read_differently():
    assert summaries("listener_stopped")["hosts.service_down:hostA"] == (
        "hostA: 10.213.0.11 tcp/22 accepts but says nothing (no banner within 0.5 s) (the host itself answers)")
    assert summaries("listener_killed")["hosts.service_down:hostA"] == (
        "hostA: 10.213.0.11 tcp/22 refused (the host itself answers)")


def test_jump_uplink_down_is_said_once_instead_of_every_host_dead():
    (f,) = assess_scenario("uplink_down").findings
    assert f.summary == ("jump: the jump host's own link to the management network is down (br-hatui down): "
                         "hosts cannot be reached from here, their state is unknown")


def test_without_watched_links_every_host_silent_is_still_one_finding():
    """The same capture, with no [hosts] interfaces: hatui cannot see the link, but says it once."""
    doc = scenario("uplink_down")
    config = config_of(doc["config"].replace('interfaces = ["br-hatui"]', "interfaces = []"))
    obs = [o for o in observations("uplink_down") if o.source != "local"]
    (f,) = assess(config, obs).findings
    assert f.id == "hosts.none_reachable:jump"
    assert f.summary.startswith("jump: none of the 4 hosts answers: look at the jump host's own network first")


def _moved(obs: Observation, source: str, target: str, address_from: str = "", address_to: str = "") -> Observation:
    """A captured observation relabelled for another target (and address): a derived input, said where used."""
    data = dict(obs.data)
    if "probes" in data:
        data["probes"] = [{**p, "address": address_to} if p["address"] == address_from else p for p in data["probes"]]
    return dataclasses.replace(obs, source=source, target=target, data=data)


def test_a_host_powered_off_is_not_also_unreachable():
    """Derived: hostC's IPMI capture 'off' with hostB's blackholed probes moved to hostC's address."""
    obs = observations("ipmi_off")
    blackholed = next(o for o in observations("blackhole", at=obs[0].observed_at)
                      if o.key == ("network", "hostB"))
    obs = [o for o in obs if o.key != ("network", "hostC")]
    obs.append(_moved(blackholed, "network", "hostC", "10.213.0.12", "10.213.0.13"))
    a = assess(config_of(scenario("ipmi_off")["config"]), obs)
    assert {f.id for f in a.findings} == {"hosts.power_off:hostC"}


def test_stale_data_is_unknown_never_healthy():
    doc = scenario("healthy")
    config = config_of(doc["config"])
    obs = observations("healthy", at=100.0)
    from hatui.monitor import Monitor

    m = Monitor(config, started_at=99.0)
    for o in obs:
        m.ingest(o)
    a = m.assess(100.0 + 60)  # every target's stale limit passed
    assert {f.severity for f in a.findings} == {Severity.UNKNOWN}
    assert "power.stale:hostA" in {f.id for f in a.findings}
    assert not any(f.id.startswith("hosts.") for f in a.findings)


# ---- parsing ----------------------------------------------------------------------------------------

def test_parse_power_from_each_bmc_kind():
    obs = {o.key: o for o in observations("healthy")}
    a = parse_power(obs[("power", "hostA")].data)
    assert isinstance(a, PowerStatus) and a.is_on and a.via == "redfish" and a.health == "OK"
    assert a.system == "hostA (11111111-0000-4000-8000-000000000001)"
    c = parse_power(obs[("power", "hostC")].data)
    assert c == PowerStatus("ipmi", "On")
    missing = parse_power(next(o for o in observations("bmc_misdirected") if o.key == ("power", "hostB")).data)
    assert isinstance(missing, MissingSystem) and missing.wanted == "no-such-system"


@pytest.mark.parametrize("data", [
    {"via": "ipmi", "stdout": "Chassis Power Control: Up/On"},
    {"via": "redfish", "system": {"Id": "1", "PowerState": "Sideways"}},
    {"via": "redfish", "system": ["not", "an", "object"]},
    {"via": "smoke-signals"},
])
def test_nonsense_is_garbled(data):
    with pytest.raises(HostDataGarbled):
        parse_power(data)


def test_garbled_bmc_answer_is_unknown():
    obs = observations("healthy")
    obs = [dataclasses.replace(o, data={"via": "ipmi", "stdout": "Chassis Power Control: Up/On"})
           if o.key == ("power", "hostC") else o for o in obs]
    (f,) = assess(config_of(scenario("healthy")["config"]), obs).findings
    assert f.id == "power.garbled:hostC" and f.severity == Severity.UNKNOWN


def test_probes_parse_with_latency_and_ways():
    hostb = next(o for o in observations("reject") if o.key == ("network", "hostB"))
    r = parse_probes(hostb.data)
    assert r.icmp in ("raw", "unprivileged", "ping") and r.dead and not r.reachable
    assert r.failure("10.213.0.12") == "refused"
    healthy = parse_probes(next(o for o in observations("healthy") if o.key == ("network", "hostA")).data)
    assert healthy.reachable and 0 < healthy.latency < 0.5
    with pytest.raises(HostDataGarbled):
        parse_probes({"probes": [{"address": "10.0.0.1", "probe": "icmp", "outcome": "maybe"}]})


def test_links_parse():
    up = parse_links(next(o for o in observations("healthy") if o.source == "local").data)
    down = parse_links(next(o for o in observations("uplink_down") if o.source == "local").data)
    assert [(n.name, n.up) for n in up] == [("br-hatui", True)]
    assert [(n.name, n.up, n.operstate) for n in down] == [("br-hatui", False, "down")]
