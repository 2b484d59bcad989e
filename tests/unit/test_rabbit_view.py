"""The RabbitMQ pane on lab captures: each node's own view in its row, the cluster's margin on top."""
from __future__ import annotations

from hatui.model import Failure, FailureKind, Observation
from hatui.ui.views import pane_model
from tests.fixtures_rabbit import management_observation, rabbit_config, source, state_observations
from tests.unit.test_rabbit_rules import assess

CONFIG = rabbit_config(canary=True)


def texts(row) -> list[str]:
    return [text for text, _tone in row]


def test_partition_rows_show_each_sides_view_and_the_headline_the_margin():
    obs = state_observations("partitioned") + [
        Observation("rabbitmq-amqp", n, 100.0, 0.02, data={"connect": 0.01, "round_trip": 0.0005, "blocked": None})
        for n in ("mq-1", "mq-2", "mq-3")]
    pm = pane_model("rabbitmq", assess(obs, CONFIG), CONFIG)
    assert pm.tone == "critical"
    assert "".join(texts(pm.headline)).startswith("lab-mq (RabbitMQ 3.10.8): running 2/3  cannot lose any node")
    rows = {r[1][0]: texts(r) for r in pm.rows}
    assert rows["mq-1"][:6] == ["◆ SPOF", "mq-1", "ok", "2/3", "mq-3", "-"]
    assert rows["mq-3"][3:5] == ["1/3", "mq-1, mq-2"]
    assert rows["mq-3"][7] == "0.5 ms"


def test_dead_node_row_says_why_and_what_its_peers_see():
    canary = Observation("rabbitmq-amqp", "mq-3", 100.0, 0.001,
                         failure=Failure(FailureKind.REFUSED, "AMQP canary: connection refused"))
    pm = pane_model("rabbitmq", assess(state_observations("node_killed") + [canary], CONFIG), CONFIG)
    row = next(texts(r) for r in pm.rows if r[1][0] == "mq-3")
    assert row[:4] == ["✖ CRIT", "mq-3", "refused", "DOWN (peers)"]
    assert row[7] == "refused"


def test_slow_view_row_shows_the_last_view_with_its_age():
    src = source(1)
    management_observation("healthy", 1, src=src)
    data = dict(management_observation("node_frozen", 1, src=src).data)
    data["last_nodes"] = dict(data["last_nodes"], at=88.0)
    a = assess([Observation("rabbitmq", "mq-1", 100.0, 0.3, data=data)], CONFIG, hold=2.0)  # slow for 2 s
    row = next(texts(r) for r in pane_model("rabbitmq", a, CONFIG).rows if r[1][0] == "mq-1")
    assert row[:4] == ["▲ WARN", "mq-1", "slow", "3/3 12 s ago"]  # as of its answer (100.0), as its finding says


def test_memory_alarm_row():
    a = assess(state_observations("mem_alarm"), CONFIG)
    row = next(texts(r) for r in pane_model("rabbitmq", a, CONFIG).rows if r[1][0] == "mq-2")
    assert row[:6] == ["✖ CRIT", "mq-2", "ok", "3/3", "-", "MEMORY"] and row[6] == ">999%"


def test_a_row_never_reads_ok_beside_a_bad_or_unknown_cell():
    """mq-2's memory alarm blocks publishers cluster-wide: the canary through mq-1 and mq-3 is held (the
    recorded answer). Their own findings are clear, but their rows say BLOCKED: not "OK"."""
    blocked = [Observation("rabbitmq-amqp", n, 100.0, 0.02,
                           data={"blocked": "low on memory", "connect": 0.0132, "round_trip": None})
               for n in ("mq-1", "mq-2", "mq-3")]
    a = assess(state_observations("mem_alarm") + blocked, CONFIG)
    assert "rabbitmq.publishers_blocked:lab-mq" in {f.id for f in a.findings}
    rows = {r[1][0]: r for r in pane_model("rabbitmq", a, CONFIG).rows}
    for name in ("mq-1", "mq-3"):
        assert not a.of_subject("rabbitmq", name)
        assert rows[name][7] == ("BLOCKED", "critical") and rows[name][0] == ("✖ CRIT", "critical")

