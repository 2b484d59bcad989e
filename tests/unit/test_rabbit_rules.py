"""RabbitMQ rules on management API captures from the real lab (tests/fixtures/rabbit, tests/lab/capture_rabbit.py)."""
from __future__ import annotations

import re

import pytest

from hatui.model import Failure, FailureKind, FindingKind, Observation, Severity
from hatui.model.rabbitmq import RabbitGarbled, parse_management
from hatui.monitor import Monitor
from tests.fixtures_rabbit import (
    api_data,
    api_observation,
    management_observation,
    rabbit_config,
    recorded,
    source,
    state_observations,
)

CONFIG = rabbit_config()
RECORDED = rabbit_config(canary=True, canary_interval=2.0, name="hatui-lab")  # as tests/integration/rabbit/capture.py
NAMED = rabbit_config(erlang_nodes=True)


def assess(observations, config=CONFIG, at: float = 100.0, hold: float = 0.0):
    m = Monitor(config, started_at=at - 1)
    for o in observations:
        m.ingest(o)
    a = m.assess(at)
    if hold:
        a = m.assess(at + hold)
    return a


def ids(a) -> set[str]:
    return {f.id for f in a.findings}


def by_id(a) -> dict:
    return {f.id: f for f in a.findings}


SPOFS = {"rabbitmq.spof:mq-1", "rabbitmq.spof:mq-2"}
DEAD_3 = {"rabbitmq.unreachable:mq-3", "rabbitmq.not_running:mq-3", "rabbitmq.size:lab-mq"} | SPOFS


@pytest.mark.parametrize("state, expected", [
    ("healthy", set()),
    ("node_killed", DEAD_3),
    ("stop_app", DEAD_3),
    ("partitioned", {"rabbitmq.partition:lab-mq", "rabbitmq.size:lab-mq"} | SPOFS),
    ("mem_alarm", {"rabbitmq.mem_alarm:mq-2"}),
    ("disk_alarm", {"rabbitmq.disk_alarm:mq-1"}),
    ("node_frozen", {"rabbitmq.unreachable:mq-3", "rabbitmq.slow_view:mq-1", "rabbitmq.slow_view:mq-2"}),
])
def test_each_captured_state_gives_its_verdict(state, expected):
    assert ids(assess(state_observations(state), hold=2.0)) == expected


def test_partition_is_one_finding_naming_both_sides_from_asymmetric_reports():
    f = by_id(assess(state_observations("partitioned")))["rabbitmq.partition:lab-mq"]
    assert f.severity == Severity.CRITICAL and f.subject == "lab-mq"
    assert f.summary == "lab-mq: network partition: mq-1, mq-2 | mq-3, reported by mq-1, mq-2, mq-3"


def test_partition_reported_by_one_side_only_still_names_both_sides():
    """Often only one side lists the other: here only mq-3's answer is known (the others named by config)."""
    f = by_id(assess([api_observation("partitioned", 3)], NAMED))["rabbitmq.partition:lab-mq"]
    assert f.summary == "lab-mq: network partition: mq-1, mq-2 | mq-3, reported by mq-3"


def test_partition_without_partition_lists_is_read_from_running_flags_and_must_persist():
    """Khepri clusters (4.x) never fill ``partitions``: the same capture with them emptied."""
    obs = []
    for o in state_observations("partitioned"):
        data = dict(o.data)
        data["nodes"] = [dict(n, partitions=[]) for n in data["nodes"]]
        obs.append(Observation(o.source, o.target, o.observed_at, o.latency, data=data))
    assert "rabbitmq.partition:lab-mq" not in ids(assess(obs))  # could be a rejoin in progress
    f = by_id(assess(obs, hold=2.5))["rabbitmq.partition:lab-mq"]
    assert f.summary == ("lab-mq: network partition: mq-1, mq-2 | mq-3, reported by mq-1, mq-2, mq-3 "
                         "(from their running flags)")


def test_partitioned_nodes_are_not_reported_as_not_running():
    """Each side sees the other not running, but both answer and run: that is the partition, not a crash."""
    assert not any(f.id.startswith("rabbitmq.not_running") for f in assess(state_observations("partitioned")).findings)


