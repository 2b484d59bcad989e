"""The Timeline pane: every finding opened, explained and cleared since hatui started, newest first,
with when, for how long, and by what (the events ``watch`` prints). It keeps what has recovered: the
order in which things failed is what an incident review needs."""
from __future__ import annotations

import time

from hatui.model import FindingKind
from hatui.monitor import TIMELINE_MAX, Assessment
from hatui.ui.views.common import TONE_OF_SEVERITY, WORD_OF_SEVERITY, PaneModel, RowKey
from hatui.words import human_age

SHOWN = 100  # rows drawn (the newest); the monitor keeps TIMELINE_MAX
COLUMNS = ("", "at", "event", "area", "what", "lasted")


def timeline_pane(a: Assessment) -> PaneModel:
    events = a.timeline
    if not events:
        return PaneModel("Timeline", (("nothing has opened or cleared yet", "dim"),))
    rows = []
    for ev in reversed(events[-SHOWN:]):
        f = ev.finding
        word, tone = WORD_OF_SEVERITY[f.severity], TONE_OF_SEVERITY[f.severity]
        if f.kind == FindingKind.SPOF:
            word, tone = "◆ SPOF", "spof"
        if ev.event == "cleared":
            word, tone = "✔ clear", "ok"
        at = time.strftime("%H:%M:%S", time.localtime(ev.at))
        what = f.summary + (f" (caused by {f.caused_by})" if f.caused_by and ev.event != "cleared" else "")
        lasted = human_age(ev.at - f.since) if ev.event == "cleared" and f.since is not None else ""
        rows.append(((word, tone), (at, "dim"), (ev.event, "dim"), (f.area, "dim"), (what, "" if ev.event ==
                     "cleared" else tone), (lasted, "dim")))
    opened = sum(1 for e in events if e.event == "opened")
    cleared = sum(1 for e in events if e.event == "cleared")
    kept = f" (the last {len(events)})" if len(events) >= TIMELINE_MAX else ""
    headline = ((f"{opened} opened, {cleared} cleared{kept}, newest first", ""),)
    keys = tuple(RowKey(ev.finding.area, ev.finding.subject, finding=ev.finding.id) for ev in reversed(events[-SHOWN:]))
    return PaneModel("Timeline", headline, COLUMNS, tuple(rows), narrow_drop=("event", "area"), keys=keys)
