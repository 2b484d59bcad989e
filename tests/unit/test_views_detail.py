"""The detail of a row or finding (hatui.ui.views.detail): pure, from an assessment and the monitor's
bounded history. Never a secret, whatever an answer holds."""
from __future__ import annotations

from hatui.model import Failure, FailureKind, Observation
from hatui.monitor import RECENT_MAX, Monitor
from hatui.secrets import Secret, is_secret_key, redact_field
from hatui.ui.views.common import RowKey
from hatui.ui.views.detail import detail_model, fields, latency_line, related_targets, spark
from hatui.ui.views.where import where_lines
from tests.fixtures_galera import CONFIG, node_observation, state_observations


def test_spark_scales_from_zero_and_marks_missing_values():
    assert spark([0, 1, 2, 4]) == "▁▃▅█"
    assert spark([3, 3, None, 3]) == "██·█"  # a steady 3 is full height, not a flat line at the bottom
    assert spark([0, 0]) == "▁▁"
    assert spark([None, None]) == "··"
    assert spark([]) == ""


def test_fields_flattens_and_masks_credentials():
    data = {"status": {"wsrep_ready": "ON"}, "password": "hunter2", "auth": {"token": {"id": "gAAAAtok"}},
            "nodes": [{"name": "rabbit@a", "db_pass": "x1y2"}], "url": "mysql://hatui:pw123@db-1/x", "empty": []}
    got = dict(fields(data))
    assert got["status.wsrep_ready"] == "ON"
    assert got["password"] == "***" and got["auth.token"] == "***" and got["nodes[0].db_pass"] == "***"
    assert got["nodes[0].name"] == "rabbit@a" and got["url"] == "mysql://***@db-1/x" and got["empty"] == "[]"
    assert is_secret_key("X-Auth-Token") and is_secret_key("passwd") and not is_secret_key("bypass")
    assert redact_field("api_key", "abc") == "***"


def _monitor_with(extra: dict) -> Monitor:
    m = Monitor(CONFIG, started_at=90.0)
    for o in state_observations("healthy", at=100.0):
        m.ingest(Observation(o.source, o.target, o.observed_at, o.latency, data={**o.data, **extra}))
    return m


def test_a_password_in_an_answer_never_reaches_the_detail():
    Secret("registered-secret-value", "test")  # a configured password: redacted wherever it shows
    m = _monitor_with({"password": "hunter2", "note": "connected with registered-secret-value",
                       "dsn": "mysql://hatui:pw123@127.0.0.1/"})
    a = m.assess(100.5)
    text = detail_model(a, CONFIG, m, RowKey("galera", "db-1")).text
    assert "status.wsrep_cluster_status" in text  # the fields are there
    for secret in ("hunter2", "registered-secret-value", "pw123"):
        assert secret not in text
    assert "password" in text and "***" in text


def test_the_detail_of_a_failed_node_has_its_failure_the_last_good_answer_and_history():
    m = Monitor(CONFIG, started_at=90.0)
    for t in (100.0, 101.0):
        for o in state_observations("healthy", at=t):
            m.ingest(o)
    m.assess(101.0)
    m.ingest(Observation("galera", "db-2", 102.0, 0.001, failure=Failure(FailureKind.REFUSED, "connection refused")))
    a = m.assess(102.5)
    detail = detail_model(a, CONFIG, m, RowKey("galera", "db-2"))
    text = detail.text
    assert detail.title == "galera db-2"
    assert "galera.unreachable:db-2" in text and "db-2: connection refused" in text
    assert "127.0.0.1:3306" in text and "MariaDB as hatui" in text  # address and way in
    assert "last good" in text and "(1.5 s ago)" in text  # the answer at 101.0, 1.5 s before 102.5
    assert "opened" in text and "(0.5 s ago)" in text  # the finding opened with the failed poll at 102.0
    assert "fields        of the last good answer" in text
    assert "last 3 polls: 2 answered, 1 failed" in text
    history = [line for line in text.splitlines() if "opened" in line and "history" in line]
    assert history, text


def test_a_cluster_wide_finding_reads_every_node_of_its_source():
    m = Monitor(CONFIG, started_at=90.0)
    for o in state_observations("two_killed"):
        m.ingest(o)
    a = m.assess(100.0)
    cluster = [f for f in a.findings if f.subject == "lab-db"]
    assert cluster
    key = RowKey("galera", "lab-db", finding=cluster[0].id)
    assert related_targets(a, key, cluster) == [("galera", "db-1"), ("galera", "db-2"), ("galera", "db-3")]


def test_the_history_is_bounded_per_target():
    m = Monitor(CONFIG, started_at=0.0)
    for i in range(RECENT_MAX + 25):
        m.ingest(node_observation("healthy", 1, at=float(i)))
    polls = m.recent(("galera", "db-1"))
    assert len(polls) == RECENT_MAX and polls[-1].at == RECENT_MAX + 24
    assert m.recent(("galera", "db-9")) == ()


def test_the_latency_line_marks_failed_and_garbled_polls():
    m = Monitor(CONFIG, started_at=0.0)
    m.ingest(node_observation("healthy", 1, at=1.0))
    m.ingest(Observation("galera", "db-1", 2.0, 0.5, failure=Failure(FailureKind.TIMEOUT, "no answer within 1 s")))
    m.ingest(Observation("galera", "db-1", 3.0, 0.002, data={"status": {"nonsense": "1"}}))
    line = latency_line(m.recent(("galera", "db-1")))
    assert [cell for cell in line if cell[0] in ("✖", "?")] == [("✖", "critical"), ("?", "unknown")]


def test_where_names_a_password_by_its_reference_only():
    lines = dict(where_lines(CONFIG, "galera", "db-1"))
    assert lines["address"] == "127.0.0.1:3306" and "no password configured" in lines["way in"]
    assert where_lines(CONFIG, "galera", "db-9") == [("address", "not in the config")]