def test_killed_node_is_named_by_its_peers_and_survivors_are_spofs():
    f = by_id(assess(state_observations("node_killed")))
    assert f["rabbitmq.not_running:mq-3"].summary == ("mq-3: not running, as seen by mq-1, mq-2; management API: "
                                                      "connection refused")
    assert f["rabbitmq.unreachable:mq-3"].summary == "mq-3: management API: connection refused"
    assert f["rabbitmq.size:lab-mq"].summary == ("lab-mq: 2 of 3 nodes running, as seen by mq-1, mq-2; "
                                                 "not running: mq-3")
    spof = f["rabbitmq.spof:mq-1"]
    assert spof.kind == FindingKind.SPOF and spof.severity == Severity.WARNING
    assert spof.summary == "mq-1: 1 of 2 running nodes of 3; losing it leaves mq-2 without a majority"


def test_unmappable_erlang_name_is_shown_as_is_unless_configured():
    """Only mq-1 answered and no erlang_node is configured: rabbit2/rabbit3 cannot be told apart."""
    obs = [api_observation("node_killed", 1)]
    assert "rabbitmq.not_running:rabbit3@localhost" in ids(assess(obs))
    assert "rabbitmq.not_running:mq-3" in ids(assess(obs, NAMED))


def test_a_node_down_since_start_is_named_by_elimination():
    obs = [api_observation("partitioned", 1), api_observation("partitioned", 2)]
    picture = assess(obs).cloud.rabbitmq
    assert picture.names == {"rabbit1@localhost": "mq-1", "rabbit2@localhost": "mq-2", "rabbit3@localhost": "mq-3"}


def test_alarms_name_the_node_and_its_figures():
    f = by_id(assess(state_observations("mem_alarm")))["rabbitmq.mem_alarm:mq-2"]
    assert re.fullmatch(r"mq-2: memory alarm \(\d+ MB used, watermark \d MB\): publishers blocked cluster-wide",
                        f.summary), f.summary
    f = by_id(assess(state_observations("disk_alarm")))["rabbitmq.disk_alarm:mq-1"]
    assert re.fullmatch(r"mq-1: disk alarm \(\d+\.\d GB free, limit 1000000\.0 GB\): publishers blocked "
                        r"cluster-wide", f.summary), f.summary


def test_a_node_not_running_has_no_stats_and_they_read_as_unknown():
    view = parse_management(api_data("node_killed", 1))
    dead = view.entry("rabbit3@localhost")
    assert (dead.running, dead.partitions, dead.mem_alarm) == (False, None, None)


def test_quorum_spof_threshold_follows_the_majority_of_expected_size():
    """3 running of 5 (or of 4) expected is exactly a majority: each running node is a SPOF; of 3, one can go."""
    obs = state_observations("healthy")
    all3 = {"rabbitmq.spof:mq-1", "rabbitmq.spof:mq-2", "rabbitmq.spof:mq-3"}
    for expected in (4, 5):
        spofs = {f.id for f in assess(obs, rabbit_config(expected_size=expected)).findings
                 if f.kind == FindingKind.SPOF}
        assert spofs == all3, expected
    assert not any(f.kind == FindingKind.SPOF for f in assess(obs, rabbit_config(expected_size=3)).findings)
    six = assess(obs, rabbit_config(expected_size=6))
    assert "rabbitmq.no_majority:lab-mq" in ids(six) and not any(f.kind == FindingKind.SPOF for f in six.findings)


def test_frozen_peer_slows_the_cluster_view_of_the_others_and_the_last_view_comes_with_its_age():
    """node_frozen: on mq-1 only the node-local checks answered; the same source had seen healthy before."""
    src = source(1)
    management_observation("healthy", 1, src=src)
    frozen = management_observation("node_frozen", 1, src=src)
    data = dict(frozen.data)
    data["last_nodes"] = dict(data["last_nodes"], at=88.0)  # the source stamps wall-clock time; here: 12 s before
    a = assess([Observation("rabbitmq", "mq-1", 100.0, 0.3, data=data), api_observation("node_frozen", 2),
                api_observation("node_frozen", 3)], hold=2.0)
    f = by_id(a)["rabbitmq.slow_view:mq-1"]
    assert f.severity == Severity.WARNING
    assert f.summary == ("mq-1: answers, but its cluster view (/api/nodes) did not: no answer within 3 s "
                         "(a peer frozen or unreachable?); last view 12 s old")  # at its answer (100.0)
    assert by_id(a)["rabbitmq.unreachable:mq-3"].summary == "mq-3: management API: no answer within 3 s"
    assert parse_management(data).last_nodes is not None


