"""The jump host's own links: uplink down, one of two links left, bonds, rising error counters.

This kernel has no bonding module, so bonds cannot be captured: their sysfs files are laid out in a
temporary tree as the Linux bonding driver documents them (Documentation/networking/bonding.rst) and read
by the real reader; the interface entry around them is the lab capture of br-hatui, renamed.
"""
from __future__ import annotations

import dataclasses

from hatui.model import FindingKind, Observation, Severity
from hatui.schedule import TargetSpec
from hatui.sources.local import LocalLinksSource, bond_state
from tests.fixtures_hosts import assess, config_of, observations, scenario

UP = next(o for o in observations("healthy") if o.source == "local").data["interfaces"]["br-hatui"]
DOWN = next(o for o in observations("uplink_down") if o.source == "local").data["interfaces"]["br-hatui"]


def links_config(interfaces: list[str]):
    toml = scenario("healthy")["config"].replace('interfaces = ["br-hatui"]', f"interfaces = {interfaces!r}")
    return config_of(toml.replace("'", '"'))


def local(at: float, **nics: dict) -> Observation:
    return Observation("local", "jump", at, 0.001, data={"interfaces": nics})


def judge(interfaces: list[str], *rounds: Observation):
    """Only the local target is fed: the hosts' targets are still waiting (no finding of theirs yet)."""
    return assess(links_config(interfaces), [rounds[0]], *([r] for r in rounds[1:]))


def test_one_of_two_uplinks_down_is_a_warning_and_a_spof():
    a = judge(["eth0", "eth1"], local(100.0, eth0=DOWN, eth1=UP))
    by_id = {f.id: f for f in a.findings}
    assert set(by_id) == {"hosts.nic_down:jump/eth0", "hosts.spof:jump/eth1"}
    assert by_id["hosts.nic_down:jump/eth0"].summary == "jump: eth0 is down"
    spof = by_id["hosts.spof:jump/eth1"]
    assert spof.kind == FindingKind.SPOF and spof.severity == Severity.WARNING
    assert spof.summary == "jump: on its last link to the management network (eth1; 1 of 2 down)"


def test_both_uplinks_down_is_one_critical_finding():
    (f,) = judge(["eth0", "eth1"], local(100.0, eth0=DOWN, eth1=DOWN)).findings
    assert f.id == "hosts.uplink_down:jump" and f.severity == Severity.CRITICAL


def test_a_missing_interface_says_so():
    absent = {"exists": False, "isup": False, "operstate": "absent"}
    a = judge(["eth0", "eth9"], local(100.0, eth0=UP, eth9=absent))
    assert "jump: eth9 does not exist (check hosts.interfaces)" in {f.summary for f in a.findings}


def _bond_tree(tmp_path, slaves: dict[str, str]):
    bonding = tmp_path / "bond0" / "bonding"
    bonding.mkdir(parents=True)
    (bonding / "slaves").write_text(" ".join(slaves) + "\n")
    (bonding / "mode").write_text("active-backup 1\n")
    (bonding / "active_slave").write_text(next((s for s, st in slaves.items() if st == "up"), "") + "\n")
    for slave, status in slaves.items():
        (tmp_path / slave / "bonding_slave").mkdir(parents=True)
        (tmp_path / slave / "bonding_slave" / "mii_status").write_text(status + "\n")
    return bond_state("bond0", tmp_path)


def test_bond_reader_reads_the_bonding_driver_files(tmp_path):
    assert _bond_tree(tmp_path, {"eth0": "down", "eth1": "up"}) == {
        "mode": "active-backup", "slaves": {"eth0": "down", "eth1": "up"}, "active": "eth1"}
    assert bond_state("eth0", tmp_path) is None  # not a bond


def test_bond_on_its_last_link_is_a_spof(tmp_path):
    bond = {**UP, "bond": _bond_tree(tmp_path, {"eth0": "down", "eth1": "up"})}
    (f,) = judge(["bond0"], local(100.0, bond0=bond)).findings
    assert f.id == "hosts.bond_degraded:jump/bond0" and f.kind == FindingKind.SPOF
    assert f.summary == "jump: bond0 runs on its last link eth1 (eth0 down)"


def test_bond_with_links_to_spare_is_a_warning(tmp_path):
    bond = {**UP, "bond": _bond_tree(tmp_path, {"eth0": "down", "eth1": "up", "eth2": "up"})}
    (f,) = judge(["bond0"], local(100.0, bond0=bond)).findings
    assert f.kind == FindingKind.FAILURE and f.severity == Severity.WARNING
    assert f.summary == "jump: bond0: eth0 down, 2 of 3 links left"


def test_healthy_bond_says_nothing(tmp_path):
    bond = {**UP, "bond": _bond_tree(tmp_path, {"eth0": "up", "eth1": "up"})}
    assert judge(["bond0"], local(100.0, bond0=bond)).findings == ()


def test_rising_errors_and_drops_are_reported_and_clear_when_they_stop():
    before = local(100.0, eth0=UP)
    worse = local(102.0, eth0={**UP, "errin": UP["errin"] + 3, "dropin": UP["dropin"] + 40})
    (f,) = judge(["eth0"], before, worse).findings
    assert f.id == "hosts.nic_errors:jump/eth0"
    assert f.summary == "jump: eth0: 3 errors and 40 drops in the last 2 s"
    steady = dataclasses.replace(worse, observed_at=104.0)
    assert judge(["eth0"], before, worse, steady).findings == ()


def test_the_local_source_reads_this_machine():
    spec = TargetSpec("local", "jump", 1.0, 1.0, 4.0)
    section = links_config(["lo", "hatui-none0"]).section("hosts")
    data = LocalLinksSource(spec, section).poll()["interfaces"]
    assert data["lo"]["exists"] and data["lo"]["isup"] and "errin" in data["lo"]
    assert data["hatui-none0"] == {"exists": False, "isup": False, "operstate": "absent"}
