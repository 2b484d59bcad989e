"""The maintenance dialog (key ``m``): type hosts, domains or instances to put them under maintenance, or to
take them out again (each name toggles). The same file ``hatui maintenance`` and every face read."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from hatui.config.maintenance import Maintenance, MaintenanceError


def listing(m: Maintenance) -> str:
    try:
        entries = m.file.entries()
    except MaintenanceError as exc:
        return f"unreadable: {exc} (nothing muted)"
    names = [e.name + (f" ({e.note})" if e.note else "") for e in entries] + sorted(m.extra)
    return "under maintenance: " + (", ".join(names) if names else "nothing")


class MaintenanceDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(self, maintenance: Maintenance) -> None:
        super().__init__()
        self._m = maintenance

    def compose(self) -> ComposeResult:
        with Vertical(id="maintenance"):
            yield Static("maintenance: names toggle (a host, feed, rack, switch or instance); their failures "
                         "are muted, the SPOFs they leave are not; Esc closes", classes="hint")
            yield Input(placeholder="ctl-1", id="maintenance-input")
            yield Static(listing(self._m), id="maintenance-answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        answer = self.query_one("#maintenance-answer", Static)
        names = event.value.split()
        try:
            now = self._m.file.names()
            on = [n for n in names if n not in now]
            off = [n for n in names if n in now]
            if on:
                self._m.file.set(on, True)
            if off:
                self._m.file.set(off, False)
        except (MaintenanceError, OSError) as exc:
            answer.update(f"not changed: {exc}")
            return
        event.input.value = ""
        answer.update(listing(self._m))
        self.app.call_later(self.app.redraw)  # type: ignore[attr-defined]
