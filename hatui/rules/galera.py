"""Galera rules: per-node state, cluster views reconciled into one verdict, and the quorum margin.

The cluster picture (majority view, members, quorum margin) is derived once in hatui.model.galera;
which member is a single point of failure is the model's to say (hatui.rules.redundancy, in these words).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import partial

from hatui.model import Finding, Severity
from hatui.model.galera import GaleraCluster, NodeState
from hatui.rules import RuleContext, finding

AREA = "galera"
# Fraction of wall time replication may be paused by flow control before it is reported. Galera's
# own gcs.fc_* defaults pause briefly under bursts; 10 % over a poll interval is sustained pain.
FC_PAUSED_WARN = 0.10
# A thawed node reports its old view for ~0.1 s (lab); a disagreement must outlast that.
SPLIT_VIEW_CONFIRM = 1.0


_finding = partial(finding, AREA)  # (condition, subject, severity, summary, *, kind, confirm)


def _cluster(ctx: RuleContext) -> GaleraCluster | None:
    return ctx.cloud.galera


def _nodes(ctx: RuleContext) -> tuple[NodeState, ...]:
    c = ctx.cloud.galera
    return c.nodes if c is not None else ()


def node_not_primary(ctx: RuleContext) -> Iterator[Finding]:
    for v in _nodes(ctx):
        if not v.status.is_primary:
            how = ("disconnected from the group" if not v.status.connected
                   else f"in a {v.status.cluster_status} component")
            yield _finding("non_primary", v.name, Severity.CRITICAL,
                           f"{v.name}: {how} of {v.status.cluster_size}: refuses reads and writes")


def node_not_synced(ctx: RuleContext) -> Iterator[Finding]:
    for v in _nodes(ctx):
        if v.status.is_primary and not v.status.is_synced:
            state = v.status.state_comment or f"state {v.status.local_state}"
            # Donor/Desynced: serving a state transfer, or desynced by an operator (backup, DDL)
            yield _finding("not_synced", v.name, Severity.WARNING, f"{v.name}: {state}, not Synced")


def node_not_ready(ctx: RuleContext) -> Iterator[Finding]:
    for v in _nodes(ctx):
        if v.status.is_primary and not v.status.ready:
            yield _finding("not_ready", v.name, Severity.CRITICAL, f"{v.name}: wsrep_ready OFF: not accepting queries")


def flow_control(ctx: RuleContext) -> Iterator[Finding]:
    """Replication paused by flow control for a large share of the last interval, and who asked."""
    c = _cluster(ctx)
    pairs = [(v, v.previous) for v in _nodes(ctx) if v.previous is not None and v.interval > 0]
    paused = {v.name: (v.status.fc_paused_ns - before.fc_paused_ns) / 1e9 / v.interval for v, before in pairs}
    worst = max(paused.values(), default=0.0)
    if c is None or worst < FC_PAUSED_WARN:
        return
    causes = [v.name for v, before in pairs if v.status.fc_sent > before.fc_sent]
    queues = sorted((v for v, _ in pairs), key=lambda v: v.status.recv_queue, reverse=True)
    if not causes and queues and queues[0].status.recv_queue > 0:
        causes = [queues[0].name]
    who = f"; caused by {', '.join(causes)}" if causes else ""
    cluster = c.name
    yield _finding("flow_control", cluster, Severity.WARNING,
                   f"{cluster}: flow control paused replication {min(worst, 1.0):.0%} of the time{who}")


def _primary_views(views: tuple[NodeState, ...]) -> Counter:
    return Counter(v.status.view for v in views if v.status.is_primary)


def split_view(ctx: RuleContext) -> Iterator[Finding]:
    """Nodes that disagree about membership (conf id / size) or history (state uuid)."""
    c, views = _cluster(ctx), _nodes(ctx)
    counts = _primary_views(views)
    if c is None or len(counts) <= 1:
        return
    groups = []
    for view, _n in counts.most_common():
        names = [v.name for v in views if v.status.is_primary and v.status.view == view]
        verb = "sees" if len(names) == 1 else "see"
        groups.append(f"{', '.join(names)} {verb} conf {view[0]} size {view[2]}")
    uuids = {view[1] for view in counts}
    what = "different cluster histories" if len(uuids) > 1 else "different membership"
    cluster = c.name
    yield _finding("split_view", cluster, Severity.CRITICAL if len(uuids) > 1 else Severity.WARNING,
                   f"{cluster}: nodes report {what}: " + "; ".join(groups), confirm=SPLIT_VIEW_CONFIRM)


def no_primary(ctx: RuleContext) -> Iterator[Finding]:
    """No node we can see is in a Primary component: the database is down for writes."""
    c = _cluster(ctx)
    if c is None or c.view is not None:
        return
    if not c.nodes:
        if not c.all_failed:
            return  # some nodes are only unknown (stale, waiting): their own findings say so
        summary = f"{c.name}: no node answers: the database is unavailable"
    else:
        summary = f"{c.name}: no Primary component among {len(c.nodes)} answering node(s): writes and reads refused"
    yield _finding("no_primary", c.name, Severity.CRITICAL, summary)


def size_below_expected(ctx: RuleContext) -> Iterator[Finding]:
    c = _cluster(ctx)
    if c is None or c.size is None or c.size >= c.expected:
        return
    yield _finding("size", c.name, Severity.WARNING,
                   f"{c.name}: {c.size} of {c.expected} nodes in the Primary component")


def spof_words(ctx: RuleContext, name: str) -> str:
    """Why losing member ``name`` alone leaves the database without quorum (the model found that it does:
    hatui.rules.redundancy names it ``galera.spof:<node>``)."""
    c = _cluster(ctx)
    if c is None or c.size is None:
        return f"{name}: its loss leaves the database without quorum"
    size = c.size
    known = sorted(set(c.members) - {name} - set(c.gone))
    unnamed = size - 1 - len(known) - len(c.gone)  # members we cannot see, or that still report an older view
    others = ", ".join(known + ([f"{unnamed} other member(s)"] if unnamed > 0 else []))
    weight = next((n.status.weight for n in c.nodes if n.name == name), 1.0)
    if size == 1:
        return f"{name}: the only node in the Primary component: its loss stops the database"
    if weight != 1.0:
        return (f"{name}: pc.weight {weight:g} of the Primary component's {size} nodes; losing it leaves "
                f"{others or 'no node'} without quorum (non-Primary)")
    if c.gone:
        return (f"{name}: {', '.join(c.gone)} already gone (the component still counts it); losing "
                f"{name} too leaves {others or 'no node'} without quorum (non-Primary)")
    return (f"{name}: 1 of {size} nodes in the Primary component; losing it leaves {others} "
            f"without quorum (non-Primary)")


RULES = [no_primary, node_not_primary, node_not_ready, node_not_synced, split_view,
         size_below_expected, flow_control]
