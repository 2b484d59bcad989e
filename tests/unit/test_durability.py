"""Durability N-1 (issue 14): which single failure would lose committed data now, from the lab's captures
(tests/fixtures/galera, tests/fixtures/rabbit/queues) and from topologies built by hand."""
from __future__ import annotations

import json
from dataclasses import replace
from types import MappingProxyType

import pytest

from hatui.faces.ok_to_stop import verdict_json
from hatui.model import FindingKind, Observation, Severity
from hatui.model.cloud import CloudState
from hatui.model.copies import Copies
from hatui.model.rabbitmq_queues import CLASSIC, QUORUM, STREAM, QueuesGarbled, queues_of, summarise
from hatui.model.redundancy import INSTANCE, Element, data_points, find, ok_to_stop
from hatui.model.survival import Majority
from hatui.model.topology import DATABASE, QUEUE, Host, Instance, Placement, Service, Topology
from hatui.monitor import Monitor
from hatui.rules import RuleContext
from hatui.rules.redundancy import durability_spof
from hatui.ui.views.redundancy import redundancy_pane
from hatui.words import verdict_lines
from tests import fixtures_galera, fixtures_rabbit
from tests.fixtures_rabbit import QUEUES, queues_observation

QQ = "hatui-dur-qq-1, hatui-dur-qq-2, hatui-dur-qq-3"
RABBIT = fixtures_rabbit.rabbit_config(queues={"interval": 5})


def galera_assessment(state: str):
    m = Monitor(fixtures_galera.CONFIG, started_at=99)
    for o in fixtures_galera.state_observations(state):
        m.ingest(o)
    return m.assess(100)


def rabbit_assessment(queues: str, management: str = "healthy", user: str = "queues"):
    m = Monitor(RABBIT, started_at=99)
    for o in fixtures_rabbit.state_observations(management):
        m.ingest(o)
    m.ingest(queues_observation(queues, user=user))
    return m.assess(100)


def durability(a) -> dict[str, str]:
    return {f.id: f.summary for f in a.findings if f.condition == "durability_spof"}


# ---- Galera: the only Synced member of the Primary component -------------------------------------------------

@pytest.mark.parametrize("state, expected", [
    ("healthy", {}),
    ("desynced_node2", {}),      # two Synced copies left
    ("one_killed", {}),          # availability SPOFs (quorum), but two Synced copies
    ("two_killed", {}),          # no Primary component: down, nothing left to lose
    ("one_synced_desynced", {"galera.durability_spof:db-1": "db-1: the only synced copy of the database (db-2 "
                             "Donor/Desynced, db-3 Donor/Desynced: not synced): losing it loses committed data"}),
    ("one_synced_alone", {"galera.durability_spof:db-1": "db-1: the only synced copy of the database: losing it "
                          "loses committed data"}),
])
def test_galera_durability_spof_from_captures(state, expected):
    a = galera_assessment(state)
    assert durability(a) == expected
    for f in a.findings:
        if f.condition == "durability_spof":
            assert (f.kind, f.severity, f.area) == (FindingKind.SPOF, Severity.WARNING, "galera")


def test_one_synced_of_three_is_data_loss_not_downtime():
    """Two members desynced: the component keeps its quorum (no availability SPOF), but one copy is current."""
    a = galera_assessment("one_synced_desynced")
    assert not any(f.condition == "spof" and f.source == "galera" for f in a.findings)
    top = a.cloud.topology
    v = ok_to_stop(top, [find(top, "db-1")])
    assert v.code == 2 and not v.down and [c.service for c in v.data_lost] == [DATABASE]
    assert "  loses data: the only synced copy of the database (db-2 Donor/Desynced, db-3 Donor/Desynced: not " \
           "synced): losing it loses committed data" in verdict_lines(v, top)
    doc = verdict_json(v, top)
    assert doc["verdict"] == "NOT OK to stop" and doc["data_loss"][0].startswith("the only synced copy")
    v = ok_to_stop(top, [find(top, "db-2")])  # a desynced member holds no copy that counts
    assert v.code == 1 and not v.data_lost and v.data_exposed[0][2]  # quorum margin 0 after; one copy, as now


