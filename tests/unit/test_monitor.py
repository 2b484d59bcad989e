"""Findings lifecycle, freshness and slowness, judged on the monitor's clock (no server needed)."""
from __future__ import annotations

from hatui.config import parse
from hatui.model import Failure, FailureKind, Observation, Severity
from hatui.monitor import Monitor

CFG = parse({"galera": {"name": "db", "nodes": [{"name": f"db-{i}", "host": "127.0.0.1"} for i in (1, 2, 3)]}},
            "x.toml", resolve_secrets=False)


def refused(name: str, at: float) -> Observation:
    return Observation("galera", name, at, 0.001, failure=Failure(FailureKind.REFUSED, "connection refused"))


def ids(a) -> set[str]:
    return {f.id for f in a.findings}


def test_not_polled_yet_is_waiting_then_unknown_never_ok():
    m = Monitor(CFG, started_at=100.0)
    a = m.assess(100.5)
    assert a.findings == ()  # still within the first stale limit: panes say "waiting"
    assert a.status == Severity.UNKNOWN and a.unknown_why == "waiting for the first answer of 3 of 3 targets"
    stale_limit = m.specs[0].stale_after
    a = m.assess(100.0 + stale_limit + 0.1)
    assert a.status == Severity.UNKNOWN
    assert {"galera.stale:db-1", "galera.stale:db-2", "galera.stale:db-3"} <= ids(a)


def test_failure_opens_with_since_and_clears_with_event():
    m = Monitor(CFG, started_at=0.0)
    m.ingest(refused("db-2", 10.0))
    a = m.assess(10.0)
    assert "galera.unreachable:db-2" in {f.id for f in a.opened}
    f = next(f for f in a.findings if f.id == "galera.unreachable:db-2")
    assert f.since == 10.0 and f.severity == Severity.CRITICAL and f.summary == "db-2: connection refused"
    m.ingest(refused("db-2", 11.0))
    a = m.assess(11.0)
    assert a.opened == () and next(f for f in a.findings if f.id == "galera.unreachable:db-2").since == 10.0
    m.ingest(Observation("galera", "db-2", 12.0, 0.001, data={}))  # answers again (garbled, but answers)
    a = m.assess(12.0)
    assert "galera.unreachable:db-2" in {f.id for f in a.cleared}


def test_old_answer_goes_stale_and_is_not_healthy():
    m = Monitor(CFG, started_at=0.0)
    m.ingest(refused("db-1", 1.0))
    limit = m.specs[0].stale_after
    a = m.assess(1.0 + limit + 0.5)
    assert "galera.stale:db-1" in ids(a)
    assert "galera.unreachable:db-1" not in ids(a)  # a stale failure is unknown, not current


def test_slow_poll_shows_before_its_timeout():
    m = Monitor(CFG, started_at=0.0)
    m.ingest(Observation("galera", "db-3", 5.0, 0.002, data={}))
    a = m.assess(6.7, pending={("galera", "db-3"): 6.0})
    slow = next(f for f in a.findings if f.id == "galera.slow:db-3")
    assert slow.summary == "db-3: no answer for 0.7 s (timeout 1 s)"


def test_late_older_observation_never_overwrites_newer():
    m = Monitor(CFG, started_at=0.0)
    m.ingest(refused("db-1", 5.0))
    m.ingest(Observation("galera", "db-1", 4.0, 0.001, data={}))
    assert m.snapshot(5.0).get("galera", "db-1").latest.failure is not None


def test_waiting_counts_down_as_targets_answer():
    m = Monitor(CFG, started_at=100.0)
    m.ingest(Observation("galera", "db-1", 100.6, 0.001, data={}))
    assert m.assess(100.7).unknown_why == "waiting for the first answer of 2 of 3 targets"


def test_nothing_configured_is_unknown_not_ok():
    empty = parse({}, "empty.toml", resolve_secrets=False)
    a = Monitor(empty, started_at=0.0).assess(1.0)
    assert a.findings == () and a.status == Severity.UNKNOWN
    assert a.unknown_why == "nothing to watch: the config names no target"


def test_every_target_answered_and_healthy_is_ok():
    m = Monitor(CFG, started_at=0.0)
    for i in (1, 2, 3):
        m.ingest(refused(f"db-{i}", 1.0))
    a = m.assess(1.0)
    assert a.unknown_why is None and a.status == Severity.CRITICAL  # judged by the findings alone now


def test_a_refused_connect_has_no_latency_in_perfdata():
    from hatui.faces.check import perfdata

    m = Monitor(CFG, started_at=0.0)
    m.ingest(refused("db-1", 1.0))  # the poll took 1 ms: the jump host's kernel saying no
    m.ingest(Observation("galera", "db-2", 1.0, 0.004, data={}))
    text = perfdata(m.assess(1.0))
    assert "'galera_db-2_latency'=0.0040s" in text and "db-1_latency" not in text


def test_the_timeline_keeps_every_event_in_order_bounded():
    from hatui.monitor import TIMELINE_MAX
    from hatui.ui.views.timeline import timeline_pane

    m = Monitor(CFG, started_at=0.0)
    m.ingest(refused("db-2", 10.0))
    m.assess(10.0)
    m.ingest(Observation("galera", "db-2", 25.0, 0.001, data={}))  # answers again (garbled: another finding)
    a = m.assess(25.0)
    events = [(e.at, e.event, e.finding.id) for e in a.timeline]
    assert (10.0, "opened", "galera.unreachable:db-2") in events
    assert events.index((10.0, "opened", "galera.unreachable:db-2")) < events.index(
        (25.0, "cleared", "galera.unreachable:db-2"))
    pane = timeline_pane(a)
    cleared = next(r for r in pane.rows if r[2][0] == "cleared" and "db-2: connection refused" in r[4][0])
    assert cleared[0][0] == "✔ clear" and cleared[5][0] == "15 s"  # how long it lasted
    assert pane.rows[0][1] >= pane.rows[-1][1]  # newest first
    for i in range(TIMELINE_MAX):  # a run of days: the oldest events go, the newest stay
        m.ingest(refused("db-3", 100.0 + 2 * i))
        m.assess(100.0 + 2 * i)
        m.ingest(Observation("galera", "db-3", 101.0 + 2 * i, 0.001, data={}))
        m.assess(101.0 + 2 * i)
    a = m.assess(2000.0)
    assert len(a.timeline) == TIMELINE_MAX and a.timeline[-1].at >= 100.0 + 2 * (TIMELINE_MAX - 1)
