"""What every pane shares: a row never reads OK beside a bad cell; the findings headline never says
healthy while nothing is known, nor "0 SPOFs" in green while failures are open."""
from __future__ import annotations

from hatui.monitor import Monitor
from hatui.ui.views.common import PaneModel, findings_pane
from tests.fixtures_galera import CONFIG, state_observations


def test_a_row_with_unknown_cells_reads_unknown_not_ok():
    pm = PaneModel("x", rows=((("✔ OK", "ok"), ("mq-1", ""), ("?", "unknown"), ("?", "unknown")),
                              (("✔ OK", "ok"), ("mq-2", ""), ("3/3", "ok"), ("-", "dim")),
                              (("✔ OK", "ok"), ("mq-3", ""), ("2/3", "warning"), ("?", "unknown"))))
    assert [r[0] for r in pm.rows] == [("? UNKN", "unknown"), ("✔ OK", "ok"), ("▲ WARN", "warning")]


def test_the_first_second_is_unknown_not_healthy():
    m = Monitor(CONFIG, started_at=99.0)
    pm = findings_pane(m.assess(100.0))
    assert pm.headline == (("? UNKNOWN: waiting for the first answer of 3 of 3 targets", "unknown"),)
    assert pm.tone == "unknown"
    for o in state_observations("healthy"):
        m.ingest(o)
    assert findings_pane(m.assess(100.5)).headline == (("✔ no failure, no single point of failure", "ok"),)


def test_no_spof_left_is_not_green_while_the_cluster_is_down():
    m = Monitor(CONFIG, started_at=99.0)
    for o in state_observations("two_killed"):  # quorum lost: nothing left to be a SPOF
        m.ingest(o)
    headline = dict(findings_pane(m.assess(100.0)).headline)
    assert headline["0 single point(s) of failure"] == "dim"