def test_unseen_members_are_unknown_not_safe_nor_spof():
    """A member of the component hatui does not poll may or may not hold a copy: no verdict of one copy."""
    a = galera_assessment("one_synced_desynced")
    (c,) = a.cloud.topology.copies
    assert c.unknown == 0
    top = replace(a.cloud.topology, copies=(replace(c, unknown=1),))
    assert data_points(top) == []


# ---- RabbitMQ: the queue list ([rabbitmq.queues]) ------------------------------------------------------------

def test_queue_list_is_summarised_by_layout():
    body = json.loads((QUEUES / "mirror_unsynced" / "queues.json").read_text())["body"]
    streams = json.loads((QUEUES / "mirror_unsynced" / "streams.json").read_text())["body"]
    data = summarise(body, streams)
    assert data["listed"] == 6 and data["unknown"] == 0
    groups = {(g["kind"], tuple(g["holders"])): g["count"] for g in data["groups"]}
    assert groups == {(CLASSIC, ("rabbit1@localhost",)): 1,  # the unsynchronised mirror on rabbit3 does not count
                      (QUORUM, ("rabbit1@localhost", "rabbit3@localhost")): 3,
                      (STREAM, ("rabbit1@localhost", "rabbit3@localhost")): 1}
    # without the stats-mode list, the stream's replicas are not known: counted unknown, never safe
    assert summarise(body)["unknown"] == 1


@pytest.mark.parametrize("queues, management, expected", [
    ("healthy", "healthy", {}),
    ("node3_app_stopped", "stop_app", {
        f"rabbitmq.durability_spof:mq-{n}": f"mq-{n} (rabbit{n}@localhost): 3 quorum queues would lose their majority "
                                            f"({QQ}); 1 stream would lose its majority (hatui-dur-st)"
        for n in (1, 2)}),
    ("mirror_unsynced", "healthy", {
        "rabbitmq.durability_spof:mq-1": "mq-1 (rabbit1@localhost): 1 classic mirrored queue would lose its only "
                                         f"synchronised copy (hatui-dur-cm); 3 quorum queues would lose their majority "
                                         f"({QQ}); 1 stream would lose its majority (hatui-dur-st)",
        "rabbitmq.durability_spof:mq-3": f"mq-3 (rabbit3@localhost): 3 quorum queues would lose their majority ({QQ}); "
                                         "1 stream would lose its majority (hatui-dur-st)"}),
])
def test_rabbit_durability_spof_from_captures(queues, management, expected):
    a = rabbit_assessment(queues, management)
    assert durability(a) == expected
    assert all(f.kind == FindingKind.SPOF and f.area == "rabbitmq" for f in a.findings
               if f.condition == "durability_spof")


def test_a_list_the_account_cannot_see_whole_is_unknown_never_safe():
    """The monitor user without a permission entry on the vhost gets an empty list: the cluster says 6."""
    a = rabbit_assessment("node3_app_stopped", "stop_app", user="monitor")
    f = next(f for f in a.findings if f.id == "rabbitmq-queues.not_allowed:lab-mq")
    assert f.severity == Severity.UNKNOWN and "shows 0 of the cluster's 6 queues" in f.summary
    assert not durability(a)


def test_ok_to_stop_counts_queues_left_at_or_below_their_majority():
    healthy = rabbit_assessment("healthy").cloud.topology
    v = ok_to_stop(healthy, [find(healthy, "mq-1")])
    assert v.code == 1 and not v.data_lost  # every quorum queue keeps its majority, with nothing to spare
    assert {(c.kind, tuple(k.split("/")[1] for k in left), same) for c, left, same in v.data_exposed} == \
        {(QUORUM, ("mq-2", "mq-3"), False), (STREAM, ("mq-2", "mq-3"), False)}
    at_minimum = rabbit_assessment("node3_app_stopped", "stop_app").cloud.topology
    v = ok_to_stop(at_minimum, [find(at_minimum, "mq-2")])
    assert v.code == 2 and {c.kind for c in v.data_lost} == {QUORUM, STREAM}
    doc = verdict_json(v, at_minimum)
    assert doc["data_loss"] == [f"3 quorum queues would lose their majority ({QQ})",
                                "1 stream would lose its majority (hatui-dur-st)"]


