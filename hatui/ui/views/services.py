"""The compute services pane: how many of each binary are up (headline), one row per service/agent."""
from __future__ import annotations

from hatui.config import Config
from hatui.model import FindingKind
from hatui.model.services import ServiceRow, by_binary
from hatui.monitor import Assessment
from hatui.ui.views.common import Cell, PaneModel, RowKey, age_cell, not_configured, status_cell, worst_tone
from hatui.words import failure_words, human_age

COLUMNS = ("", "binary", "host", "zone", "state", "admin", "heartbeat")


def _row(a: Assessment, r: ServiceRow, fresh: bool, age: float | None) -> tuple[Cell, ...]:
    word = status_cell(a.of_subject("services", r.subject)) if fresh else ("? STALE", "stale")
    t = "" if fresh else "stale"
    if r.forced_down:
        state = ("forced down", t or "critical")
    else:
        state = ("up", t or "ok") if r.up else ("DOWN", t or "critical")
    reason = f": {r.disabled_reason}" if r.disabled_reason else ""
    admin = ("enabled", t or "dim") if r.enabled else (f"disabled{reason}", t or "warning")
    beat = (human_age(r.heartbeat_age), "dim") if fresh else age_cell(age, fresh)
    return (word, (r.binary, ""), (r.host, ""), (r.zone, "dim"), state, admin, beat)


def services_pane(a: Assessment, config: Config) -> PaneModel:
    section = config.section("openstack")
    if section is None:
        return not_configured("Compute services", "openstack")
    rows: list[tuple[Cell, ...]] = []
    keys: list[RowKey] = []
    listed: list[ServiceRow] = []
    problems: list[Cell] = []
    for which in section.services:
        st = a.snapshot.get("services", which)
        if st is None or st.latest is None:
            problems.append((f"{which}: waiting for the first answer", "dim"))
            continue
        if not st.latest.ok:  # e.g. "not allowed: needs ...": never an empty healthy table
            tone = "critical" if st.fresh else "stale"
            problems.append((f"{which}: {failure_words(st.latest.failure)}", tone))
            continue
        if st.garbled is not None:
            problems.append((f"{which}: garbled: {st.garbled}", "unknown"))
            continue
        found = st.value
        # a poll outstanding past half its timeout (its server frozen): said here too, before the timeout
        problems += [(f.summary, "warning") for f in a.of_subject("services", which) if f.condition == "slow"]
        if not found:
            problems.append((f"{which}: the list is empty", "warning"))
        listed += found
        rows += [_row(a, r, st.fresh, st.age) for r in found]
        keys += [RowKey("services", r.subject, targets=(("services", which),)) for r in found]
    spofs = {f.subject for f in a.of_area("services") if f.kind == FindingKind.SPOF}
    headline: list[Cell] = []
    for binary, group in by_binary(listed).items():
        up = sum(r.serving for r in group)
        spof = any(r.subject in spofs for r in group)  # the SPOF is the one left: ``binary@host``
        tone = "critical" if up == 0 else "spof" if spof else "ok" if up == len(group) else "warning"
        headline += [(f"{binary} {up}/{len(group)}", tone), ("  ", "")]
    for cell in problems:  # one line each: "nova: not allowed: needs ..."
        headline += ([("\n", "")] if headline else []) + [cell]
    return PaneModel("Compute services", tuple(headline), COLUMNS, tuple(rows), tone=worst_tone(a.of_area("services")),
                     keys=tuple(keys))
