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


def _groups_model():
    from hatui.ui.views.common import RowKey

    rows = ((("✔ OK", "ok"), ("b", "")), (("✖ CRIT", "critical"), ("c", "")), (("", ""), ("└ explains 1", "dim")),
            (("◆ SPOF", "spof"), ("a", "")))
    keys = (RowKey("x", "b"), RowKey("x", "c"), RowKey("x", "c"), RowKey("x", "a"))
    return PaneModel("x", columns=("", "name"), rows=rows, keys=keys)


def test_sort_keeps_groups_and_keys_together():
    from hatui.ui.views.common import SORTS, group_starts, next_sort, row_key, sorted_rows

    pm = _groups_model()
    assert group_starts(pm.rows) == (0, 1, 3)
    by_status = sorted_rows(pm, "by status")
    assert [r[1][0] for r in by_status.rows] == ["c", "└ explains 1", "a", "b"]
    assert [k.subject for k in by_status.keys] == ["c", "c", "a", "b"]
    assert by_status.note == "sorted by status"
    by_name = sorted_rows(pm, "by name")
    assert [r[1][0] for r in by_name.rows] == ["a", "b", "c", "└ explains 1"]
    assert sorted_rows(pm, "as shown") is pm
    assert [next_sort(s) for s in SORTS] == [*SORTS[1:], SORTS[0]]
    assert row_key(pm, 9) is None and row_key(PaneModel("y", rows=pm.rows), 0) is None  # keys are optional


def test_filter_keeps_each_row_with_its_key():
    from hatui.ui.views.common import filtered

    pm = filtered(_groups_model(), "explains")
    assert [r[1][0] for r in pm.rows] == ["c", "└ explains 1"]
    assert [k.subject for k in pm.keys] == ["c", "c"]
