"""The endpoints and services panes on captured lab states: what the operator reads."""
from __future__ import annotations

from hatui.monitor import Monitor
from hatui.ui.views import pane_model
from tests.fixtures_openstack import (
    endpoints_obs,
    failed_answer,
    healthy,
    keystone_down,
    lab_config,
    neutron_obs,
    nova_obs,
)


def panes(observations, at: float = 100.0):
    cfg = lab_config()
    m = Monitor(cfg, started_at=at - 1)
    for o in observations:
        m.ingest(o)
    a = m.assess(at)
    return pane_model("endpoints", a, cfg), pane_model("services", a, cfg)


def text(cells) -> str:
    return "".join(t for t, _ in cells)


def replace(observations, new):
    return [new if o.key == new.key else o for o in observations]


def test_healthy_panes():
    ep, sv = panes(healthy())
    assert ep.tone == "spof"  # the single-server VIPs
    assert text(ep.headline).startswith("✔ OK  Keystone lab: token for hatui-reader (project hatui-lab; reader)")
    rows = {r[1][0]: r for r in ep.rows}
    assert [t for t, _ in rows["compute (nova)"][1:]] == ["compute (nova)", "all", "127.0.0.1:8774", "200 v2.1",
                                                         "3.0 ms", "-"]
    assert rows["keystone-vip"][2] == ("extra", "dim")
    assert rows["haproxy lb/placement"][0] == ("◆ SPOF", "spof")
    assert rows["haproxy lb/keystone"][4] == ("2/2 UP", "ok")
    assert sv.tone == "ok"
    assert text(sv.headline) == "nova-conductor 2/2  nova-scheduler 2/2  neutron-metadata-agent 1/1  "
    assert [(r[1][0], r[2][0], r[4][0]) for r in sv.rows][:2] == [("nova-conductor", "lab-ctl-0", "up"),
                                                                 ("nova-conductor", "lab-ctl-1", "up")]


def test_conductor_down_row_and_spof_headline():
    _ep, sv = panes(replace(healthy(), nova_obs("nova_os_services_conductor_down.json")))
    row = next(r for r in sv.rows if (r[1][0], r[2][0]) == ("nova-conductor", "lab-ctl-1"))
    assert row[0] == ("▲ WARN", "warning") and row[4] == ("DOWN", "critical")
    assert ("nova-conductor 1/2", "spof") in sv.headline


def test_reader_sees_not_allowed_instead_of_an_empty_table():
    obs = replace(replace(healthy(), nova_obs("nova_os_services_reader_403.json")),
                  neutron_obs("neutron_agents_reader_empty.json", ["reader"]))
    _ep, sv = panes(obs)
    assert sv.rows == () and sv.tone == "unknown"  # not allowed to see: not known, not broken
    lines = text(sv.headline).split("\n")
    assert lines[0].startswith("nova: not allowed: needs the policy os_compute_api:os-services:list")
    assert lines[1].startswith("neutron: not allowed: neutron returns an empty agent list")


def test_keystone_down_headline_and_endpoints_still_shown():
    obs = replace(replace(healthy(), keystone_down()),
                  endpoints_obs({"http://127.0.0.1:5000/v3/": failed_answer("refused", "Connection refused")}))
    ep, _sv = panes(obs)
    assert text(ep.headline).startswith("✖ CRIT  Keystone lab: Keystone http://127.0.0.1:15000/v3: connection "
                                        "refused; endpoints still probed")
    rows = {r[1][0]: r for r in ep.rows}
    assert rows["identity (keystone)"][0] == ("✖ DOWN", "critical")
    assert rows["identity (keystone)"][4] == ("Connection refused", "critical")
    assert rows["compute (nova)"][0] == ("✔ OK", "ok")


def test_cached_catalog_is_said():
    ep, _ = panes(replace(healthy(), endpoints_obs(origin="cache")))
    assert "catalog cached at" in text(ep.headline)
