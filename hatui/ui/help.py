"""The help screen (key ``?``): every key of the app, read from its bindings (one declaration), and what
the words and marks on screen mean."""
from __future__ import annotations

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

def key_lines(bindings: list[BindingType]) -> list[str]:
    """``key  description`` for every binding that has one (hidden ones included: help shows all)."""
    out = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            keys = ", ".join("?" if k == "question_mark" else k for k in b.key.split(","))
            out.append(f"  {keys:<10} {b.description}")
    return out


class Help(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", show=False)]

    def __init__(self, bindings: list[BindingType]) -> None:
        super().__init__()
        self._keys = bindings

    def compose(self) -> ComposeResult:
        lines = ["hatui: keys", "", *key_lines(self._keys),
                 "  tab        next pane", "  up, down   scroll", "", "marks", "",
                 *(f"  {mark:<18} {what}" for mark, what in MARKS), "", "Esc or ? closes this screen"]
        with VerticalScroll(id="help"):
            yield Static("\n".join(lines), id="help-text")
