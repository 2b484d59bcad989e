"""RabbitMQ rules on management API captures from the real lab (tests/fixtures/rabbit/shared_lab)."""
from __future__ import annotations

import pytest

from hatui.model import Failure, FailureKind, FindingKind, Observation, Severity
from hatui.model.rabbitmq import RabbitGarbled, parse_management
from hatui.monitor import Monitor
from hatui.rules.rabbitmq_views import build_picture
from tests.fixtures_rabbit import api_data, api_observation, rabbit_config, shared_observations

CONFIG = rabbit_config()
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


SPOFS = {"rabbitmq.quorum_spof:mq-1", "rabbitmq.quorum_spof:mq-2"}


@pytest.mark.parametrize("state, config, expected", [
    ("healthy", CONFIG, set()),
    ("mem_alarm", CONFIG, {"rabbitmq.mem_alarm:mq-2"}),
    ("node_killed", NAMED, {"rabbitmq.not_running:mq-3", "rabbitmq.size:lab-mq"} | SPOFS),
    ("partitioned", CONFIG, {"rabbitmq.partition:lab-mq", "rabbitmq.size:lab-mq"} | SPOFS),
])
def test_each_captured_state_gives_its_verdict(state, config, expected):
    assert ids(assess(shared_observations(state), config)) == expected


def test_partition_is_one_finding_naming_both_sides_from_asymmetric_reports():
    f = by_id(assess(shared_observations("partitioned")))["rabbitmq.partition:lab-mq"]
    assert f.severity == Severity.CRITICAL and f.subject == "lab-mq"
    assert f.summary == "lab-mq: network partition: mq-1, mq-2 | mq-3, reported by mq-1, mq-2, mq-3"


def test_partition_reported_by_one_side_only_still_names_both_sides():
    """Often only one side lists the other: here only mq-3's answer is known."""
    a = assess([api_observation("partitioned", 3)])
    f = by_id(a)["rabbitmq.partition:lab-mq"]
    assert "| mq-3" in f.summary or "mq-3 |" in f.summary
    assert f.summary.endswith("reported by mq-3")


def test_partition_without_partition_lists_is_read_from_running_flags_and_must_persist():
    """Khepri clusters (4.x) never fill ``partitions``: the same capture with them emptied."""
    obs = []
    for o in shared_observations("partitioned"):
        data = dict(o.data)
        data["nodes"] = [dict(n, partitions=[]) for n in data["nodes"]]
        obs.append(Observation(o.source, o.target, o.observed_at, o.latency, data=data))
    assert "rabbitmq.partition:lab-mq" not in ids(assess(obs))  # could be a rejoin in progress
    f = by_id(assess(obs, hold=2.5))["rabbitmq.partition:lab-mq"]
    assert f.summary == ("lab-mq: network partition: mq-1, mq-2 | mq-3, reported by mq-1, mq-2, mq-3 "
                         "(from their running flags)")


def test_partitioned_nodes_are_not_reported_as_not_running():
    """Each side sees the other not running, but both answer and run: that is the partition, not a crash."""
    assert not any(f.id.startswith("rabbitmq.not_running") for f in assess(shared_observations("partitioned")).findings)


def test_killed_node_is_named_by_config_and_survivors_are_spofs():
    a = assess(shared_observations("node_killed"), NAMED)
    f = by_id(a)
    assert f["rabbitmq.not_running:mq-3"].summary == "mq-3: not running, as seen by mq-1"
    assert f["rabbitmq.size:lab-mq"].summary == "lab-mq: 2 of 3 nodes running, as seen by mq-1; not running: mq-3"
    spof = f["rabbitmq.quorum_spof:mq-1"]
    assert spof.kind == FindingKind.SPOF and spof.severity == Severity.WARNING
    assert spof.summary == "mq-1: 1 of 2 running nodes of 3; losing it leaves mq-2 without a majority"


def test_unconfigured_erlang_name_is_shown_as_is_when_it_cannot_be_mapped():
    """Only mq-1 answered and no erlang_node is configured: mq-2/mq-3 cannot be told apart."""
    a = assess(shared_observations("node_killed"))
    assert "rabbitmq.not_running:rabbit3@localhost" in ids(a)


