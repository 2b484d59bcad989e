"""Navigating the TUI: the row cursor, the detail of a row or finding, sort, paging, the command palette.
Fed by the recorded lab incident (tests/fixtures/recordings), as tests/ui/test_app.py."""
from __future__ import annotations

import time

import pytest

from hatui.ui.detail import Detail
from hatui.ui.panes import AreaPane
from hatui.ui.views.common import group_starts, row_key
from tests.ui.scenario import incident_app, moment, settled
from tests.ui.test_app import pane_text


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)  # the snapshots are of the default theme
    time.tzset()


def keys_of(pane: AreaPane) -> list:
    model = pane._shown
    assert model is not None
    return [row_key(model, i) for i in group_starts(model.rows)]


def clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


async def test_j_k_move_the_cursor_and_enter_opens_the_detail_of_a_node():
    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await pilot.press("g")
        galera = app.query_one("#pane-galera", AreaPane)
        assert galera.key_under_cursor().subject == "db-1"
        await pilot.press("j", "j", "k")
        assert galera.key_under_cursor().subject == "db-2"
        await pilot.press("down", "up")
        assert galera.key_under_cursor().subject == "db-2"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, Detail)
        text = app.screen.model.text
        unreachable = next(f for f in app.assessment.findings if f.id == "galera.unreachable:db-2")
        good = app.monitor.last_good(("galera", "db-2"))
        assert "127.0.0.1:13307" in text  # its address (and the way in)
        assert "MariaDB as hatui" in text
        assert "db-2: connection refused" in text  # the failure
        age = app.assessment.snapshot.taken_at - unreachable.since
        assert f"opened        {clock(unreachable.since)} ({age:.1f} s ago)" in text  # when it opened
        assert good is not None and good.observed_at < unreachable.since + 1
        good_age = app.assessment.snapshot.taken_at - good.observed_at
        assert f"last good     {clock(good.observed_at)} ({good_age:.1f} s ago)" in text  # the last good answer
        assert "status.wsrep_cluster_status" in text and "latency" in text and "cluster size" in text
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is app.screen_stack[0] and app.focused is galera


async def test_enter_on_a_finding_shows_its_evidence_and_history():
    app = incident_app(moment("survivors_are_spofs"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await pilot.press("f")
        findings = app.query_one("#pane-findings", AreaPane)
        ids = [k.finding for k in keys_of(findings)]
        for _ in range(ids.index("galera.unreachable:db-3")):
            await pilot.press("j")
        assert findings.key_under_cursor().finding == "galera.unreachable:db-3"
        await pilot.press("enter")
        await pilot.pause(0.2)
        text = app.screen.model.text
        assert app.screen.model.title == "galera.unreachable:db-3"
        assert "says          db-3: connection refused" in text
        assert "evidence      db-3: connection refused" in text  # what the rule read, and when
        assert "rule          unreachable (galera)" in text
        events = [ev for ev in app.assessment.timeline if ev.finding.id == "galera.unreachable:db-3"]
        assert events
        for ev in events:  # its history, every event of it
            assert f"{clock(ev.at)} {ev.event}" in text
        assert "127.0.0.1:13308" in text and "last good" in text
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is app.screen_stack[0]


async def test_keys_of_the_panes_wait_while_a_detail_is_open():
    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await pilot.press("h", "enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, Detail)
        await pilot.press("g", "x", "S")  # pane keys: not while the panes are covered
        await pilot.pause(1.2)  # a redraw of the panes under it
        assert isinstance(app.screen, Detail) and app.is_running
        await pilot.press("escape")
        assert app.focused is app.query_one("#pane-hosts")


async def test_sort_cycles_status_name_and_as_shown():
    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await pilot.press("g")
        galera = app.query_one("#pane-galera", AreaPane)
        assert [k.subject for k in keys_of(galera)] == ["db-1", "db-2", "db-3"]
        await pilot.press("S")
        assert [k.subject for k in keys_of(galera)] == ["db-2", "db-1", "db-3"]  # CRIT before the SPOFs
        assert "sorted by status" in pane_text(app, "galera")
        assert galera.key_under_cursor().subject == "db-1"  # the cursor stays on its row
        await pilot.press("S")
        assert [k.subject for k in keys_of(galera)] == ["db-1", "db-2", "db-3"]
        assert "sorted by name" in pane_text(app, "galera")
        await pilot.press("S")
        assert "sorted" not in pane_text(app, "galera")


async def test_page_down_and_up_scroll_the_findings_and_the_panes():
    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        await pilot.press("f")
        findings = app.query_one("#pane-findings", AreaPane)
        box = app.query_one("#findings-box")
        assert box.scroll_y == 0 and box.max_scroll_y > 0  # more findings than fit: they scroll in their box
        await pilot.press("pagedown")
        await pilot.pause(0.1)
        assert findings.cursor > 0 and box.scroll_y > 0
        await pilot.press("end")
        await pilot.pause(0.1)
        assert findings.cursor == len(keys_of(findings)) - 1 and box.scroll_y == box.max_scroll_y
        await pilot.press("pageup", "pageup", "pageup", "pageup")
        await pilot.pause(0.1)
        assert findings.cursor == 0 and box.scroll_y == 0
        body = app.query_one("#body")
        await pilot.press("g")
        await pilot.pause(0.1)
        before = body.scroll_y
        await pilot.press("pagedown", "pagedown")  # to the last node, then the panes below
        await pilot.pause(0.1)
        assert body.scroll_y > before
        await pilot.press("pageup", "pageup", "pageup", "pageup")
        await pilot.pause(0.1)
        assert body.scroll_y < before


async def test_the_palette_switches_to_a_hatui_theme():
    app = incident_app(moment("healthy"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"theme: hatui-light", "theme: hatui-mono", "screenshot"} <= set(titles)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        for ch in "theme: hatui-light":
            await pilot.press("space" if ch == " " else ch)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.theme == "hatui-light"


async def test_the_palette_saves_a_screenshot(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = incident_app(moment("healthy"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await pilot.press("colon")  # as ctrl+p
        await pilot.pause(0.2)
        for ch in "screenshot":
            await pilot.press(ch)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.5)
        saved = list(tmp_path.glob("hatui-*.svg"))
        assert len(saved) == 1 and "<svg" in saved[0].read_text()
        assert any(str(saved[0]) in str(n.message) for n in app._notifications)


def test_snapshot_detail_120x40(snap_compare):
    """The detail of db-2 while its host is powered off: the failure, its cause and history, the address,
    the last good answer, sparklines and the fields of that answer."""
    assert snap_compare(incident_app(moment("controller_down")), press=["g", "j", "enter", "_"],
                        terminal_size=(120, 40), run_before=settled)
