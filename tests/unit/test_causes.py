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
             f("galera.unreachable:db-1"), f("galera.quorum_spof:db-1", FindingKind.SPOF)]
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


def test_services_failing_on_the_database_they_need_are_explained_by_it():
    found = [f("galera.no_primary:galera"), f("services.none_up:nova-conductor"),
             f("services.down:nova-conductor@ctl-1"), f("rabbitmq.mem_alarm:rabbitmq")]
    got = causes(found, TOP)
    assert got["services.down:nova-conductor@ctl-1"] == "galera.no_primary:galera"
    assert "services.none_up:nova-conductor" in got and "galera.no_primary:galera" not in got
