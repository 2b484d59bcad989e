"""The Prometheus view of an assessment (hatui serve's /metrics), parsed back as Prometheus would."""
from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from hatui.config import parse
from hatui.faces.metrics import AssessmentCollector, PollCounts
from hatui.faces.serve import Exposed, ListenError, parse_listen
from hatui.model import Failure, FailureKind, Observation
from hatui.monitor import Monitor

CFG = parse({"galera": {"name": "db", "nodes": [{"name": f"db-{i}", "host": "127.0.0.1"} for i in (1, 2, 3)]}},
            "x.toml", resolve_secrets=False)


def scrape(latest) -> dict[tuple[str, tuple], float]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AssessmentCollector(latest))
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def target(name: str) -> tuple:
    return tuple(sorted({"area": "galera", "source": "galera", "target": name}.items()))


def test_nothing_assessed_yet_is_status_unknown_and_no_target_series():
    m = scrape(lambda: (None, PollCounts()))
    assert m[("hatui_status", ())] == 3
    assert not any(name.startswith("hatui_target") for name, _ in m)


def test_refused_garbled_and_good_answers_each_say_what_they_are():
    exposed = Exposed()
    mon = Monitor(CFG, started_at=0.0)
    answers = [
        Observation("galera", "db-1", 1.0, 0.002, data={"rows": []}),  # garbled: no wsrep status rows
        Observation("galera", "db-2", 1.0, 0.004, failure=Failure(FailureKind.REFUSED, "connection refused")),
        Observation("galera", "db-3", 1.0, 0.003, failure=Failure(FailureKind.TIMEOUT, "read timed out")),
    ]
    for obs in answers:
        mon.ingest(obs)
        exposed.observed(obs)
    exposed.assessed(mon.assess(1.5))
    m = scrape(exposed.latest)
    assert m[("hatui_status", ())] == 2  # CRITICAL, as check's exit code
    assert [m[("hatui_target_up", target(n))] for n in ("db-1", "db-2", "db-3")] == [0, 0, 0]
    assert ("hatui_target_latency_seconds", target("db-2")) not in m  # no latency for a refused connect
    assert m[("hatui_target_answer_age_seconds", target("db-2"))] == pytest.approx(0.5)
    assert m[("hatui_target_polls_total", target("db-2"))] == 1
    assert m[("hatui_target_poll_errors_total", tuple(sorted((*target("db-2"), ("kind", "refused")))))] == 1
    assert m[("hatui_target_poll_errors_total", tuple(sorted((*target("db-3"), ("kind", "timeout")))))] == 1
    opened = {dict(k)["id"] for n, k in m if n == "hatui_finding_since_timestamp_seconds"}
    assert {"galera.garbled:db-1", "galera.unreachable:db-2", "galera.unreachable:db-3"} <= opened
    by_severity = {dict(k)["severity"]: v for (n, k), v in m.items() if n == "hatui_findings"}
    assert by_severity.get("critical", 0) >= 2


def test_a_finding_keeps_its_opening_time_across_scrapes():
    mon = Monitor(CFG, started_at=0.0)
    fail = Failure(FailureKind.REFUSED, "connection refused")
    mon.ingest(Observation("galera", "db-2", 1.0, None, failure=fail))
    mon.assess(1.0)
    mon.ingest(Observation("galera", "db-2", 3.0, None, failure=fail))
    a = mon.assess(3.0)
    m = scrape(lambda: (a, PollCounts()))
    since = {dict(k)["id"]: v for (n, k), v in m.items() if n == "hatui_finding_since_timestamp_seconds"}
    assert since["galera.unreachable:db-2"] == 1.0


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1:9742", ("127.0.0.1", 9742)),
    (":9742", ("", 9742)),
    ("[::1]:9742", ("::1", 9742)),
    ("monitor.example:80", ("monitor.example", 80)),
])
def test_listen_addresses(text, expected):
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["9742", "localhost", "127.0.0.1:0", "127.0.0.1:70000", "[nope]:80", "host:port"])
def test_bad_listen_addresses_say_what_is_expected(text):
    with pytest.raises(ListenError, match="expected HOST:PORT|not an IPv6"):
        parse_listen(text)
