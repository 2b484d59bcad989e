"""The [hosts] section: its shape, its targets and timings, and one clear line for each mistake."""
from __future__ import annotations

import pytest

from hatui.config import ConfigError, parse, public_document
from hatui.schedule import target_specs
from hatui.ui.views.common import insecure_sections

REDFISH = {"type": "redfish", "url": "https://10.0.9.11", "user": "hatui", "password_env": "HATUI_BMC_PASSWORD"}
IPMI = {"type": "ipmi", "host": "10.0.9.21", "password_env": "HATUI_IPMI_PASSWORD"}


def doc(**section) -> dict:
    hosts = section.pop("host", [{"name": "ctrl-1", "addresses": ["10.0.0.11", "10.0.1.11"], "ports": [22],
                                  "bmc": REDFISH, "rack": "r12"},
                                 {"name": "cmp-1", "addresses": ["10.0.0.21"], "bmc": IPMI}])
    return {"hosts": {**section, "host": hosts}}


def load(d: dict, resolve: bool = False):
    return parse(d, "hatui.toml", resolve_secrets=resolve)


def test_targets_and_timings():
    cfg = load(doc(interfaces=["bond0"], power_interval=60.0))
    specs = {s.key: s for s in target_specs(cfg)}
    assert set(specs) == {("power", "ctrl-1"), ("network", "ctrl-1"), ("power", "cmp-1"), ("network", "cmp-1"),
                          ("local", "jump")}
    assert (specs[("power", "ctrl-1")].interval, specs[("power", "ctrl-1")].timeout) == (60.0, 10.0)
    # a network poll's budget is twice the probe timeout plus a margin: a blackholed probe is not "slow"
    assert (specs[("network", "cmp-1")].interval, specs[("network", "cmp-1")].timeout) == (5.0, 2.5)


def test_a_bmc_may_override_its_own_timing():
    hosts = [{"name": "old-bmc", "bmc": {**IPMI, "interval": 120.0, "timeout": 20.0}}]
    spec = target_specs(load(doc(host=hosts)))[0]
    assert (spec.source, spec.interval, spec.timeout) == ("power", 120.0, 20.0)


def test_fault_domains_are_kept():
    host = load(doc()).section("hosts").hosts[0]
    assert host.domains == (("rack", "r12"),)


def test_a_host_on_two_feeds_and_two_switches_lists_both():
    host = load(doc(host=[{"name": "a", "power_feed": ["pdu-a", "pdu-b"], "switch": ["sw-1", "sw-2"]}]))
    assert host.section("hosts").hosts[0].domains == (("power", "pdu-a"), ("power", "pdu-b"), ("switch", "sw-1"),
                                                      ("switch", "sw-2"))


def test_secrets_are_resolved_from_the_environment(monkeypatch):
    monkeypatch.setenv("HATUI_BMC_PASSWORD", "bmc-pw")
    monkeypatch.setenv("HATUI_IPMI_PASSWORD", "ipmi-pw")
    hosts = load(doc(), resolve=True).section("hosts").hosts
    assert hosts[0].bmc.password.reveal() == "bmc-pw" and "bmc-pw" not in repr(hosts[0].bmc)


def test_insecure_is_shown_in_the_status_bar():
    hosts = [{"name": "h", "bmc": {**REDFISH, "insecure": True}}]
    assert insecure_sections(load(doc(host=hosts))) == ["hosts"]
    assert insecure_sections(load(doc())) == []


@pytest.mark.parametrize("hosts, key, expected", [
    ([], "hosts.host", "at least one [[hosts.host]]"),
    ([{"name": "a", "addresses": ["ctrl-1.example"]}], "hosts.host[0].addresses[0]", "an IP address"),
    ([{"name": "a", "addresses": ["10.0.0.1"], "ports": [70000]}], "hosts.host[0].ports[0]", "a TCP port"),
    ([{"name": "a", "addresses": ["10.0.0.1"], "ports": [22], "banner_ports": [2222]}],
     "hosts.host[0].banner_ports[0]", "a port also listed in ports"),
    ([{"name": "a", "ports": [22]}], "hosts.host[0].addresses", "the addresses to probe"),
    ([{"name": "a", "bmc": {"type": "snmp"}}], "hosts.host[0].bmc.type", '"redfish" or "ipmi"'),
    ([{"name": "a", "bmc": {"type": "redfish"}}], "hosts.host[0].bmc.url", "the BMC's URL"),
    ([{"name": "a", "bmc": {"type": "redfish", "url": "https://root:pw@10.0.9.1"}}], "hosts.host[0].bmc.url",
     "a URL without credentials"),
    ([{"name": "a", "bmc": {"type": "redfish", "url": "http://10.0.9.1", "insecure": True}}],
     "hosts.host[0].bmc.url", "an https:// URL"),
    ([{"name": "a", "bmc": {**IPMI, "url": "https://x"}}], "hosts.host[0].bmc.url", "no url for an IPMI BMC"),
    ([{"name": "a", "bmc": {**REDFISH, "colour": "red"}}], "hosts.host[0].bmc.colour", "one of the known keys"),
    ([{"name": "a"}, {"name": "a"}], "hosts.host[1].name", "a name not used by another entry"),
    ([{"name": "a", "switch": ["sw-1", "sw-1"]}], "hosts.host[0].switch", "a list of different names"),
    ([{"name": "a", "power_feed": 2}], "hosts.host[0].power_feed", "a string or a list of strings"),
])
def test_mistakes_name_the_key_and_what_was_expected(hosts, key, expected):
    with pytest.raises(ConfigError) as err:
        load(doc(host=hosts))
    assert err.value.key == key and expected in err.value.expected


def test_no_ports_and_no_ping_is_nothing_to_probe():
    with pytest.raises(ConfigError) as err:
        load(doc(ping=False, host=[{"name": "a", "addresses": ["10.0.0.1"]}]))
    assert err.value.key == "hosts.host[0].ports"


def test_an_unset_password_variable_is_named(monkeypatch):
    monkeypatch.delenv("HATUI_BMC_PASSWORD", raising=False)
    with pytest.raises(ConfigError) as err:
        load(doc(host=[{"name": "a", "bmc": REDFISH}]), resolve=True)
    assert str(err.value) == ("hatui.toml: hosts.host[0].bmc.password_env: expected environment variable "
                              "HATUI_BMC_PASSWORD to be set, got unset")


def test_ipmi_needs_a_password_but_a_recording_replays_without_one():
    ipmi = [{"name": "a", "bmc": {"type": "ipmi", "host": "10.0.9.1"}}]
    with pytest.raises(ConfigError) as err:
        load(doc(host=ipmi), resolve=True)
    assert err.value.key == "hosts.host[0].bmc.password_env"
    recorded = public_document(doc())  # what `hatui record` keeps: no secret references
    assert "password_env" not in str(recorded)
    assert [h.bmc.type for h in load(recorded).section("hosts").hosts] == ["redfish", "ipmi"]
