"""Root cause (hatui.rules.causes): which finding explains which, through the topology."""
from __future__ import annotations

from hatui.model import Finding, FindingKind, Severity
from hatui.model.survival import AtLeast, Majority
from hatui.model.topology import DATABASE, QUEUE, Service
from hatui.rules.causes import causes
from tests.unit.test_redundancy import DB, HOSTS, cloud, galera, inst


def f(fid: str, kind: FindingKind = FindingKind.FAILURE) -> Finding:
    source_condition, subject = fid.split(":", 1)
    return Finding(fid, kind, Severity.CRITICAL, source_condition.split(".")[0], subject, fid)


MQ = [inst(f"mq-{n}", QUEUE, f"ctl-{n}") for n in (1, 2, 3)]
CONDUCTORS = [inst(f"nova-conductor@ctl-{n}", "nova-conductor", f"ctl-{n}") for n in (1, 2, 3)]
TOP = cloud(HOSTS, DB + MQ + CONDUCTORS, [galera(["db-1", "db-2", "db-3"]), Service(QUEUE, Majority(3)),
                                          Service("nova-conductor", AtLeast(1), (DATABASE, QUEUE))])


def test_a_powered_off_host_explains_its_instances_not_the_spofs_it_leaves():
    found = [f("hosts.power_off:ctl-2"), f("galera.unreachable:db-2"), f("rabbitmq.not_running:mq-2"),
             f("rabbitmq-amqp.unreachable:mq-2"), f("services.down:nova-conductor@ctl-2"),
             f("galera.unreachable:db-1"), f("galera.spof:db-1", FindingKind.SPOF)]
    assert causes(found, TOP) == {fid: "hosts.power_off:ctl-2" for fid in (
        "galera.unreachable:db-2", "rabbitmq.not_running:mq-2", "rabbitmq-amqp.unreachable:mq-2",
        "services.down:nova-conductor@ctl-2")}  # db-1 is on ctl-1: not explained; a SPOF never folded


def test_a_feed_is_the_root_of_its_hosts_and_their_instances():
    found = [f("hosts.feed_off:pdu-a"), f("hosts.power_off:ctl-1"), f("hosts.power_off:ctl-2"),
             f("galera.unreachable:db-1"), f("galera.size:galera")]
    got = causes(found, cloud(HOSTS, [inst("db-1", DATABASE, "ctl-1", up=False),
                                      inst("db-2", DATABASE, "ctl-2", up=False), DB[2]], [galera(["db-3"], 1)]))
    assert got == {fid: "hosts.feed_off:pdu-a" for fid in ("hosts.power_off:ctl-1", "hosts.power_off:ctl-2",
                                                           "galera.unreachable:db-1", "galera.size:galera")}
    assert "hosts.feed_off:pdu-a" not in got  # never itself


def test_a_cluster_short_of_members_for_two_reasons_is_not_explained():
    top = cloud(HOSTS, [DB[0], inst("db-2", DATABASE, "ctl-2", up=False), inst("db-3", DATABASE, "ctl-3", up=False)],
                [galera(["db-1"], 1)])
    found = [f("hosts.power_off:ctl-2"), f("hosts.unreachable:ctl-3"), f("galera.size:galera")]
    assert "galera.size:galera" not in causes(found, top)


def test_a_feed_that_takes_the_quorum_explains_the_survivor_left_without_it():
    # pdu-a holds ctl-1 and ctl-2: db-3 survives alone, in a non-Primary component, because of the feed
    top = cloud(HOSTS, [inst("db-1", DATABASE, "ctl-1", up=False), inst("db-2", DATABASE, "ctl-2", up=False),
                        inst("db-3", DATABASE, "ctl-3", up=False)], [galera(["db-1", "db-2", "db-3"])])
    found = [f("hosts.feed_off:pdu-a"), f("hosts.power_off:ctl-1"), f("hosts.power_off:ctl-2"),
             f("galera.no_primary:galera"), f("galera.non_primary:db-3"), f("services.down:nova-conductor@ctl-3")]
    got = causes(found, cloud(HOSTS, list(top.instances) + CONDUCTORS, [*top.services.values(),
                                                                      *TOP.services.values()]))
    assert got["galera.no_primary:galera"] == got["galera.non_primary:db-3"] == "hosts.feed_off:pdu-a"
    assert got["services.down:nova-conductor@ctl-3"] == "hosts.feed_off:pdu-a"  # through the database


