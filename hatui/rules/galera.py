"""Galera rules: per-node state, cluster views reconciled into one verdict, and the quorum margin.

Quorum (Galera documentation, "weighted quorum"): after an unclean loss, a component stays
Primary only if it keeps more than half of the previous component's members. So a Primary
component of 2 (or 1) nodes cannot lose any member: each member is a single point of failure.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from hatui.model import Finding, FindingKind, Severity
from hatui.model.galera import GaleraStatus, StatusGarbled, View, majority_view, parse_wsrep_status
from hatui.rules import RuleContext

AREA = "galera"
# Fraction of wall time replication may be paused by flow control before it is reported. Galera's
# own gcs.fc_* defaults pause briefly under bursts; 10 % over a poll interval is sustained pain.
FC_PAUSED_WARN = 0.10
# A thawed node reports its old view for ~0.1 s (lab); a disagreement must outlast that.
SPLIT_VIEW_CONFIRM = 1.0


@dataclass(frozen=True, slots=True)
class NodeView:
    name: str
    status: GaleraStatus
    previous: GaleraStatus | None
    interval: float  # seconds between the two observations (for rates)


def _finding(rule: str, subject: str, severity: Severity, summary: str, *,
             kind: FindingKind = FindingKind.FAILURE, confirm: float = 0.0) -> Finding:
    return Finding(f"galera.{rule}:{subject}", kind, severity, AREA, subject, summary, confirm=confirm)


_parsed: tuple[object, tuple] = (None, ())  # (snapshot, result): every rule reads the same parse


def node_views(ctx: RuleContext) -> tuple[list[NodeView], list[tuple[str, str]]]:
    """Parsed status of every node with usable data, and (node, reason) for garbled answers."""
    global _parsed
    if _parsed[0] is not ctx.snapshot:
        _parsed = (ctx.snapshot, _node_views(ctx))
    return _parsed[1]


def _node_views(ctx: RuleContext) -> tuple[list[NodeView], list[tuple[str, str]]]:
    section = ctx.config.galera
    if section is None:
        return [], []
    views, garbled = [], []
    for node in section.nodes:
        st = ctx.snapshot.get("galera", node.name)
        obs = st.usable if st else None
        if obs is None:
            continue
        try:
            status = parse_wsrep_status(obs.data)
        except StatusGarbled as exc:
            garbled.append((node.name, str(exc)))
            continue
        prev = None
        interval = 0.0
        if st.previous is not None and st.previous.ok:
            try:
                prev = parse_wsrep_status(st.previous.data)
                interval = obs.observed_at - st.previous.observed_at
            except StatusGarbled:
                prev = None
        views.append(NodeView(node.name, status, prev, interval))
    return views, garbled


def _cluster(ctx: RuleContext) -> str:
    return ctx.config.galera.name if ctx.config.galera else AREA


def garbled_answer(ctx: RuleContext) -> Iterator[Finding]:
    for name, reason in node_views(ctx)[1]:
        yield _finding("garbled", name, Severity.UNKNOWN, f"{name}: answer is not a Galera status ({reason})")


def node_not_primary(ctx: RuleContext) -> Iterator[Finding]:
    for v in node_views(ctx)[0]:
        if not v.status.is_primary:
            how = ("disconnected from the group" if not v.status.connected
                   else f"in a {v.status.cluster_status} component")
            yield _finding("non_primary", v.name, Severity.CRITICAL,
                           f"{v.name}: {how} of {v.status.cluster_size}: refuses reads and writes")


def node_not_synced(ctx: RuleContext) -> Iterator[Finding]:
    for v in node_views(ctx)[0]:
        if v.status.is_primary and not v.status.is_synced:
            state = v.status.state_comment or f"state {v.status.local_state}"
            # Donor/Desynced: serving a state transfer, or desynced by an operator (backup, DDL)
            yield _finding("not_synced", v.name, Severity.WARNING, f"{v.name}: {state}, not Synced")


def node_not_ready(ctx: RuleContext) -> Iterator[Finding]:
    for v in node_views(ctx)[0]:
        if v.status.is_primary and not v.status.ready:
            yield _finding("not_ready", v.name, Severity.CRITICAL, f"{v.name}: wsrep_ready OFF: not accepting queries")


def flow_control(ctx: RuleContext) -> Iterator[Finding]:
    """Replication paused by flow control for a large share of the last interval, and who asked."""
    views = [v for v in node_views(ctx)[0] if v.previous is not None and v.interval > 0]
    paused = {v.name: (v.status.fc_paused_ns - v.previous.fc_paused_ns) / 1e9 / v.interval for v in views}
    worst = max(paused.values(), default=0.0)
    if worst < FC_PAUSED_WARN:
        return
    causes = [v.name for v in views if v.status.fc_sent > v.previous.fc_sent]
    queues = sorted(views, key=lambda v: v.status.recv_queue, reverse=True)
    if not causes and queues and queues[0].status.recv_queue > 0:
        causes = [queues[0].name]
    who = f"; caused by {', '.join(causes)}" if causes else ""
    cluster = _cluster(ctx)
    yield _finding("flow_control", cluster, Severity.WARNING,
                   f"{cluster}: flow control paused replication {min(worst, 1.0):.0%} of the time{who}")


def _primary_views(views: list[NodeView]) -> Counter:
    return Counter(v.status.view for v in views if v.status.is_primary)


def split_view(ctx: RuleContext) -> Iterator[Finding]:
    """Nodes that disagree about membership (conf id / size) or history (state uuid)."""
    views = node_views(ctx)[0]
    counts = _primary_views(views)
    if len(counts) <= 1:
        return
    groups = []
    for view, _n in counts.most_common():
        names = [v.name for v in views if v.status.is_primary and v.status.view == view]
        verb = "sees" if len(names) == 1 else "see"
        groups.append(f"{', '.join(names)} {verb} conf {view[0]} size {view[2]}")
    uuids = {view[1] for view in counts}
    what = "different cluster histories" if len(uuids) > 1 else "different membership"
    cluster = _cluster(ctx)
    yield _finding("split_view", cluster, Severity.CRITICAL if len(uuids) > 1 else Severity.WARNING,
                   f"{cluster}: nodes report {what}: " + "; ".join(groups), confirm=SPLIT_VIEW_CONFIRM)


def _majority(views: list[NodeView]) -> tuple[View | None, list[NodeView]]:
    view, names = majority_view({v.name: v.status for v in views})
    return view, [v for v in views if v.name in names]


def no_primary(ctx: RuleContext) -> Iterator[Finding]:
    """No node we can see is in a Primary component: the database is down for writes."""
    section = ctx.config.galera
    if section is None:
        return
    views = node_views(ctx)[0]
    view, _members = _majority(views)
    if view is not None:
        return
    cluster = _cluster(ctx)
    seen = len(views)
    if seen == 0:
        if not _all_failed(ctx):
            return  # some nodes are only unknown (stale, waiting): their own findings say so
        summary = f"{cluster}: no node answers: the database is unavailable"
        severity = Severity.CRITICAL
    else:
        summary = f"{cluster}: no Primary component among {seen} answering node(s): writes and reads refused"
        severity = Severity.CRITICAL
    yield _finding("no_primary", cluster, severity, summary)


def _all_failed(ctx: RuleContext) -> bool:
    states = [ctx.snapshot.get("galera", n.name) for n in ctx.config.galera.nodes]
    return all(s is not None and s.fresh and s.latest is not None and not s.latest.ok for s in states)


def size_below_expected(ctx: RuleContext) -> Iterator[Finding]:
    section = ctx.config.galera
    if section is None:
        return
    view, _ = _majority(node_views(ctx)[0])
    if view is None or view[2] >= section.size_expected:
        return
    cluster = _cluster(ctx)
    yield _finding("size", cluster, Severity.WARNING,
                   f"{cluster}: {view[2]} of {section.size_expected} nodes in the Primary component")


def quorum_spof(ctx: RuleContext) -> Iterator[Finding]:
    """Each member whose loss alone would leave the Primary component without quorum."""
    view, members = _majority(node_views(ctx)[0])
    if view is None:
        return
    size = view[2]
    if size - 1 > size / 2:  # losing any one member still leaves a majority
        return
    names = {v.name for v in members}
    for v in members:
        known = sorted(names - {v.name})
        unnamed = size - 1 - len(known)  # members we cannot see, or that still report an older view
        others = ", ".join(known + ([f"{unnamed} other member(s)"] if unnamed > 0 else []))
        if size == 1:
            summary = f"{v.name}: the only node in the Primary component: its loss stops the database"
        else:
            summary = (f"{v.name}: 1 of {size} nodes in the Primary component; losing it leaves {others} "
                       f"without quorum (non-Primary)")
        yield _finding("quorum_spof", v.name, Severity.WARNING, summary, kind=FindingKind.SPOF)


RULES = [garbled_answer, no_primary, node_not_primary, node_not_ready, node_not_synced, split_view,
         size_below_expected, flow_control, quorum_spof]
