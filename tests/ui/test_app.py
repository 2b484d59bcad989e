"""The TUI as an operator sees it, fed by a real recorded lab incident (tests/fixtures/recordings)."""
from __future__ import annotations

import io

import pytest
from rich.console import Console

from hatui.areas import PANES
from hatui.model import FindingKind
from hatui.ui.panes import AreaPane
from tests.ui.scenario import incident_app, moment, settled


def pane_text(app, area: str) -> str:
    pane = app.query_one(f"#pane-{area}", AreaPane)
    console = Console(width=max(40, pane.content_size.width), record=True, file=io.StringIO(), color_system=None)
    console.print(pane.content)
    return pane.border_title + "\n" + console.export_text()


def spofs(app, area: str | None = None) -> list[str]:
    return sorted(f.id for f in app.assessment.findings
                  if f.kind == FindingKind.SPOF and (area is None or f.area == area))


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)  # the snapshots are of the default theme
    time.tzset()


async def test_killed_node_and_the_spofs_it_leaves_are_highlighted():
    app = incident_app(moment("survivors_are_spofs"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        findings = pane_text(app, "findings")
        assert "✖ CRIT" in findings and "db-3: connection refused" in findings
        assert "db-1: 1 of 2 nodes in the Primary component" in findings
        assert spofs(app, "galera") == ["galera.spof:db-1", "galera.spof:db-2"]
        galera = pane_text(app, "galera")
        assert "Primary 2/3" in galera and "cannot lose any node" in galera
        assert app.query_one("#pane-galera").has_class("-critical")
        assert "CRITICAL" in str(app.query_one("#status-bar").content)


async def test_quorum_lost_reads_as_critical_and_names_non_primary():
    app = incident_app(moment("quorum_lost"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        findings = pane_text(app, "findings")
        assert "no Primary component" in findings
        assert "db-1: in a non-Primary component" in findings
        assert spofs(app, "galera") == []  # nothing redundant is left to lose


async def test_healthy_moment_says_so_and_every_area_is_recorded():
    app = incident_app(moment("healthy"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        assert "0 failure(s)" in pane_text(app, "findings")
        assert "can lose 1 node(s)" in pane_text(app, "galera")
        for pane in PANES:
            assert "not configured" not in pane_text(app, pane.id), pane.id
            # the one HAProxy is the endpoints' single point (a SPOF, nothing failed); the rest is OK
            want = "-spof" if pane.id == "endpoints" else "-ok"
            assert app.query_one(f"#pane-{pane.id}").has_class(want), pane.id
        # The lab has one network node (lab-ctl-0, the only neutron-metadata-agent) and one HAProxy: the
        # host with its failure domains, and that HAProxy, are its only single points of failure.
        assert {f.area for f in app.assessment.findings} == {"redundancy", "endpoints"}
        assert {"redundancy.spof:lab-ctl-0", "haproxy.spof:lb"} <= {f.id for f in app.assessment.findings}


async def test_data_that_stops_coming_goes_stale_never_stays_healthy():
    app = incident_app(moment("healthy"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        app.feed.now += 30  # thirty seconds pass without a single answer
        app.redraw()
        await pilot.pause(0.1)
        galera = pane_text(app, "galera")
        assert galera.count("? STALE") == 3 and "STALE 3" in galera
        assert "stale" in pane_text(app, "findings")
        assert "UNKNOWN" in str(app.query_one("#status-bar").content)


async def test_small_terminal_keys_focus_panes_and_q_quits():
    app = incident_app(moment("survivors_are_spofs"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        assert app.query_one("#pane-findings").region.y < 24  # findings first, on screen
        await pilot.press("g")
        assert app.focused is app.query_one("#pane-galera")
        await pilot.press("h")
        assert app.focused is app.query_one("#pane-hosts")
        await pilot.press("q")
    assert app.return_code == 0 or app.return_code is None


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("pane", PANES, ids=lambda p: p.id)
def test_snapshot(snap_compare, pane, size):
    """Every pane, focused with its key, while controller lab-ctl-1 is down: each has a failure to show."""
    assert snap_compare(incident_app(moment("controller_down")), press=[pane.key, "_"], terminal_size=size,
                        run_before=settled)


async def test_a_lost_controller_shows_in_every_pane():
    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(200, 60)) as pilot:
        await settled(pilot)
        for pane in PANES:  # each pane has a failure to show, none says healthy or not configured
            widget = app.query_one(f"#pane-{pane.id}")
            assert widget.has_class("-critical") or widget.has_class("-warning"), pane.id
        ids = {f.id for f in app.assessment.findings}
        assert {"hosts.power_off:lab-ctl-1", "galera.unreachable:db-2", "rabbitmq.not_running:mq-2",
                "haproxy.server_down:lb/keystone/lab-ctl-1", "services.down:nova-conductor@lab-ctl-1"} <= ids
        assert "lab-ctl-1: powered off (BMC, redfish)" in pane_text(app, "findings")
        assert [s for s in spofs(app) if not s.startswith("redundancy.")] == sorted([  # no spare left
            "galera.spof:db-1", "galera.spof:db-3", "rabbitmq.spof:mq-1", "rabbitmq.spof:mq-3", "haproxy.spof:lb",
            "haproxy.spof:lb/keystone/lab-ctl-0", "haproxy.spof:lb/nova_api/lab-ctl-0",
            "services.spof:nova-conductor@lab-ctl-0", "services.spof:nova-scheduler@lab-ctl-0"])
        assert "redundancy.spof:lab-ctl-0" in ids  # the last host of nova-conductor and nova-scheduler


async def test_rabbit_memory_alarm_names_the_node_and_blocked_publishers():
    app = incident_app(moment("publishers_blocked"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        findings = pane_text(app, "findings")
        assert "mq-2: memory alarm (" in findings and "publishers blocked cluster-wide" in findings
        blocked = next(f for f in app.assessment.findings if f.id == "rabbitmq.publishers_blocked:hatui-lab")
        assert "publishers blocked (low on memory)" in blocked.summary  # shown, or folded under its cause
        assert app.query_one("#pane-rabbitmq").has_class("-critical")


async def test_question_mark_lists_every_key_and_esc_goes_back():
    app = incident_app(moment("survivors_are_spofs"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        text = str(app.screen.query_one("#help-text").content)
        for b in app.BINDINGS:  # every key the app answers, from its own bindings, as the footer shows it
            assert f"  {app.get_key_display(b):<10} {b.description}" in text, b
        assert "  /          Filter" in text and "  ?          Help" in text
        assert "◆ SPOF" in text and "✖ CRIT" in text
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is app.screen_stack[0]


async def test_pause_freezes_the_panes_but_not_the_status():
    app = incident_app(moment("healthy"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        before = pane_text(app, "galera")
        await pilot.press("p")
        app.feed.now += 30  # thirty seconds without an answer: live, every node is stale
        app.redraw()
        await pilot.pause(0.1)
        status = str(app.query_one("#status-bar").content)
        assert "PAUSED" in status and "UNKNOWN" in status  # the live verdict stays in sight
        assert pane_text(app, "galera") == before  # the panes as they were when paused
        await pilot.press("p")
        await pilot.pause(0.1)
        assert "PAUSED" not in str(app.query_one("#status-bar").content)
        assert pane_text(app, "galera").count("? STALE") == 3


def test_snapshot_monochrome_80x24(snap_compare):
    """hatui-mono on a small terminal during the controller loss: CRIT bold and reversed, findings first."""
    assert snap_compare(incident_app(moment("controller_down"), theme="hatui-mono"), terminal_size=(80, 24),
                        run_before=settled)


async def test_no_color_means_monochrome_and_focus_is_not_the_warning_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        assert app.theme == "hatui-mono" and app.screen.has_class("-mono")
    monkeypatch.delenv("NO_COLOR")
    for name in ("hatui-dark", "hatui-light", "hatui-high-contrast"):
        app = incident_app(moment("controller_down"), theme=name)
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot)
            v = app.theme_variables
            assert v["accent"] != v["warning"], name  # a focused pane never looks like a warning
            assert not app.screen.has_class("-mono")


async def test_slash_filters_every_pane_and_esc_clears_it():
    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(200, 60)) as pilot:
        await settled(pilot)
        assert "db-1" in pane_text(app, "galera") and "mq-1" in pane_text(app, "rabbitmq")
        await pilot.press("slash")
        for ch in "DB-2":  # case-insensitive
            await pilot.press(ch)
        await pilot.pause(0.1)
        galera = pane_text(app, "galera")
        assert "db-2" in galera and "db-1" not in galera.split("node", 1)[1]  # the headline stays
        assert "filter 'DB-2': 1 of 3 rows" in galera
        assert "mq-1" not in pane_text(app, "rabbitmq").split("node", 1)[1]
        assert "filter: 'DB-2'" in str(app.query_one("#status-bar").content)
        await pilot.press("q")  # typed into the filter, not a quit
        assert app.is_running
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert "db-1" in pane_text(app, "galera") and "filter" not in str(app.query_one("#status-bar").content)


async def test_the_timeline_lists_what_opened_newest_first():
    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(200, 60)) as pilot:
        await settled(pilot)
        await pilot.press("t")
        assert app.focused is app.query_one("#pane-timeline")
        text = pane_text(app, "timeline")
        assert "lab-ctl-1: powered off (BMC, redfish)" in text and "newest first" in text
        assert len(app.assessment.timeline) >= len(app.assessment.findings)  # each open finding opened once


async def test_x_walks_the_panes_with_a_failure_in_screen_order():
    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        bad = [p.id for p in app.query(AreaPane) if p.area != "timeline"
               and any(p.has_class(t) for t in ("-critical", "-unknown", "-warning"))]
        assert len(bad) >= 3, bad
        seen = []
        for _ in bad:
            await pilot.press("x")
            seen.append(app.focused.id)
        assert seen == bad  # each failing pane once, in screen order
        await pilot.press("x")
        assert app.focused.id == bad[0]  # and round again


async def test_m_puts_a_host_under_maintenance_and_back(tmp_path):
    from hatui.config.maintenance import Maintenance

    m = Maintenance(tmp_path / "maintenance.json")
    app = incident_app(moment("controller_down"), maintenance=m)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        assert "CRITICAL" in str(app.query_one("#status-bar").content)
        await pilot.press("m")
        for ch in "lab-ctl-1":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert m.file.names() == {"lab-ctl-1"}
        assert "under maintenance: lab-ctl-1" in str(app.screen.query_one("#maintenance-answer").content)
        await pilot.press("escape")
        app.redraw()
        await pilot.pause(0.1)
        assert "MAINTENANCE: lab-ctl-1" in str(app.query_one("#status-bar").content)
        assert "◌ MAINT" in pane_text(app, "findings") and "under maintenance" in pane_text(app, "findings")
        await pilot.press("m")
        for ch in "lab-ctl-1":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert m.file.names() == frozenset()


async def test_findings_stay_in_sight_at_80x24_whatever_pane_a_key_shows():
    """In the middle of an incident on a small terminal, h (the hosts pane, last on the screen) must not
    scroll the findings away."""
    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        findings = app.query_one("#pane-findings")
        box = app.query_one("#findings-box")  # the findings scroll inside it
        for key in ("g", "t", "n", "h"):
            await pilot.press(key)
            await pilot.pause(0.1)
            region = box.region
            assert region.height >= 3 and region.y >= 0 and region.bottom <= 24, (key, region)
            assert app.screen.get_widget_at(2, region.y + 1)[0] is findings, key
        assert 0 <= app.query_one("#pane-hosts").region.y < 24  # and the pane asked for (h, last) is on screen
