"""Galera rules on captures from the real lab (tests/fixtures/galera): one verdict per state."""
from __future__ import annotations

import json

import pytest

from hatui.model import FindingKind, Observation, Severity
from hatui.model.galera import StatusGarbled, parse_wsrep_status
from hatui.monitor import Monitor
from tests.fixtures_galera import CONFIG, FIXTURES, node_observation, state_observations


def assess(observations: list[Observation], at: float = 100.0, hold: float = 0.0):
    m = Monitor(CONFIG, started_at=at - 1)
    for o in observations:
        m.ingest(o)
    a = m.assess(at)
    if hold:
        a = m.assess(at + hold)
    return a


SPOFS = {"galera.spof:db-1", "galera.spof:db-2"}


@pytest.mark.parametrize("state, expected, status", [
    ("healthy", set(), Severity.OK),
    ("one_killed", {"galera.unreachable:db-3", "galera.size:lab-db"} | SPOFS, Severity.CRITICAL),
    ("two_nodes_clean", {"galera.unreachable:db-3", "galera.size:lab-db"} | SPOFS, Severity.CRITICAL),
    ("isolated_node3", {"galera.non_primary:db-3", "galera.size:lab-db"} | SPOFS, Severity.CRITICAL),
    ("two_killed", {"galera.unreachable:db-2", "galera.unreachable:db-3", "galera.non_primary:db-1",
                    "galera.no_primary:lab-db"}, Severity.CRITICAL),
    ("desynced_node2", {"galera.not_synced:db-2"}, Severity.WARNING),
])
def test_each_captured_state_gives_its_verdict(state, expected, status):
    a = assess(state_observations(state))
    assert {f.id for f in a.findings} == expected
    assert a.status == status


def test_spof_findings_name_the_survivors_and_are_spof_kind():
    a = assess(state_observations("one_killed"))
    spof = next(f for f in a.findings if f.id == "galera.spof:db-1")
    assert spof.kind == FindingKind.SPOF and spof.severity == Severity.WARNING
    assert spof.summary == ("db-1: 1 of 2 nodes in the Primary component; losing it leaves db-2 without quorum "
                            "(non-Primary)")


def test_non_primary_and_refused_read_clearly():
    a = assess(state_observations("two_killed"))
    by_id = {f.id: f for f in a.findings}
    assert by_id["galera.unreachable:db-2"].summary == "db-2: connection refused"
    assert by_id["galera.non_primary:db-1"].summary == "db-1: in a non-Primary component of 1: refuses reads and writes"


def test_stale_view_after_thaw_opens_only_if_it_persists():
    """node3 thawed still reports the 3-node view it had (captured healthy), while node1/2 moved on to
    size 2. Composed from two real captures: the lab measured this window at ~0.1 s."""
    obs = [node_observation("one_killed", 1), node_observation("one_killed", 2), node_observation("healthy", 3)]
    brief = assess(obs)
    assert "galera.split_view:lab-db" not in {f.id for f in brief.findings}
    held = assess(obs, hold=1.5)
    f = next(f for f in held.findings if f.id == "galera.split_view:lab-db")
    new_conf, old_conf = (o.data["status"]["wsrep_cluster_conf_id"] for o in (obs[0], obs[2]))
    assert f.summary == (f"lab-db: nodes report different membership: db-1, db-2 see conf {new_conf} size 2; "
                         f"db-3 sees conf {old_conf} size 3")
    assert f.severity == Severity.WARNING


def test_flow_control_names_the_node_that_sent_pauses():
    base = state_observations("healthy", at=100.0)
    later = []
    for o in state_observations("healthy", at=101.0):
        status = dict(o.data["status"])
        status["wsrep_flow_control_paused_ns"] = str(int(status["wsrep_flow_control_paused_ns"]) + 400_000_000)
        if o.target == "db-2":
            status["wsrep_flow_control_sent"] = str(int(status["wsrep_flow_control_sent"]) + 3)
        later.append(Observation(o.source, o.target, o.observed_at, o.latency, data={"status": status}))
    m = Monitor(CONFIG, started_at=99)
    for o in base + later:
        m.ingest(o)
    f = next(f for f in m.assess(101.0).findings if f.id == "galera.flow_control:lab-db")
    assert f.summary == "lab-db: flow control paused replication 40% of the time; caused by db-2"


@pytest.mark.parametrize("why, first_at, then_at", [
    ("a node restarted: its counters start again from zero", 100.0, 101.0),
    ("a recording's loop starts again: time goes back as well", 101.0, 100.0),
])
def test_counters_that_go_back_are_no_flow_control(why, first_at, then_at):
    """The demo once read "flow control paused replication 100% of the time" at each restart of its loop:
    counters (and time) that go back say nothing of the last interval."""
    first = []
    for o in state_observations("healthy", at=first_at):
        status = dict(o.data["status"])
        status["wsrep_flow_control_paused_ns"] = str(int(status["wsrep_flow_control_paused_ns"]) + 50_000_000_000)
        status["wsrep_flow_control_sent"] = str(int(status["wsrep_flow_control_sent"]) + 500)
        first.append(Observation(o.source, o.target, o.observed_at, o.latency, data={"status": status}))
    m = Monitor(CONFIG, started_at=99)
    for o in first + state_observations("healthy", at=then_at):
        m.ingest(o)
    assert not [f for f in m.assess(max(first_at, then_at)).findings if f.condition == "flow_control"], why


