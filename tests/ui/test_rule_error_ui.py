"""A rule that raises is a hatui bug, and the TUI says so instead of going blank or dying (issue 10, item 5).

One real rule (``galera.no_primary``) is replaced by one that raises, on the recorded lab incident:
every assessment (one per delivered observation, then the 1 s ticks) meets it, the app keeps running,
keys still answer, the findings pane shows the UNKNOWN ``hatui.rule_error:no_primary`` naming the rule,
and every other rule still judges.
"""
from __future__ import annotations

import functools

import pytest

from hatui.model import Severity
from tests.ui.scenario import incident_app, moment, settled
from tests.ui.test_app import pane_text


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.fixture
def broken_no_primary(monkeypatch):
    """galera.no_primary raises, as a bug in it would; every other rule is left as it is."""
    import hatui.rules.galera as galera_rules
    from hatui.areas import load

    calls = []

    @functools.wraps(galera_rules.no_primary)  # the same name and module: the finding names the real rule
    def no_primary(ctx):
        calls.append(ctx.now)
        raise KeyError("wsrep_cluster_status")

    rules = [no_primary if r is galera_rules.no_primary else r for r in galera_rules.RULES]
    assert rules != galera_rules.RULES
    monkeypatch.setattr(galera_rules, "RULES", rules)
    load.cache_clear()  # hatui.areas.load caches each area's RULES: let the patched list be seen
    yield calls
    load.cache_clear()  # and forget it after the test (monkeypatch restores the module's list)


async def test_a_raising_rule_shows_as_unknown_and_the_app_goes_on(broken_no_primary):
    app = incident_app(moment("healthy"))
    async with app.run_test(size=(200, 60)) as pilot:
        await settled(pilot)
        assert len(broken_no_primary) > 10  # met by every assessment so far, and the app is still up
        assert app.is_running

        a = app.assessment
        error = next(f for f in a.findings if f.id == "hatui.rule_error:no_primary")
        assert error.severity == Severity.UNKNOWN and error.subject == "no_primary"
        assert "rule galera.no_primary failed (KeyError: 'wsrep_cluster_status')" in error.summary
        # every other rule still ran: the lab's one network node is still a single point of failure
        assert "redundancy.spof:lab-ctl-0" in {f.id for f in a.findings}
        assert a.status == Severity.UNKNOWN  # a rule that cannot judge is never "healthy"

        findings = pane_text(app, "findings")
        assert "? UNKN" in findings and "rule galera.no_primary failed" in findings, findings
        assert "please report this hatui bug" in findings, findings
        assert "UNKNOWN" in str(app.query_one("#status-bar").content)
        assert "Primary 3/3" in pane_text(app, "galera")  # the pane still draws the cluster

        # keys still answer
        await pilot.press("g")
        assert app.focused is app.query_one("#pane-galera")
        await pilot.press("t")
        assert app.focused is app.query_one("#pane-timeline")
        assert "rule galera.no_primary failed" in pane_text(app, "timeline")
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert app.screen is not app.screen_stack[0]
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is app.screen_stack[0]

        # time goes on (ticks and redraws): the rule still raises, the finding stays, nothing else breaks
        seen = len(broken_no_primary)
        app.feed.now += 5
        app.redraw()
        await pilot.pause(0.1)
        assert len(broken_no_primary) > seen
        assert "rule galera.no_primary failed" in pane_text(app, "findings")
        await pilot.press("q")
    assert app.return_code in (0, None)
