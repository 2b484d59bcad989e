"""The Hosts pane, fed by lab captures: one row per host, cells an operator reads at a glance."""
from __future__ import annotations

from hatui.ui.views import pane_model
from tests.fixtures_hosts import assess_scenario, config_of, scenario


def pane(name: str):
    return pane_model("hosts", assess_scenario(name), config_of(scenario(name)["config"]))


def rows(name: str) -> dict[str, tuple[str, ...]]:
    return {r[1][0]: tuple(text for text, _tone in r) for r in pane(name).rows}


def test_healthy_rows_and_headline():
    p = pane("healthy")
    assert p.columns == ("", "host", "power", "BMC", "network", "latency", "runs", "domains")  # no sensors read
    r = rows("healthy")
    assert r["hostA"][:5] == ("✔ OK", "hostA", "on", "redfish", "up")
    assert r["hostC"][2:5] == ("on", "ipmi", "up")
    assert r["hostA"][6:8] == ("-", "pdu-a·r1·sw-1")  # the hosts lab's hosts run nothing
    assert r["dual"][2:5] == ("-", "-", "2/2 links")
    assert "".join(t for t, _ in p.headline) == "4 hosts: 3/3 powered on  4/4 reachable  │  jump: br-hatui up"
    assert p.tone == "ok"


def test_power_off_and_bmc_failures():
    assert rows("redfish_off")["hostA"][:4] == ("✖ CRIT", "hostA", "OFF", "redfish")
    frozen = rows("bmc_frozen")
    assert frozen["hostA"][2:4] == ("?", "no answer") and frozen["hostC"][2:4] == ("?", "no answer")
    wrong = rows("bmc_wrong_password")
    assert wrong["hostB"][2:4] == ("?", "auth refused")
    assert rows("bmc_misdirected")["hostB"][2:4] == ("?", "no such system")


def test_network_faults():
    r = rows("blackhole")
    assert r["hostB"][4:6] == ("DOWN timeout", "-")
    assert r["dual"][0] == "◆ SPOF" and r["dual"][4] == "1/2 links"
    assert rows("reject")["hostB"][4] == "DOWN refused"
    assert rows("listener_stopped")["hostA"][4] == "tcp/22 silent"
    assert pane("blackhole").tone == "critical"


def test_jump_host_blind_shows_hosts_unknown_not_dead():
    p = pane("uplink_down")
    r = rows("uplink_down")
    assert r["hostA"][0] == "? UNKN" and r["hostA"][4] == "? jump host blind"
    assert "jump: br-hatui DOWN" in "".join(t for t, _ in p.headline)


def test_bmcs_without_an_answer_are_counted_unknown_not_off():
    p = pane("bmc_frozen")
    power = next(cell for cell in p.headline if "powered on" in cell[0])
    assert power == ("1/3 powered on (2 unknown)", "unknown"), p.headline
    off = next(cell for cell in pane("redfish_off").headline if "powered on" in cell[0])
    assert off[1] == "critical" and off[0].startswith("2/3 powered on"), off