def _canary(target: str, at: float = 100.0, **data) -> Observation:
    return Observation("rabbitmq-amqp", target, at, 0.02, data={"connect": 0.01, "round_trip": 0.001,
                                                                  "blocked": None, **data})


def _canary_failed(target: str, kind=FailureKind.REFUSED, msg="AMQP canary: connection refused") -> Observation:
    return Observation("rabbitmq-amqp", target, 100.0, 0.001, failure=Failure(kind, msg))


def test_blocked_publishers_from_the_canary_are_one_cluster_finding():
    cfg = rabbit_config(canary=True)
    obs = state_observations("mem_alarm") + [_canary("mq-1", blocked="low on memory"),
                                              _canary("mq-2", round_trip=None, blocked="low on memory")]
    f = by_id(assess(obs, cfg))["rabbitmq.publishers_blocked:lab-mq"]
    assert f.summary == "lab-mq: publishers blocked (low on memory): the canary's message was held on mq-1, mq-2"


def test_amqp_refused_while_the_api_answers_and_the_reverse():
    cfg = rabbit_config(canary=True)
    refused_api = Observation("rabbitmq", "mq-3", 100.0, 0.001,
                              failure=Failure(FailureKind.REFUSED, "management API: connection refused"))
    # the way that works answered after the other failed (0.5 s later)
    obs = [api_observation("healthy", 1, at=100.5), refused_api, _canary_failed("mq-1"), _canary("mq-3", at=100.5)]
    assert not {"rabbitmq.amqp_down:mq-1", "rabbitmq.api_down:mq-3"} & ids(assess(obs, cfg, at=101.0))  # boot order
    f = by_id(assess(obs, cfg, at=101.0, hold=2.0))
    assert f["rabbitmq.amqp_down:mq-1"].summary == ("mq-1: AMQP fails (connection refused) while its management API "
                                                    "answers: clients cannot use this node")
    assert f["rabbitmq.api_down:mq-3"].summary == ("mq-3: management API fails (connection refused) while AMQP "
                                                   "works: judged from its peers' views only")
    assert f["rabbitmq-amqp.unreachable:mq-1"].summary == "mq-1: AMQP canary: connection refused"


def test_no_node_answers_is_one_cluster_failure():
    cfg = rabbit_config(canary=True)
    obs = [Observation("rabbitmq", n, 100.0, 0.001, failure=Failure(FailureKind.REFUSED, "management API: "
                                                                     "connection refused")) for n in ("mq-1", "mq-2",
                                                                                                      "mq-3")]
    obs += [_canary_failed(n) for n in ("mq-1", "mq-2", "mq-3")]
    f = by_id(assess(obs, cfg))["rabbitmq.down:lab-mq"]
    assert f.summary == "lab-mq: no node answers: the message queue is unavailable"


def test_quorum_critical_check_is_a_spof_naming_queues():
    data = api_data("healthy", 1)
    data["checks"]["node-is-quorum-critical"] = {
        "status": "failed", "reason": "There are quorum queues that would lose their quorum if the target node is "
        "shut down", "queues": [{"name": "conductor_quorum", "virtual_host": "/"}]}
    f = by_id(assess([Observation("rabbitmq", "mq-1", 100.0, 0.01, data=data)]))["rabbitmq.quorum_critical:mq-1"]
    assert f.kind == FindingKind.SPOF
    assert f.summary == "mq-1: stopping it would leave quorum queues without a majority: conductor_quorum"


def test_file_descriptors_near_their_limit():
    data = api_data("healthy", 1)
    data["nodes"] = [dict(n, fd_used=19000, fd_total=20000) if n["name"] == "rabbit1@localhost" else n
                     for n in data["nodes"]]
    f = by_id(assess([Observation("rabbitmq", "mq-1", 100.0, 0.01, data=data)]))["rabbitmq.resources:mq-1"]
    assert f.summary == "mq-1: file descriptors 95% used: new connections are refused when they run out"


