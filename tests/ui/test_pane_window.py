"""A pane of a thousand rows draws the WINDOW groups around its cursor, says how many it leaves out, and
its keys move the window: at 1,000 hosts, redrawing every row each second starved the polls and the keys."""
from __future__ import annotations

import io

from rich.console import Console
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from hatui.ui.panes import WINDOW, AreaPane
from hatui.ui.views.common import PaneModel

HOSTS = 1000


def model() -> PaneModel:
    # each host a group of two rows (its row and a continuation), as a finding and what it explains
    rows = []
    for n in range(HOSTS):
        rows += [(("✖ CRIT", "critical"), (f"h{n:04d}", "ok"), ("unreachable", "critical")),
                 (("", "dim"), ("", "dim"), (f"└ h{n:04d} detail", "dim"))]
    return PaneModel("Hosts", columns=("status", "host", "what"), rows=tuple(rows))


class OnePane(App):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield AreaPane("hosts", "Hosts")


def text(pane: AreaPane) -> str:
    console = Console(width=100, record=True, file=io.StringIO(), color_system=None)
    console.print(pane.content)
    return console.export_text()


async def test_a_thousand_rows_draw_a_window_that_follows_the_cursor():
    app = OnePane()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(AreaPane)
        pane.can_focus = True
        pane.show(model())
        pane.focus()
        await pilot.pause()
        shown = text(pane)
        assert "h0000" in shown and f"h{WINDOW - 1:04d}" in shown and f"h{WINDOW:04d}" not in shown
        assert f"↓ {2 * (HOSTS - WINDOW)} more row(s)" in shown and "above" not in shown
        await pilot.press("end")
        await pilot.pause()
        shown = text(pane)
        assert pane.key_under_cursor() is None  # (no keys in this model) and the cursor is on the last group
        assert pane.cursor == HOSTS - 1
        assert f"h{HOSTS - 1:04d}" in shown and f"h{HOSTS - WINDOW:04d}" in shown
        assert f"h{HOSTS - WINDOW - 1:04d}" not in shown
        assert f"↑ {2 * (HOSTS - WINDOW)} row(s) above" in shown and "more row(s)" not in shown
        await pilot.press("home", "j", "j")
        await pilot.pause()
        assert pane.cursor == 2 and "h0000" in text(pane)  # back at the top, the window with it
