"""OpenStack rules on captures from the real lab (tests/fixtures/openstack): what the operator reads."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from hatui.model import FindingKind, Observation, Severity
from hatui.monitor import Monitor
from tests.fixtures_openstack import (
    endpoints_obs,
    failed_answer,
    haproxy_obs,
    healthy,
    keystone_down,
    keystone_obs,
    lab_config,
    neutron_obs,
    nova_obs,
)

# HAProxy in front of one placement, one glance-api and one neutron-server: SPOFs by construction.
# by construction: three backends with one server each, and one HAProxy in front of them all
LAB_SPOFS = {"haproxy.spof:lb/placement/lab-ctl-0", "haproxy.spof:lb/glance_api/lab-ctl-0",
             "haproxy.spof:lb/neutron_api/lab-ctl-0", "haproxy.spof:lb"}


def assess(observations: list[Observation], config=None, at: float = 100.0):
    m = Monitor(config or lab_config(), started_at=at - 1)
    for o in observations:
        m.ingest(o)
    return m.assess(at)


def ids(a) -> set[str]:
    return {f.id for f in a.findings}


def by_id(a) -> dict:
    return {f.id: f for f in a.findings}


def replace(observations: list[Observation], new: Observation) -> list[Observation]:
    return [new if o.key == new.key else o for o in observations]


def test_healthy_lab_has_only_the_single_backend_vips_as_spofs():
    a = assess(healthy())
    assert ids(a) == LAB_SPOFS
    assert a.status == Severity.WARNING
    f = by_id(a)["haproxy.spof:lb/placement/lab-ctl-0"]  # the server is the single point
    assert f.kind == FindingKind.SPOF and f.area == "endpoints"
    assert f.summary == "lb/placement/lab-ctl-0: the only server configured: its loss takes placement down"
    lb = by_id(a)["haproxy.spof:lb"].summary
    assert lb == ("lb: the only HAProxy in front of its backends, on a host hatui cannot tell: its loss takes down "
                  "load balancer lb -> backend lb/keystone, backend lb/nova_api, backend lb/placement, "
                  "backend lb/glance_api, backend lb/neutron_api"), lb


def test_conductor_killed_is_down_and_the_survivor_a_spof():
    a = assess(replace(healthy(), nova_obs("nova_os_services_conductor_down.json")))
    assert ids(a) - LAB_SPOFS == {"services.down:nova-conductor@lab-ctl-1", "services.spof:nova-conductor@lab-ctl-0"}
    f = by_id(a)
    assert f["services.down:nova-conductor@lab-ctl-1"].severity == Severity.WARNING
    assert f["services.down:nova-conductor@lab-ctl-1"].summary.startswith(
        "nova-conductor@lab-ctl-1: down (last heartbeat ")
    assert f["services.down:nova-conductor@lab-ctl-1"].summary.endswith(
        "down after 6 s); 1 of 2 nova-conductor up")
    spof = f["services.spof:nova-conductor@lab-ctl-0"]  # the one left is the single point
    assert spof.kind == FindingKind.SPOF and spof.area == "services"
    assert spof.summary == ("nova-conductor@lab-ctl-0: only lab-ctl-0 is up (lab-ctl-1 down): its loss stops "
                            "nova-conductor")


def _nova_rows(obs: Observation, changes: dict[str, dict]) -> Observation:
    """A real capture with some rows changed (keys: 'binary@host')."""
    rows = [{**r, **changes.get(f"{r['binary']}@{r['host']}", {})} for r in obs.data["services"]]
    return dataclasses.replace(obs, data={**obs.data, "services": rows})


def test_both_conductors_down_is_critical():
    """Composed from the real conductor_down capture: lab-ctl-0 marked down as well."""
    obs = _nova_rows(nova_obs("nova_os_services_conductor_down.json"), {"nova-conductor@lab-ctl-0": {"state": "down"}})
    a = assess(replace(healthy(), obs))
    f = by_id(a)["services.none_up:nova-conductor"]
    assert f.severity == Severity.CRITICAL and a.status == Severity.CRITICAL
    assert f.summary == "nova-conductor: none of 2 up (lab-ctl-0 down, lab-ctl-1 down)"
    assert not any(i.startswith("services.spof:") for i in ids(a))


def test_forced_down_and_disabled_with_reason():
    obs = _nova_rows(nova_obs("nova_os_services_all_up.json"), {
        "nova-scheduler@lab-ctl-1": {"forced_down": True},
        "nova-conductor@lab-ctl-1": {"status": "disabled", "disabled_reason": "kernel upgrade"}})
    f = by_id(assess(replace(healthy(), obs)))
    assert f["services.forced_down:nova-scheduler@lab-ctl-1"].summary == (
        "nova-scheduler@lab-ctl-1: forced down (by an operator or a fencing tool)")
    assert f["services.disabled:nova-conductor@lab-ctl-1"].summary == (
        "nova-conductor@lab-ctl-1: disabled: kernel upgrade")
    # forced down does not count toward redundancy (the other scheduler is a SPOF); disabled still runs
    assert "services.spof:nova-scheduler@lab-ctl-0" in f
    assert not any(i.startswith("services.spof:nova-conductor") for i in f)


def test_heartbeat_late_warns_before_nova_says_down():
    """A conductor still 'up' whose heartbeat is 5 s old on the server's clock (every 2 s, down after
    6 s): warned from 4 s on. Composed from the all-up capture and its Date header."""
    obs = nova_obs("nova_os_services_all_up.json")
    beat = dt.datetime.fromtimestamp(obs.data["server_time"] - 5, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000000")
    late = _nova_rows(obs, {"nova-conductor@lab-ctl-1": {"updated_at": beat}})
    f = by_id(assess(replace(healthy(), late)))
    assert set(f) - LAB_SPOFS == {"services.heartbeat_late:nova-conductor@lab-ctl-1"}
    assert f["services.heartbeat_late:nova-conductor@lab-ctl-1"].summary == (
        "nova-conductor@lab-ctl-1: last heartbeat 5.0 s ago (expected every 2 s; reported down after 6 s)")
    # 3 s (one heartbeat late, the lab's usual jitter) is not a warning
    beat = dt.datetime.fromtimestamp(obs.data["server_time"] - 3, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000000")
    assert ids(assess(replace(healthy(), _nova_rows(obs, {"nova-conductor@lab-ctl-1": {"updated_at": beat}})))) \
        == LAB_SPOFS


def test_metadata_agent_dead_is_none_up():
    a = assess(replace(healthy(), neutron_obs("neutron_agents_one_dead.json", ["admin"])))
    assert ids(a) - LAB_SPOFS == {"services.down:neutron-metadata-agent@lab-ctl-0",
                                  "services.none_up:neutron-metadata-agent"}


def test_reader_is_told_what_it_needs_never_an_empty_healthy_table():
    obs = [keystone_obs(), endpoints_obs(), nova_obs("nova_os_services_reader_403.json"),
           neutron_obs("neutron_agents_reader_empty.json", ["reader"]), haproxy_obs("haproxy_stats_all_up.csv")]
    f = by_id(assess(obs))
    assert f["services.not_allowed:nova"].summary == (
        "nova: not allowed: needs the policy os_compute_api:os-services:list: role admin, or a reader with the "
        "one-line policy override (README, OpenStack)")
    assert f["services.not_allowed:neutron"].summary.startswith(
        "neutron: not allowed: neutron returns an empty agent list to this account (roles: reader)")
    # an admin's empty list is believed
    a = assess(replace(obs, neutron_obs("neutron_agents_reader_empty.json", ["admin", "reader"])))
    assert "services.not_allowed:neutron" not in ids(a)


def test_endpoint_refused_and_hanging_name_the_service_and_reason():
    obs = replace(healthy(), endpoints_obs({
        "http://127.0.0.1:8774/v2.1": failed_answer("refused", "Connection refused"),
        "http://127.0.0.1:9292": failed_answer("timeout", "connected, no answer within 2 s", 2.0),
    }))
    f = by_id(assess(obs))
    assert f["endpoint.down:compute"].summary == (
        "compute (nova) public+internal+admin http://127.0.0.1:8774/v2.1: Connection refused")
    assert f["endpoint.down:compute"].severity == Severity.CRITICAL
    assert f["endpoint.down:image"].summary.endswith(": connected, no answer within 2 s")


def test_wrong_content_and_unexpected_status():
    html = {"status": 200, "latency": 0.002, "versions": None, "content_type": "text/html", "location": None,
            "tls": None, "error": None}
    moved = {**html, "status": 301, "location": "https://api.example/"}
    f = by_id(assess(replace(healthy(), endpoints_obs({"http://127.0.0.1:9696": html,
                                                       "http://127.0.0.1:18774/": moved}))))
    assert f["endpoint.wrong_content:network"].severity == Severity.CRITICAL
    assert "not an OpenStack version document" in f["endpoint.wrong_content:network"].summary
    assert f["endpoint.wrong_content:nova-vip"].severity == Severity.WARNING
    assert f["endpoint.wrong_content:nova-vip"].summary.endswith("HTTP 301: redirects to https://api.example/")


KEYSTONE_GONE = {"http://127.0.0.1:5000/v3/": failed_answer("refused", "Connection refused"),
                 "http://127.0.0.1:15000/": failed_answer("timeout", "connected, no answer within 2 s", 2.0),
                 "http://127.0.0.1:15000/v3": failed_answer("timeout", "connected, no answer within 2 s", 2.0)}


def test_keystone_down_is_one_finding_and_endpoints_still_judged():
    """Keystone gone: its one finding; Keystone's own URLs (identity, and the extra URL on the auth URL's
    host) are folded into it; the other endpoints (probed from the kept catalog) still count."""
    obs = replace(replace(healthy(), keystone_down()), endpoints_obs(
        {**KEYSTONE_GONE, "http://127.0.0.1:8774/v2.1": failed_answer("refused", "Connection refused")}))
    a = assess(obs)
    f = by_id(a)
    assert f["keystone.unreachable:lab"].summary == (
        "lab: Keystone http://127.0.0.1:15000/v3: connection refused; endpoints still probed from the catalog "
        "of 08:25:48")
    assert ids(a) - LAB_SPOFS == {"keystone.unreachable:lab", "endpoint.down:compute"}


def test_identity_urls_wait_for_keystone_in_the_same_round():
    """The round sees the auth URL fail before the keystone target's next check: no identity finding yet
    (Keystone's own will follow); with the auth URL up, a dead identity URL is its own finding."""
    a = assess(replace(healthy(), endpoints_obs(KEYSTONE_GONE)))
    assert ids(a) == LAB_SPOFS
    only_backend = {"http://127.0.0.1:5000/v3/": failed_answer("refused", "Connection refused")}
    a = assess(replace(healthy(), endpoints_obs(only_backend)))
    assert ids(a) - LAB_SPOFS == {"endpoint.down:identity"}


def test_haproxy_backend_server_down_then_backend_spof():
    a = assess(replace(healthy(), haproxy_obs("haproxy_stats_keystone_backend_down.csv")))
    f = by_id(a)
    assert ids(a) - LAB_SPOFS == {"haproxy.server_down:lb/keystone/lab-ctl-1", "haproxy.spof:lb/keystone/lab-ctl-0"}
    assert f["haproxy.server_down:lb/keystone/lab-ctl-1"].summary.startswith("lb/keystone/lab-ctl-1: DOWN for ")
    assert "check L4CON (connection refused or reset)" in f["haproxy.server_down:lb/keystone/lab-ctl-1"].summary
    assert f["haproxy.spof:lb/keystone/lab-ctl-0"].summary == (
        "lb/keystone/lab-ctl-0: the only server serving (lab-ctl-1 DOWN): its loss takes keystone down")


def test_haproxy_backend_with_no_server_up_is_critical():
    obs = haproxy_obs("haproxy_stats_keystone_backend_down.csv")
    rows = [{**r, "status": "DOWN"} if r["pxname"] == "keystone" and r["svname"] != "FRONTEND" else r
            for r in obs.data["rows"]]
    a = assess(replace(healthy(), dataclasses.replace(obs, data={"rows": rows})))
    f = by_id(a)["haproxy.backend_down:lb/keystone"]
    assert f.severity == Severity.CRITICAL
    assert f.summary == "lb/keystone: no server UP (lab-ctl-0 DOWN, lab-ctl-1 DOWN): requests fail"


def test_haproxy_maintenance_is_named():
    obs = haproxy_obs("haproxy_stats_all_up.csv")
    rows = [{**r, "status": "MAINT"} if (r["pxname"], r["svname"]) == ("nova_api", "lab-ctl-1") else r
            for r in obs.data["rows"]]
    f = by_id(assess(replace(healthy(), dataclasses.replace(obs, data={"rows": rows}))))
    assert f["haproxy.server_maint:lb/nova_api/lab-ctl-1"].summary == (
        "lb/nova_api/lab-ctl-1: MAINT: taken out of service by an operator")
    assert "haproxy.spof:lb/nova_api/lab-ctl-0" in f


@pytest.mark.parametrize("bad, finding_id", [
    ({"source": "keystone", "target": "lab", "data": {"catalog": []}}, "keystone.garbled:lab"),
    ({"source": "endpoint", "target": "endpoints", "data": {"endpoints": 3}}, "endpoint.garbled:endpoints"),
    ({"source": "haproxy", "target": "lb", "data": {"rows": None, "start": "<html>"}}, "haproxy.garbled:lb"),
    ({"source": "services", "target": "nova", "data": {"services": [{"binary": "x"}]}}, "services.garbled:nova"),
])
def test_garbled_answers_are_unknown_and_the_rest_goes_on(bad, finding_id):
    o = Observation(bad["source"], bad["target"], 100.0, 0.01, data=bad["data"])
    a = assess(replace(healthy(), o))
    f = by_id(a)[finding_id]
    assert f.severity == Severity.UNKNOWN
    assert LAB_SPOFS <= ids(a) or bad["source"] == "haproxy"


def test_certificate_expiry():
    tls = {"status": 200, "latency": 0.002, "versions": ["v3.14"], "content_type": "application/json",
           "location": None, "error": None}
    f = by_id(assess(replace(healthy(), endpoints_obs({
        "http://127.0.0.1:15000/": {**tls, "tls": {"verified": True, "days_left": 12.4}},
        "http://127.0.0.1:18774/": {**tls, "tls": {"verified": False, "days_left": -3.0}}}))))
    assert f["endpoint.cert_expiry:keystone-vip"].severity == Severity.WARNING
    assert f["endpoint.cert_expiry:keystone-vip"].summary.endswith("TLS certificate expires in 12 day(s)")
    assert f["endpoint.cert_expiry:nova-vip"].severity == Severity.CRITICAL


def test_slow_version_document_warns():
    slow = {**failed_answer("refused", "x"), "error": None, "status": 200, "versions": ["v2.0"], "latency": 1.5}
    f = by_id(assess(replace(healthy(), endpoints_obs({"http://127.0.0.1:9696": slow}))))
    assert f["endpoint.latency:network"].summary.endswith("version document took 1500 ms (limit 1000 ms)")


def test_separate_urls_per_interface_get_their_own_subjects():
    obs = endpoints_obs()
    entries = []
    for e in obs.data["endpoints"]:
        if e.get("service") == "compute":
            entries.append({**e, "interfaces": ["public"], "url": "https://api.example:8774/v2.1"})
            entries.append({**e, "interfaces": ["internal", "admin"]})
        else:
            entries.append(e)
    o = dataclasses.replace(obs, data={**obs.data, "endpoints": entries})
    from hatui.model.endpoints import parse_endpoint_round
    subjects = [p.subject for p in parse_endpoint_round(o.data).probes]
    assert "compute/public" in subjects and "compute/internal+admin" in subjects and "compute" not in subjects