@pytest.mark.parametrize("data, why", [
    ({"nodes": "x"}, "not a list"),
    ({"nodes": [{"running": True}]}, "without a name"),
    ({"overview": {"rabbitmq_version": "3.10.8"}}, "not a RabbitMQ management API"),
    ({"nodes": [{"name": "rabbit@a", "running": True, "mem_used": "lots"}]}, "not a number"),
])
def test_garbled_answers_are_unknown_never_healthy(data, why):
    with pytest.raises(RabbitGarbled, match=why):
        parse_management(data)
    a = assess([Observation("rabbitmq", "mq-1", 100.0, 0.01, data=data)])
    f = by_id(a)["rabbitmq.garbled:mq-1"]
    assert f.severity == Severity.UNKNOWN


def replay(state: str, config=RECORDED) -> tuple[set[str], set[str]]:
    """Feed a recording through the monitor as it was observed: (ids ever opened, ids open at the end)."""
    obs = recorded(state)
    m = Monitor(config, started_at=obs[0].observed_at - 1)
    opened: set[str] = set()
    a = None
    for o in obs:
        m.ingest(o)
        a = m.assess(o.observed_at + (o.latency or 0.0))
        opened |= {f.id for f in a.opened}
    return opened, {f.id for f in a.findings}


def test_recorded_kill_never_says_amqp_down_while_the_api_answers():
    """The canary saw the dead node first, while its last API answer was still fresh: no mismatch."""
    opened, now = replay("node_killed")
    assert now == {"rabbitmq.unreachable:mq-3", "rabbitmq-amqp.unreachable:mq-3", "rabbitmq.not_running:mq-3",
                   "rabbitmq.size:hatui-lab"} | SPOFS
    assert not [i for i in opened if "amqp_down" in i or "api_down" in i]


def test_recorded_frozen_node_times_out_and_its_peers_views_and_queue_declarations_wait():
    opened, now = replay("node_frozen")
    assert {"rabbitmq.unreachable:mq-3", "rabbitmq-amqp.unreachable:mq-3", "rabbitmq.slow_view:mq-1",
            "rabbitmq.slow_view:mq-2", "rabbitmq-amqp.unreachable:mq-1", "rabbitmq-amqp.unreachable:mq-2"} == now
    assert not [i for i in opened if "amqp_down" in i or "not_running" in i]


def test_recorded_memory_alarm_blocks_every_canary():
    opened, now = replay("mem_alarm")
    assert now == {"rabbitmq.mem_alarm:mq-2", "rabbitmq.publishers_blocked:hatui-lab"}
    obs = {o.key: o for o in recorded("mem_alarm")}
    assert all(obs[("rabbitmq-amqp", n)].data["blocked"] == "low on memory" for n in ("mq-1", "mq-2", "mq-3"))


def test_recorded_quorum_queue_makes_each_survivor_quorum_critical_naming_it():
    """A real quorum queue on all 3 nodes, then one node killed: RabbitMQ's own check fails on the others."""
    _opened, now = replay("quorum_critical")
    assert {"rabbitmq.quorum_critical:mq-1", "rabbitmq.quorum_critical:mq-2"} | SPOFS <= now
    f = by_id(assess(recorded("quorum_critical"), RECORDED, at=recorded("quorum_critical")[-1].observed_at))
    qc = f["rabbitmq.quorum_critical:mq-1"]
    assert qc.kind == FindingKind.SPOF
    assert qc.summary == "mq-1: stopping it would leave quorum queues without a majority: hatui-test-qq"


def test_metadata_store_check_of_4x_is_a_failure_when_it_fails():
    """Not on the lab's 3.10 (404 there, so never asked): the 4.0.6+ check, in the health checks' shape."""
    data = api_data("healthy", 1)
    data["overview"] = dict(data["overview"], rabbitmq_version="4.1.0")
    data["checks"]["metadata-store/initialized"] = {"status": "failed", "reason": "metadata store not ready"}
    f = by_id(assess([Observation("rabbitmq", "mq-1", 100.0, 0.01, data=data)]))["rabbitmq.metadata_store:mq-1"]
    assert (f.severity, f.summary) == (Severity.CRITICAL, "mq-1: metadata store not initialised: metadata store "
                                                          "not ready")