def test_the_redundancy_pane_shows_data_loss_beside_downtime():
    a = rabbit_assessment("mirror_unsynced")
    pane = redundancy_pane(a, RABBIT)
    rows = {r[1][0]: r for r in pane.rows}
    assert rows["quorum queues: data"][0] == ("◆ DATA", "spof")
    assert rows["quorum queues: data"][4] == ("data loss with: mq-1 (message queue), mq-3 (message queue)", "spof")
    assert rows["classic mirrored queues: data"][4][0] == "data loss with: mq-1 (message queue)"
    assert rows["message queue"][0][0] != "◆ SPOF"  # the cluster itself survives any single failure
    assert "(downtime)" in pane.headline[0][0] and "(data loss)" in pane.headline[1][0]


def test_check_and_the_pane_agree():
    """The same CloudState.durability feeds the findings (check, watch, serve) and the pane."""
    a = galera_assessment("one_synced_desynced")
    pane = redundancy_pane(a, fixtures_galera.CONFIG)
    rows = {r[1][0]: r for r in pane.rows}
    assert rows["database: data"][4] == ("data loss with: db-1 (database)", "spof")
    assert rows["database: data"][2][0] == "1/3 synced"
    assert durability(a) and all(f.subject == "db-1" for f in a.findings if f.condition == "durability_spof")


# ---- the engine on topologies built by hand -----------------------------------------------------------------

def _top(copies, feeds=("pdu-a", "pdu-a", "pdu-b")) -> Topology:
    hosts = {f"ctl-{n}": Host(f"ctl-{n}", (("power", feeds[n - 1]),), True) for n in (1, 2, 3)}
    instances = tuple(Instance(f"mq-{n}", QUEUE, True, Placement(f"ctl-{n}", "observed", "")) for n in (1, 2, 3))
    return Topology(MappingProxyType(hosts), MappingProxyType({QUEUE: Service(QUEUE, Majority(3))}), instances,
                    copies=tuple(copies))


def test_a_feed_under_two_replicas_loses_the_majority_even_with_every_replica_online():
    qq = Copies(QUEUE, QUORUM, tuple(f"{QUEUE}/mq-{n}" for n in (1, 2, 3)), 2, 3, count=12, names=("a", "b", "c"))
    top = _top([qq])
    points = {e.name: hit for e, hit in data_points(top)}
    assert set(points) == {"pdu-a"}  # no single node, host or the other feed
    snapshot = galera_assessment("healthy").snapshot  # any: the rule reads the CloudState only
    ctx = RuleContext(snapshot, CloudState(100, topology=top, durability=tuple(data_points(top))),
                      fixtures_galera.CONFIG, (), 0)
    (f,) = durability_spof(ctx)
    assert f.id == "redundancy.durability_spof:pdu-a"
    assert f.summary == ("pdu-a (power feed of ctl-1, ctl-2): losing it loses data: 12 quorum queues would lose "
                         "their majority (a, b, c +9 more)")


def test_data_lost_already_is_not_ok_and_no_spof():
    lost = Copies(QUEUE, QUORUM, (f"{QUEUE}/mq-1",), 2, 3, names=("q",))
    top = _top([lost])
    assert data_points(top) == []
    v = ok_to_stop(top, [Element(INSTANCE, f"{QUEUE}/mq-3")])
    assert v.code == 2 and v.data_lost_now == (lost,) and not v.data_lost


# ---- the parser -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    {},
    {"groups": [{"kind": "quorum queue", "members": ["a"], "holders": ["b"], "count": 1}], "listed": 1},
    {"groups": [{"kind": "nope", "members": ["a"], "holders": [], "count": 1}], "listed": 1},
    {"groups": [{"kind": "stream", "members": ["a"], "holders": [], "count": 0}], "listed": 1},
    {"groups": [], "listed": -1},
    {"groups": [], "listed": 0, "total": True},
])
def test_garbled_queue_lists(data):
    with pytest.raises(QueuesGarbled):
        queues_of(Observation("rabbitmq-queues", "lab-mq", 1.0, 0.1, data=data))


def test_a_non_list_is_garbled_at_the_source():
    with pytest.raises(QueuesGarbled):
        summarise({"error": "x"})
