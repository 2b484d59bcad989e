"""The ok-to-stop dialog (key ``o``): type hosts, domains or instances, read what stopping them now would
do, from the live state the panes show (the same answer as ``hatui ok-to-stop``, without a poll round)."""
from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from hatui.model.cloud import CloudState
from hatui.model.redundancy import Element, find, ok_to_stop
from hatui.words import rabbit_says, reconnect_lines, verdict_lines


class OkToStop(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(self, cloud: Callable[[], CloudState | None], initial: str = "") -> None:
        super().__init__()
        self._cloud = cloud  # read at each answer: the state moves while the dialog is open
        self._initial = initial  # the element under the cursor of the focused pane: answered at once

    def compose(self) -> ComposeResult:
        with Vertical(id="ok-to-stop"):
            yield Static("ok to stop? hosts, feeds, racks, switches or instances, space-separated; Esc closes",
                         classes="hint")
            yield Input(self._initial, placeholder="ctl-1 pdu-b", id="ok-to-stop-input")
            yield Static("", id="ok-to-stop-answer")

    def on_mount(self) -> None:
        if self._initial:
            self.answer(self._initial)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.answer(event.value)

    def answer(self, text: str) -> None:
        answer = self.query_one("#ok-to-stop-answer", Static)
        cloud = self._cloud()
        top = cloud.topology if cloud is not None else None
        if cloud is None or top is None:
            answer.update("cannot tell: no state of the cloud yet")
            return
        names = text.split()
        found: list[Element] = []
        for name in names:
            e = find(top, name)
            if e is None:
                known = ", ".join(sorted({*top.hosts, *top.domains()}))
                answer.update(f"no element named {name!r} (hosts and domains: {known})")
                return
            found.append(e)
        if found:
            v = ok_to_stop(top, found)
            answer.update("\n".join(verdict_lines(v, top) + rabbit_says(v, top, cloud.rabbitmq)
                                    + reconnect_lines(v, top)))