def test_a_node_down_since_start_is_named_by_elimination():
    obs = [api_observation("partitioned", 1), api_observation("partitioned", 2)]
    picture = build_picture(assess(obs).snapshot, CONFIG.section("rabbitmq"))
    assert picture.names == {"rabbit1@localhost": "mq-1", "rabbit2@localhost": "mq-2", "rabbit3@localhost": "mq-3"}


def test_memory_alarm_names_the_node_and_its_figures_and_unknown_stats_are_not_alarms():
    a = assess(shared_observations("mem_alarm"))
    f = by_id(a)["rabbitmq.mem_alarm:mq-2"]
    assert f.summary == "mq-2: memory alarm (138 MB used, watermark 3 MB): publishers blocked cluster-wide"
    # rabbit3 was restarting: running, but no stats yet (partitions/mem_alarm None): unknown, not an alarm
    view = parse_management(api_data("mem_alarm", 1))
    assert view.entry("rabbit3@localhost").mem_alarm is None


def test_quorum_spof_threshold_follows_the_majority_of_expected_size():
    """3 running of 5 (or of 4) expected is exactly a majority: each running node is a SPOF; of 3, one can go."""
    obs = shared_observations("healthy")
    all3 = {"rabbitmq.quorum_spof:mq-1", "rabbitmq.quorum_spof:mq-2", "rabbitmq.quorum_spof:mq-3"}
    for expected in (4, 5):
        spofs = {f.id for f in assess(obs, rabbit_config(expected_size=expected)).findings
                 if f.kind == FindingKind.SPOF}
        assert spofs == all3, expected
    assert not any(f.kind == FindingKind.SPOF for f in assess(obs, rabbit_config(expected_size=3)).findings)
    six = assess(obs, rabbit_config(expected_size=6))
    assert "rabbitmq.no_majority:lab-mq" in ids(six) and not any(f.kind == FindingKind.SPOF for f in six.findings)


def test_slow_cluster_view_is_a_warning_and_keeps_the_last_values_with_their_age():
    data = api_data("healthy", 1)
    slow = {k: v for k, v in data.items() if k != "nodes"}
    slow["errors"] = {"nodes": {"kind": "timeout", "message": "management API: no answer yet after 0.3 s"}}
    slow["last_nodes"] = {"at": 88.0, "nodes": data["nodes"]}
    a = assess([Observation("rabbitmq", "mq-1", 100.0, 0.3, data=slow), api_observation("healthy", 3)])
    f = by_id(a)["rabbitmq.slow_view:mq-1"]
    assert f.severity == Severity.WARNING
    assert f.summary == ("mq-1: answers, but its cluster view (/api/nodes) did not: management API: no answer yet "
                         "after 0.3 s (a peer frozen or unreachable?); last view 12 s old")
    assert set(ids(a)) == {"rabbitmq.slow_view:mq-1"}  # judged from mq-3's fresh view: nothing else


def _canary(target: str, at: float = 100.0, **data) -> Observation:
    return Observation("rabbitmq-amqp", target, at, 0.02, data={"connect": 0.01, "round_trip": 0.001,
                                                                  "blocked": None, **data})


def _canary_failed(target: str, kind=FailureKind.REFUSED, msg="AMQP canary: connection refused") -> Observation:
    return Observation("rabbitmq-amqp", target, 100.0, 0.001, failure=Failure(kind, msg))


def test_blocked_publishers_from_the_canary_are_one_cluster_finding():
    cfg = rabbit_config(canary=True)
    obs = shared_observations("mem_alarm") + [_canary("mq-1", blocked="low on memory"),
                                              _canary("mq-2", round_trip=None, blocked="low on memory")]
    f = by_id(assess(obs, cfg))["rabbitmq.publishers_blocked:lab-mq"]
    assert f.summary == "lab-mq: publishers blocked (low on memory): the canary's message was held on mq-1, mq-2"


def test_amqp_refused_while_the_api_answers_and_the_reverse():
    cfg = rabbit_config(canary=True)
    refused_api = Observation("rabbitmq", "mq-3", 100.0, 0.001,
                              failure=Failure(FailureKind.REFUSED, "management API: connection refused"))
    obs = [api_observation("healthy", 1), refused_api, _canary_failed("mq-1"), _canary("mq-3")]
    f = by_id(assess(obs, cfg))
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
    assert f.summary == "mq-1: stopping it would leave quorum queues without a majority: //conductor_quorum"


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