def test_a_quorum_lost_to_a_power_cut_and_a_partition_together_is_not_folded_under_either():
    # db-1's host is off, but db-2 and db-3 (healthy hosts, a majority by themselves) lost each other too
    top = cloud(HOSTS, [inst("db-1", DATABASE, "ctl-1", up=False), inst("db-2", DATABASE, "ctl-2", up=False),
                        inst("db-3", DATABASE, "ctl-3", up=False)], [galera(["db-1", "db-2", "db-3"])])
    found = [f("hosts.power_off:ctl-1"), f("galera.no_primary:galera"), f("galera.non_primary:db-2"),
             f("galera.non_primary:db-3")]
    got = causes(found, top)
    assert not {"galera.no_primary:galera", "galera.non_primary:db-2", "galera.non_primary:db-3"} & set(got)


def test_the_service_lists_follow_a_failing_login_and_the_load_balancer_its_host():
    from hatui.model.topology import LOAD_BALANCER
    lb = inst("lb", f"{LOAD_BALANCER} lb", "ctl-1")
    identity = inst("identity", "identity (keystone) API", "ctl-1", up=False)
    top = cloud(HOSTS, [lb, identity], [])
    found = [f("hosts.power_off:ctl-1"), f("haproxy.unreachable:lb"), f("keystone.unreachable:cloud"),
             f("services.unreachable:nova"), f("services.unreachable:neutron")]
    assert causes(found, top) == {fid: "hosts.power_off:ctl-1" for fid in (
        "haproxy.unreachable:lb", "keystone.unreachable:cloud", "services.unreachable:nova",
        "services.unreachable:neutron")}
    # Keystone down on a host hatui does not know: the lists still follow it, as its consequences
    got = causes([f("keystone.unreachable:cloud"), f("services.unreachable:nova")], cloud(HOSTS, [], []))
    assert got == {"services.unreachable:nova": "keystone.unreachable:cloud"}


def test_services_failing_on_the_database_they_need_are_explained_by_it():
    found = [f("galera.no_primary:galera"), f("services.none_up:nova-conductor"),
             f("services.down:nova-conductor@ctl-1"), f("rabbitmq.mem_alarm:rabbitmq")]
    got = causes(found, TOP)
    assert got["services.down:nova-conductor@ctl-1"] == "galera.no_primary:galera"
    assert "services.none_up:nova-conductor" in got and "galera.no_primary:galera" not in got


# --- on the lab recording (tests/lab/record_incident.py): real answers, real faults ----------------------

def _at(kind: str):
    from hatui.config import parse
    from hatui.feed.recording import read_recording
    from hatui.monitor import Monitor
    from tests.ui.scenario import INCIDENT, moment

    doc, observations = read_recording(INCIDENT)
    config = parse(doc, str(INCIDENT), resolve_secrets=False)
    t0 = observations[0].observed_at
    at = t0 + moment(kind)
    monitor = Monitor(config, started_at=t0)
    for obs in observations:
        if obs.observed_at > at:
            break
        monitor.ingest(obs)
    return monitor.assess(at)


def test_a_controller_powered_off_is_one_cause_with_its_consequences_folded():
    from hatui.faces.check import summary_line

    a = _at("controller_down")
    failures = {f.id: f.caused_by for f in a.findings if f.kind == FindingKind.FAILURE}
    root = "hosts.power_off:lab-ctl-1"
    assert failures.pop(root) is None
    # keystone-2 is an extra URL on 127.0.0.1: nothing says which host serves it, so nothing explains it
    assert failures.pop("endpoint.down:keystone-2") is None
    assert {"galera.unreachable:db-2", "rabbitmq.not_running:mq-2", "services.down:nova-conductor@lab-ctl-1",
            "haproxy.server_down:lb/keystone/lab-ctl-1", "galera.size:lab-db"} <= set(failures)
    assert set(failures.values()) == {root}, failures
    head = summary_line(a).split(" | ")[0]
    assert head.startswith("HATUI CRITICAL - ") and f"(+{len(failures)} explained)" in head, head


