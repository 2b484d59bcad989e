"""The redundancy pane: one line per service, whether it survives any single failure now, and if not,
the hosts, domains or instances that would take it down (the CloudState's N-1, worked out once)."""
from __future__ import annotations

from hatui.config import Config
from hatui.model.copies import Copies
from hatui.model.redundancy import Element
from hatui.model.topology import DATABASE
from hatui.monitor import Assessment
from hatui.ui.views.common import Cell, PaneModel, RowKey
from hatui.words import data_words, element_names

COLUMNS = ("", "service", "up", "placed", "survives")


def redundancy_pane(a: Assessment, config: Config) -> PaneModel:
    top = a.cloud.topology
    if top is None:
        why = a.cloud.errors.get("topology", "nothing configured")
        return PaneModel("Redundancy", note=f"unknown: {why}", tone="unknown")
    if not top.services:
        return PaneModel("Redundancy", note="no service to judge: configure [galera], [rabbitmq] or [openstack]",
                         tone="dim")
    takes_down: dict[str, list[Element]] = {}
    for element, losses in a.cloud.single_points:
        for service in losses:
            takes_down.setdefault(service, []).append(element)
    now = a.cloud.down
    rows: list[tuple[Cell, ...]] = []
    for name in top.services:
        instances = top.of(name)
        up = sum(1 for i in instances if i.up)
        unknown = [i.name for i in instances if i.up is None]
        unplaced = top.unplaced(name)
        placed: Cell = ("all", "dim") if not unplaced else (f"{len(unplaced)} unknown", "warning")
        if name in now:
            status, verdict = ("✖ DOWN", "critical"), (now[name].why, "critical")
        elif name in takes_down:
            by = ", ".join(element_names(top, tuple(takes_down[name])))
            status, verdict = ("◆ SPOF", "spof"), (f"not: {by}", "spof")
        elif unknown:
            status, verdict = ("? UNKN", "unknown"), (f"cannot tell: no fresh answer from {', '.join(unknown)}",
                                                      "unknown")
        elif unplaced:
            status, verdict = ("? UNKN", "unknown"), (f"cannot tell where {', '.join(unplaced)} run", "unknown")
        else:
            status, verdict = ("✔ OK", "ok"), ("any single failure", "ok")
        rows.append((status, (name, ""), (f"{up}/{len(instances)}", "dim"), placed, verdict))
    tones = {r[0][1] for r in rows}
    exposed = sum(1 for r in rows if r[0][1] != "ok")
    data = _data_rows(a)
    tones |= {r[0][1] for r, _ in data}
    tone = next((t for t in ("critical", "unknown", "spof") if t in tones), "ok")
    headline: tuple[Cell, ...] = ((f"{len(rows) - exposed} of {len(rows)} services survive any single failure "
                                   f"(downtime)", "ok" if not exposed else tone),)
    if data:
        at_risk = sum(1 for r, _ in data if r[0][1] != "ok")
        headline += ((f"; data: {len(data) - at_risk} of {len(data)} kept through any single failure (data loss)",
                      "ok" if not at_risk else next(t for t in ("critical", "unknown", "spof")
                                                    if t in {r[0][1] for r, _ in data})),)
    return PaneModel("Redundancy", headline, COLUMNS, tuple(rows) + tuple(r for r, _ in data), note=_pairs_note(a),
                     tone=tone, narrow_drop=("placed",), wrap=("survives",),
                     keys=tuple(RowKey("redundancy", name) for name in top.services)
                     + tuple(RowKey("redundancy", name) for _, name in data))


def _data_rows(a: Assessment) -> list[tuple[tuple[Cell, ...], str]]:
    """Durability beside availability: one row per kind of data (the database, each kind of queue), with
    the elements whose loss alone would lose it (labelled "data loss": the service may well stay up)."""
    top = a.cloud.topology
    if top is None or not top.copies:
        return []
    kinds: dict[tuple[str, str], list[Copies]] = {}
    for c in top.copies:
        kinds.setdefault((c.service, c.kind), []).append(c)
    out: list[tuple[tuple[Cell, ...], str]] = []
    for (service, kind), copies in kinds.items():
        name = "database: data" if service == DATABASE else f"{kind}s: data"
        hit = [e for e, lost in a.cloud.durability if any(c in copies for c in lost)]
        if service == DATABASE:
            c = copies[0]
            up = f"{c.left()}/{c.members} synced"
        else:
            up = f"{sum(c.count for c in copies)} queues"
        lost_now = [c for c in copies if c.lost()]
        unknown = [c for c in copies if c.unknown and c.left() <= c.needed]
        if lost_now:
            words = "; ".join(data_words(lost_now, top=False))
            status, verdict = ("✖ LOST", "critical"), (f"fewer current copies than needed: {words}", "critical")
        elif hit:
            by = ", ".join(element_names(top, tuple(hit)))
            status, verdict = ("◆ DATA", "spof"), (f"data loss with: {by}", "spof")
        elif unknown:
            status, verdict = ("? UNKN", "unknown"), ("cannot tell: members hatui cannot see may hold no copy",
                                                      "unknown")
        else:
            status, verdict = ("✔ OK", "ok"), ("any single failure", "ok")
        out.append(((status, (name, ""), (up, "dim"), ("", "dim"), verdict), name))
    return out


def _pairs_note(a: Assessment) -> str:
    """N-2, as risk: the first few pairs of hosts or domains that would take a service down together (what
    each takes down, and every pair, in a service's detail: on demand)."""
    risks = a.cloud.pairs
    if not risks:
        return ""
    shown = ", ".join(f"{x.name} + {y.name}" for x, y, _losses in risks[:3])
    more = f" (+{len(risks) - 3} more)" if len(risks) > 3 else ""
    return f"N-2 risk: {shown}{more}; Enter on a service: its pairs and what they take down"