def test_garbled_answer_marks_that_node_only():
    obs = state_observations("healthy")
    obs[1] = Observation("galera", "db-2", 100.0, 0.001, data={"status": {"version": "not galera"}})
    a = assess(obs)
    assert {f.id for f in a.findings} == {"galera.garbled:db-2"}
    assert a.status == Severity.UNKNOWN
    with pytest.raises(StatusGarbled):
        parse_wsrep_status({"status": {"wsrep_cluster_status": "Primary", "wsrep_cluster_size": "x"}})


def test_parse_reads_the_fields_operators_need():
    s = parse_wsrep_status(node_observation("desynced_node2", 2).data)
    assert (s.cluster_status, s.cluster_size, s.state_comment, s.local_state, s.ready) == (
        "Primary", 3, "Donor/Desynced", 2, True)
    assert s.is_primary and not s.is_synced


def test_a_dead_node_the_component_still_counts_is_lost_for_the_margin():
    """db-3 refused (killed) while db-1 and db-2 still report the 3-node view, as they do until Galera's
    suspect timeout drops it (seconds): the margin is already 0, each survivor a SPOF, and the pane's
    headline is not the green "Primary 3/3 can lose 1" of a healthy cluster. Composed from two captures."""
    from hatui.ui.views.galera import galera_pane

    obs = [node_observation("healthy", 1), node_observation("healthy", 2), node_observation("one_killed", 3)]
    a = assess(obs)
    assert a.cloud.galera.size == 3 and a.cloud.galera.gone == ("db-3",) and a.cloud.galera.margin == 0
    by_id = {f.id: f for f in a.findings}
    assert {"galera.unreachable:db-3"} | SPOFS <= set(by_id)
    assert by_id["galera.spof:db-1"].summary == (
        "db-1: db-3 already gone (the component still counts it); losing db-1 too leaves db-2 without quorum "
        "(non-Primary)")
    headline = dict(galera_pane(a, CONFIG).headline)
    assert headline["lab-db: Primary 3/3"] == "warning" and headline["db-3 gone"] == "critical"
    assert headline["cannot lose any node"] == "spof" and "can lose 1 node(s)" not in headline


def test_a_healthy_cluster_keeps_its_margin_of_one():
    a = assess(state_observations("healthy"))
    assert a.cloud.galera.gone == () and a.cloud.galera.margin == 1


def test_numbers_are_parsed_exactly():
    """A non-Primary node reports conf id 18446744073709551615 (-1 as unsigned): through a float it
    became ...616."""
    raw = json.loads((FIXTURES / "healthy" / "node1.json").read_text())
    raw["wsrep_cluster_conf_id"] = "18446744073709551615"
    assert parse_wsrep_status({"status": raw}).conf_id == 18446744073709551615


def _weighted(state: str, n: int, weight: str) -> Observation:
    """A captured answer, as the source returns it once the node's provider options say pc.weight."""
    o = node_observation(state, n)
    return Observation(o.source, o.target, o.observed_at, o.latency,
                       data={**o.data, "variables": {"wsrep_provider_options": f"pc.weight = {weight}"}})


def test_pc_weight_decides_who_is_a_quorum_spof():
    """db-3 killed, db-1 weighs 2: {db-1, db-2} weigh 3; losing db-2 leaves 2 of 3 (quorum kept), losing
    db-1 leaves 1 of 3. Only db-1 is a SPOF (with equal weights both would be)."""
    obs = [_weighted("one_killed", 1, "2"), node_observation("one_killed", 2), node_observation("one_killed", 3)]
    a = assess(obs)
    c = a.cloud.galera
    assert c.nodes[0].status.weight == 2.0 and c.critical == ("db-1",) and c.margin == 0
    spofs = {f.id: f.summary for f in a.findings if f.kind == FindingKind.SPOF and f.area == "galera"}
    assert set(spofs) == {"galera.spof:db-1"}
    assert spofs["galera.spof:db-1"].startswith("db-1: pc.weight 2 of the Primary component's 2 nodes")
    from hatui.ui.views.galera import galera_pane
    assert ("cannot lose db-1", "spof") in galera_pane(a, CONFIG).headline
    # the model of the whole cloud agrees: the database goes down with db-1, not with db-2
    from hatui.model.redundancy import find, impact
    top = a.cloud.topology
    assert "database" in impact(top, [find(top, "db-1")])
    assert "database" not in impact(top, [find(top, "db-2")])


def test_an_unreadable_weight_is_garbled_not_guessed():
    a = assess([_weighted("healthy", 1, "heavy"), node_observation("healthy", 2), node_observation("healthy", 3)])
    assert "galera.garbled:db-1" in {f.id for f in a.findings}