def test_a_memory_alarm_explains_blocked_publishers_and_the_agents_behind_them():
    got = {f.id: f.caused_by for f in _at("publishers_blocked").findings}
    alarm = next(fid for fid in got if fid.startswith("rabbitmq.mem_alarm:"))
    assert got[alarm] is None and got["rabbitmq.publishers_blocked:hatui-lab"] == alarm
    assert {cause for fid, cause in got.items() if fid.startswith("services.")} == {alarm}


def test_a_database_without_quorum_explains_keystones_failing_login():
    """Seen on the lab cloud: two Galera nodes killed, Keystone answers 500 to the token check."""
    found = [f("galera.no_primary:cloud-db"), f("keystone.unreachable:cloud"), f("services.unreachable:nova")]
    got = causes(found, TOP)
    assert got["keystone.unreachable:cloud"] == got["services.unreachable:nova"] == "galera.no_primary:cloud-db"
    assert "galera.no_primary:cloud-db" not in got


def test_a_database_without_quorum_explains_the_apis_failing_on_it():
    got = {f.id: f.caused_by for f in _at("openstack_without_db").findings}
    assert got["services.unreachable:nova"] == got["services.unreachable:neutron"] == "galera.no_primary:lab-db"
    assert got["galera.no_primary:lab-db"] is None


def test_a_switch_down_does_not_explain_a_host_bonded_to_another_switch_too():
    from tests.unit.test_redundancy import bonded
    hosts = [HOSTS[0], bonded("ctl-2", ["pdu-a"], ["sw-1", "sw-2"], "r2"), HOSTS[2]]
    top = cloud(hosts, DB, [galera(["db-1", "db-2", "db-3"])])
    found = [f("hosts.switch_down:sw-1"), f("hosts.unreachable:ctl-1"), f("galera.unreachable:db-1"),
             f("galera.unreachable:db-2")]
    got = causes(found, top)
    assert got["hosts.unreachable:ctl-1"] == got["galera.unreachable:db-1"] == "hosts.switch_down:sw-1"
    assert "galera.unreachable:db-2" not in got  # ctl-2 is still on sw-2: its node's trouble is its own


def test_an_api_slow_while_a_server_behind_its_backend_is_powered_off_follows_the_power_cut():
    from hatui.model.topology import LOAD_BALANCER
    api = Service("compute (nova) API", AtLeast(1), ("backend lb/nova_api",))
    servers = [inst(f"ctl-{n}", "backend lb/nova_api", f"ctl-{n}") for n in (1, 2)]
    top = cloud(HOSTS, [inst("lb", f"{LOAD_BALANCER} lb", "ctl-1"), inst("compute", api.name, "ctl-1"), *servers],
                [api, Service("backend lb/nova_api", AtLeast(1), (f"{LOAD_BALANCER} lb",))])
    found = [f("hosts.power_off:ctl-2"), f("haproxy.server_down:lb/nova_api/ctl-2"), f("endpoint.latency:compute")]
    got = causes(found, top)
    assert got["endpoint.latency:compute"] == got["haproxy.server_down:lb/nova_api/ctl-2"] == "hosts.power_off:ctl-2"
    # before HAProxy marks the dead server DOWN, the same: it still sends it requests
    assert causes(found[::2], top) == {"endpoint.latency:compute": "hosts.power_off:ctl-2"}
    # no server of its backend on a host in trouble: its slowness is its own
    assert causes([f("hosts.power_off:ctl-3"), f("endpoint.latency:compute")], top) == {}
