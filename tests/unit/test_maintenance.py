"""Maintenance mode on the real recorded incident (lab-ctl-1 loses power): the failures an operator caused
on purpose are muted in every face, the redundancy their absence costs stays loud."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hatui.config import parse
from hatui.config.maintenance import Maintenance, MaintenanceError, MaintenanceFile
from hatui.faces.check import summary_line
from hatui.feed.recording import read_recording
from hatui.model import FindingKind, Severity
from hatui.monitor import Monitor
from hatui.ui.views.common import findings_pane
from tests.ui.scenario import INCIDENT, moment

DOC, OBSERVATIONS = read_recording(INCIDENT)
CONFIG = parse(DOC, str(INCIDENT), resolve_secrets=False)


def assess_at(kind: str, names: frozenset[str] = frozenset()):
    t0 = OBSERVATIONS[0].observed_at
    now = t0 + moment(kind)
    m = Monitor(CONFIG, started_at=t0, maintenance=lambda: names)
    for obs in OBSERVATIONS:
        if obs.observed_at <= now:
            m.ingest(obs)
    return m.assess(now)


def test_a_host_under_maintenance_mutes_its_own_failures_and_their_consequences_not_the_spofs():
    loud = assess_at("controller_down")
    assert loud.status == Severity.CRITICAL
    a = assess_at("controller_down", frozenset({"lab-ctl-1"}))
    by_id = {f.id: f for f in a.findings}
    assert by_id["hosts.power_off:lab-ctl-1"].maintenance == "lab-ctl-1"
    muted = {f.id for f in a.findings if f.maintenance}
    # its Galera and RabbitMQ nodes, its servers behind HAProxy, its conductor and scheduler
    assert {fid for fid, f in by_id.items() if f.caused_by == "hosts.power_off:lab-ctl-1"} <= muted
    assert all(f.maintenance is None for f in a.findings if f.kind == FindingKind.SPOF)  # still loud
    spofs = {f.id for f in a.findings if f.kind == FindingKind.SPOF}
    assert spofs == {f.id for f in loud.findings if f.kind == FindingKind.SPOF}
    # the status is what is left once the planned failures are set aside: the SPOFs, or another failure
    assert a.status < Severity.CRITICAL or any(f.maintenance is None and f.severity == Severity.CRITICAL
                                               for f in a.findings)
    line = summary_line(a)
    assert "under maintenance)" in line and "lab-ctl-1: powered off" not in line.split("|")[0]
    pane = findings_pane(a)
    assert any(r[0][0] == "◌ MAINT" and "(maintenance: lab-ctl-1)" in r[2][0] for r in pane.rows)
    assert f"{len(muted)} under maintenance" in "".join(t for t, _ in pane.headline)


def test_an_instance_under_maintenance_mutes_only_that_instance():
    a = assess_at("controller_down", frozenset({"db-2"}))
    muted = {f.id for f in a.findings if f.maintenance}
    assert "galera.unreachable:db-2" in muted
    assert "hosts.power_off:lab-ctl-1" not in muted  # the host is not what the operator stopped


def test_maintenance_of_what_is_healthy_changes_nothing():
    a = assess_at("healthy", frozenset({"lab-ctl-1"}))
    assert not any(f.maintenance for f in a.findings)
    assert a.status == assess_at("healthy").status


def test_the_file_round_trips_and_a_garbled_one_mutes_nothing(tmp_path):
    store = MaintenanceFile(tmp_path / "state" / "maintenance.json")
    assert store.entries() == ()
    store.set(["ctl-1", "pdu-b"], True, "kernel update")
    assert store.names() == {"ctl-1", "pdu-b"}
    assert store.set(["pdu-b"], False)[0].note == "kernel update"
    assert MaintenanceFile(store.path).names() == {"ctl-1"}  # another face reads the same
    store.path.write_text("{not json")
    with pytest.raises(MaintenanceError, match="maintenance.json"):
        store.names()
    m = Maintenance(store.path, ("db-3",))
    assert m.names() == {"db-3"} and "expected a hatui maintenance file" in (m.error or "")


def test_cli_on_list_off(tmp_path):
    cfg = tmp_path / "hatui.toml"
    path = tmp_path / "maint.json"
    cfg.write_text(f'[hatui]\nmaintenance_file = "{path}"\n')

    def hatui(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "hatui", "maintenance", *args, "--config", str(cfg)],
                              capture_output=True, text=True, timeout=30)

    assert "nothing under maintenance" in hatui().stdout
    out = hatui("on", "ctl-1", "--note", "BIOS update")
    assert out.returncode == 0 and "ctl-1  since" in out.stdout and "BIOS update" in out.stdout
    assert set(json.loads(path.read_text())["elements"]) == {"ctl-1"}
    assert hatui("off", "ctl-1").returncode == 0 and json.loads(path.read_text())["elements"] == {}
    bad = hatui("on")
    assert bad.returncode == 3 and "name the hosts" in bad.stderr
