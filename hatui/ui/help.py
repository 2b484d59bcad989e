"""The help screen (key ``?``): every key of the app, read from its bindings (one declaration), and what
the words and marks on screen mean."""
from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from hatui.model import Severity
from hatui.ui.views.common import WORD_OF_SEVERITY

MEANING = {Severity.OK: "every check of this row holds",
           Severity.WARNING: "degraded, still serving",
           Severity.CRITICAL: "a failure: something is down now",
           Severity.UNKNOWN: "hatui cannot tell: no answer yet, a garbled answer, or an old one"}
MARKS = (*((WORD_OF_SEVERITY[s], MEANING[s]) for s in sorted(Severity)),
         ("◆ SPOF", "nothing is down, but one more loss takes a service down"),
         ("STALE 12 s", "the last answer is that old: what the row shows may no longer be true"),
         ("└ explains N", "the findings folded under this root cause"))

def key_lines(bindings: list[BindingType], display: Callable[[Binding], str]) -> list[str]:
    """``key  description`` for every binding that has one, keys as the footer shows them."""
    return [f"  {display(b):<10} {b.description}" for b in bindings if isinstance(b, Binding) and b.description]


class Help(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", show=False)]

    def __init__(self, bindings: list[BindingType]) -> None:
        super().__init__()
        self._keys = bindings

    def compose(self) -> ComposeResult:
        lines = ["hatui: keys", "", *key_lines(self._keys, self.app.get_key_display),
                 "  tab        next pane", "  j, k       row cursor of the focused pane (up, down too)",
                 "  PgUp, PgDn a page of rows (past the last, the panes scroll)", "  Home, End  first, last row",
                 "  enter      the detail of the row: findings, evidence, history, polls, fields",
                 "  escape     back from a detail", "  ctrl+p, :  commands: themes, screenshot", "", "marks", "",
                 *(f"  {mark:<18} {what}" for mark, what in MARKS), "", "Esc or ? closes this screen"]
        with VerticalScroll(id="help"):
            yield Static("\n".join(lines), id="help-text")
