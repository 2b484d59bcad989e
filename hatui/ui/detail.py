"""The detail screen (Enter on a row or a finding): draws a DetailModel (hatui.ui.views.detail), redrawn
each second while it is open; Esc goes back to the panes."""
from __future__ import annotations

from collections.abc import Callable

from rich.console import Group
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from hatui.ui.panes import Toned
from hatui.ui.views.detail import DetailModel

TICK = 1.0  # s: ages and sparklines move as the panes' do


class DetailText(Toned):
    def show(self, model: DetailModel) -> None:
        self.update(Group(*(self._line(line) for line in model.lines)))


class Detail(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
    ]

    def __init__(self, build: Callable[[], DetailModel]) -> None:
        super().__init__()
        self._build = build  # called at each redraw: the state moves while the detail is open
        self.model: DetailModel | None = None  # what is shown

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with VerticalScroll(id="detail"):
            yield DetailText(id="detail-text")
        yield Footer()

    def on_mount(self) -> None:
        self.set_class(self.app.screen_stack[0].has_class("-mono"), "-mono")  # as the panes' screen
        self.redraw()
        self.set_interval(TICK, self.redraw)
        self.query_one("#detail", VerticalScroll).focus()

    def redraw(self) -> None:
        model = self._build()
        if model == self.model:
            return
        self.model = model
        self.query_one("#detail-title", Static).update(f" {model.title}   (Esc: back to the panes)")
        self.query_one("#detail-text", DetailText).show(model)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#detail", VerticalScroll).scroll_relative(y=lines, animate=False)
