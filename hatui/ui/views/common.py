"""Shared pieces of the pane views: rows of (text, tone) cells. Pure: no Textual, no Rich.

A tone names how a cell reads (ok, warning, critical, unknown, spof, stale, dim); the widgets map
tones to component styles defined in themes/*.tcss, so colours live in the theme and every tone
also has a word or glyph that reads in monochrome.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from hatui.config import Config
from hatui.model import Finding, FindingKind, Severity
from hatui.monitor import Assessment
from hatui.words import human_age

Cell = tuple[str, str]  # (text, tone)

TONE_OF_SEVERITY = {Severity.OK: "ok", Severity.WARNING: "warning", Severity.CRITICAL: "critical",
                    Severity.UNKNOWN: "unknown"}
WORD_OF_SEVERITY = {Severity.OK: "✔ OK", Severity.WARNING: "▲ WARN", Severity.CRITICAL: "✖ CRIT",
                    Severity.UNKNOWN: "? UNKN"}


@dataclass(frozen=True, slots=True)
class RowKey:
    """What a pane's row is about, for its detail (Enter): the subject of an area's findings, or one finding.

    ``targets`` names the polls the row shows where they are not simply targets named like the subject
    (a service row read from the nova service list, an endpoint probed in a round)."""

    area: str                                   # the findings' area: galera, rabbitmq, endpoints, hosts, ...
    subject: str                                # a node, host, service or cluster: its findings' subject
    finding: str | None = None                  # a finding's id (the findings and timeline panes)
    targets: tuple[tuple[str, str], ...] = ()   # (source, target) of the polls shown in the row


@dataclass(frozen=True)
class PaneModel:
    title: str
    headline: tuple[Cell, ...] = ()           # one line summing up the area
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    note: str = ""                             # e.g. "not configured: ..."
    tone: str = "ok"                           # the pane border reflects the worst finding
    narrow_drop: tuple[str, ...] = ()          # columns left out on a narrow terminal (least useful first)
    wrap: tuple[str, ...] = ("what",)          # columns that wrap instead of being cut
    keys: tuple[RowKey | None, ...] = ()       # what each row is about, parallel to rows (optional)

    def __post_init__(self) -> None:
        # One guard for every pane: a row never reads OK beside a bad or unknown cell of its own.
        object.__setattr__(self, "rows", tuple(reconciled(row) for row in self.rows))


# a cell's tone -> the row's word it forces when the row would otherwise read OK (worst first)
_FORCED = (("critical", (WORD_OF_SEVERITY[Severity.CRITICAL], "critical")),
           ("warning", (WORD_OF_SEVERITY[Severity.WARNING], "warning")),
           ("unknown", (WORD_OF_SEVERITY[Severity.UNKNOWN], "unknown")),
           ("stale", ("? STALE", "stale")))


def reconciled(row: tuple[Cell, ...]) -> tuple[Cell, ...]:
    """The row with its status word no better than its worst cell: a node whose findings are clear but
    whose canary says BLOCKED, or whose cells read "?" after a rejoin, is not "OK"."""
    if not row or row[0] != (WORD_OF_SEVERITY[Severity.OK], "ok"):
        return row
    tones = {tone for _text, tone in row[1:]}
    for tone, word in _FORCED:
        if tone in tones:
            return (word, *row[1:])
    return row


def group_starts(rows: tuple[tuple[Cell, ...], ...]) -> tuple[int, ...]:
    """Indexes of the rows that start a group: a row whose first cell is empty (such as "└ explains 3: ...")
    continues the one above. The row cursor moves over these."""
    return tuple(i for i, row in enumerate(rows) if i == 0 or not row or row[0][0])


def row_key(model: PaneModel, index: int) -> RowKey | None:
    """The key of a row (a continuation row's is its group's), None where the view gave none."""
    return model.keys[index] if 0 <= index < len(model.keys) else None


def _groups(model: PaneModel) -> list[list[int]]:
    starts = group_starts(model.rows)
    ends = (*starts[1:], len(model.rows))
    return [list(range(start, end)) for start, end in zip(starts, ends, strict=True)]


def _regrouped(model: PaneModel, groups: list[list[int]], note: str) -> PaneModel:
    rows = tuple(model.rows[i] for g in groups for i in g)
    keys = tuple(row_key(model, i) for g in groups for i in g) if model.keys else ()
    return replace(model, rows=rows, keys=keys, note=note)


def filtered(model: PaneModel, text: str) -> PaneModel:
    """The rows that contain ``text`` (any cell, case-insensitive), each with its continuation rows (those
    whose first cell is empty, such as "└ explains 3: ..."). The headline stays: it sums up the whole area."""
    needle = text.strip().casefold()
    if not needle or not model.rows:
        return model
    groups = _groups(model)
    kept = [g for g in groups if any(needle in cell[0].casefold() for i in g for cell in model.rows[i])]
    note = f"filter {text.strip()!r}: {len(kept)} of {len(groups)} rows" + (f"; {model.note}" if model.note else "")
    return _regrouped(model, kept, note)


SORTS = ("as shown", "by status", "by name")  # what the sort key cycles through, per pane
# a row's status tone, worst first: how "by status" orders rows
_SEVERITY_ORDER = ("critical", "unknown", "warning", "stale", "spof", "dim", "ok")


def next_sort(sort: str) -> str:
    return SORTS[(SORTS.index(sort) + 1) % len(SORTS)] if sort in SORTS else SORTS[0]


def sorted_rows(model: PaneModel, sort: str) -> PaneModel:
    """The rows in the order asked for, each group (a row and its continuation rows) kept together:
    "as shown" is the view's own order; "by status" the worst status word first (ties keep the view's
    order); "by name" by the cells after the status word, as read. The note says so."""
    if sort not in SORTS[1:] or not model.rows:
        return model
    groups = _groups(model)
    if sort == "by status":
        def rank(g: list[int]) -> tuple:
            tone = model.rows[g[0]][0][1] if model.rows[g[0]] else ""
            return (_SEVERITY_ORDER.index(tone) if tone in _SEVERITY_ORDER else len(_SEVERITY_ORDER),)
    else:
        def rank(g: list[int]) -> tuple:
            return tuple(text.casefold() for text, _tone in model.rows[g[0]][1:])
    note = f"sorted {sort}" + (f"; {model.note}" if model.note else "")
    return _regrouped(model, sorted(groups, key=rank), note)


MAINT: Cell = ("◌ MAINT", "dim")  # a failure an operator's maintenance mutes: in view, not alarming


def worst_tone(findings: tuple[Finding, ...]) -> str:
    findings = tuple(f for f in findings if f.maintenance is None)
    if not findings:
        return "ok"
    worst = max(findings, key=lambda f: f.severity)
    if worst.kind == FindingKind.SPOF and all(f.kind == FindingKind.SPOF for f in findings):
        return "spof"
    return TONE_OF_SEVERITY[worst.severity]


def status_cell(findings: tuple[Finding, ...]) -> Cell:
    """The word for one subject: its worst finding, a SPOF marker, or OK."""
    failures = [f for f in findings if f.kind == FindingKind.FAILURE]
    loud = [f for f in failures if f.maintenance is None]
    if loud:
        worst = max(loud, key=lambda f: f.severity)
        return WORD_OF_SEVERITY[worst.severity], TONE_OF_SEVERITY[worst.severity]
    if any(f.kind == FindingKind.SPOF for f in findings):
        return "◆ SPOF", "spof"
    if failures:
        return MAINT
    return WORD_OF_SEVERITY[Severity.OK], "ok"


def findings_pane(a: Assessment) -> PaneModel:
    now = a.snapshot.taken_at
    rows = []
    keys: list[RowKey] = []
    ids = {f.id for f in a.findings}
    folded: dict[str, list] = {}  # a cause's id -> the findings it explains, shown folded under it
    for f in a.findings:
        if f.caused_by in ids:
            folded.setdefault(f.caused_by, []).append(f)
    for f in a.findings:
        if f.caused_by in ids:
            continue
        sev_word, tone = WORD_OF_SEVERITY[f.severity], TONE_OF_SEVERITY[f.severity]
        summary = f.summary
        if f.kind == FindingKind.SPOF:
            sev_word, tone = "◆ SPOF", "spof"
        elif f.maintenance is not None:
            (sev_word, tone), summary = MAINT, f"{f.summary} (maintenance: {f.maintenance})"
        since = human_age(now - f.since) if f.since is not None else "-"
        rows.append(((sev_word, tone), (f.area, "dim"), (summary, tone), (since, "dim")))
        keys.append(RowKey(f.area, f.subject, finding=f.id))
        if f.id in folded:
            what = ", ".join(f"{e.area} {e.subject}" for e in folded[f.id])
            rows.append((("", ""), ("", ""), (f"└ explains {len(folded[f.id])}: {what}", "dim"), ("", "")))
            keys.append(keys[-1])
    muted = sum(1 for f in a.findings if f.maintenance is not None)
    failures = sum(1 for f in a.findings if f.kind == FindingKind.FAILURE) - muted
    explained = sum(1 for v in folded.values() for f in v if f.maintenance is None)
    spofs = sum(1 for f in a.findings if f.kind == FindingKind.SPOF)
    headline: tuple[Cell, ...]
    if not a.findings and a.unknown_why:  # no finding yet is not the same as healthy
        headline = ((f"? UNKNOWN: {a.unknown_why}", "unknown"),)
    elif not a.findings:
        headline = (("✔ no failure, no single point of failure", "ok"),)
    else:
        worst_failure = max((f.severity for f in a.findings if f.kind == FindingKind.FAILURE
                             and f.maintenance is None), default=Severity.OK)
        cause_words = f" ({explained} explained by {len(folded)} cause(s))" if explained else ""
        headline = ((f"{failures} failure(s){cause_words}", TONE_OF_SEVERITY[worst_failure]), ("  ", "dim"),
                    # with failures open, "0 SPOFs" is no all-clear (a cluster without quorum has none left)
                    (f"{spofs} single point(s) of failure", "spof" if spofs else "dim" if failures else "ok"))
        if muted:
            headline += (("  ", "dim"), (f"{muted} under maintenance", "dim"))
    return PaneModel("Findings", headline, ("status", "area", "what", "for"), tuple(rows),
                     tone=worst_tone(a.findings) if a.findings or not a.unknown_why else "unknown", keys=tuple(keys))


def not_configured(title: str, section: str) -> PaneModel:
    return PaneModel(title, note=f"not configured: add a [{section}] section to the config (see hatui.example.toml)",
                     tone="dim")


def age_cell(age: float | None, fresh: bool) -> Cell:
    if age is None:
        return "-", "dim"
    return (human_age(age), "dim") if fresh else (f"STALE {human_age(age)}", "stale")


def ms(latency: float | None) -> str:
    return "-" if latency is None else f"{latency * 1000:.0f} ms" if latency >= 0.01 else f"{latency * 1000:.1f} ms"


def insecure_sections(config: Config) -> list[str]:
    """Sections that talk TLS without verifying certificates: always said on screen."""
    return [name for name, section in config.sections.items() if getattr(section, "insecure", False)]
