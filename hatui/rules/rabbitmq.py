"""RabbitMQ rules: every node's own view reconciled into one verdict, alarms, the canary, the margin.

Views are asymmetric: in a partition often only one side lists the other in ``partitions``, and
on Khepri (4.x) nobody does. So a partition is also read from the ``running`` flags: a node that
answers and runs, that another answering, running node reports as not running, is cut off from
it. Both kinds of evidence make one finding naming the sides.

Majority (quorum queues, Khepri, ``pause_minority``: RabbitMQ clustering and quorum queue guides):
a cluster of E nodes needs E // 2 + 1 of them. With exactly that many running, losing any one of
them loses the majority: each is a single point of failure. Fewer running is a failure already.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from hatui.model import FailureKind, Finding, FindingKind, Severity
from hatui.model.rabbitmq_cluster import ClusterPicture
from hatui.rules import RuleContext, finding
from hatui.words import failure_words, human_age

AREA = "rabbitmq"
# A partition seen only as disagreeing ``running`` flags must hold this long: views are polled at
# different instants, and a node rejoining is briefly seen running by itself before its peers.
PARTITION_CONFIRM = 2.0
# One slow /api/nodes under load is not a symptom; a cluster view slow for two polls is (a frozen peer
# keeps it waiting ~net_ticktime, 10-60 s).
SLOW_VIEW_CONFIRM = 1.5
# RabbitMQ refuses connections when file descriptors or sockets run out, and crashes when Erlang
# processes do; 90 % used leaves time to act (the management UI turns these red at the same mark).
RESOURCE_WARN = 0.90


_finding = partial(finding, AREA)  # (condition, subject, severity, summary, *, kind, confirm)


def picture(ctx: RuleContext) -> ClusterPicture | None:
    return ctx.cloud.rabbitmq


def _join(names: list[str]) -> str:
    return ", ".join(names)


def _mb(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _words(failure) -> str:
    """A failure's words without the source's own prefix (the finding already says which way in)."""
    msg = failure.message.removeprefix("management API: ").removeprefix("AMQP canary: ")
    return msg or failure_words(failure)


def cluster_down(ctx: RuleContext) -> Iterator[Finding]:
    """No node answers, by either way: the message queue is unavailable."""
    p = picture(ctx)
    if p is None or p.views or p.canaries:
        return
    names = [n.name for n in p.section.nodes]
    if not all(n in p.api_failed for n in names):
        return
    if p.section.canary is not None and not all(n in p.canary_failed for n in names):
        return
    yield _finding("down", p.cluster, Severity.CRITICAL,
                   f"{p.cluster}: no node answers: the message queue is unavailable")


def node_not_running(ctx: RuleContext) -> Iterator[Finding]:
    """A node some answering node sees not running, and that does not itself answer as running."""
    p = picture(ctx)
    if p is None:
        return
    views = p.cluster_views()
    seen_down: dict[str, list[str]] = {}
    for name, v in views.items():
        for e in v.nodes or ():
            if not e.running:
                seen_down.setdefault(e.name, []).append(name)
    for erlang, reporters in seen_down.items():
        label = p.label(erlang)
        own = views.get(label)
        if own is not None and own.node == erlang and own.me is not None and own.me.running:
            continue  # it answers and runs: a partition, judged by network_partition
        why = f"; {p.api_failed[label].message}" if label in p.api_failed else ""
        yield _finding("not_running", label, Severity.CRITICAL,
                       f"{label}: not running, as seen by {_join(p.labels(reporters))}{why}")


def partition_edges(p: ClusterPicture) -> tuple[dict[frozenset[str], set[str]], bool]:
    """Pairs of nodes that cannot talk -> who reports it; and whether any came from ``partitions``."""
    views = p.cluster_views()
    edges: dict[frozenset[str], set[str]] = {}
    explicit = False
    for name, v in views.items():
        for e in v.nodes or ():
            for other in (e.partitions or ()) if e.running else ():
                edges.setdefault(frozenset((e.name, other)), set()).add(name)
                explicit = True
    answering = {v.node for v in views.values() if v.node and v.me is not None and v.me.running}
    for name, v in views.items():
        for e in v.nodes or ():
            if not e.running and e.name in answering and v.node and e.name != v.node:
                edges.setdefault(frozenset((v.node, e.name)), set()).add(name)
    return edges, explicit


def partition_sides(nodes: set[str], edges: dict[frozenset[str], set[str]]) -> list[set[str]]:
    """Groups of nodes that can all reach one another's group: connected parts of "no edge"."""
    sides: list[set[str]] = []
    left = set(nodes)
    while left:
        side = {left.pop()}
        grow = True
        while grow:
            grow = False
            for n in list(left):
                if any(frozenset((n, m)) not in edges for m in side):
                    side.add(n)
                    left.discard(n)
                    grow = True
        sides.append(side)
    return sides


def network_partition(ctx: RuleContext) -> Iterator[Finding]:
    p = picture(ctx)
    if p is None:
        return
    edges, explicit = partition_edges(p)
    if not edges:
        return
    involved = {n for e in edges for n in e} | {n for v in p.cluster_views().values() for n in v.running}
    sides = partition_sides(involved, edges)
    reporters = _join(p.labels({r for rs in edges.values() for r in rs}))
    if len(sides) > 1:
        sides.sort(key=lambda s: (-len(s), p.labels(s)))
        what = "network partition: " + " | ".join(_join(p.labels(s)) for s in sides)
    else:
        pairs = sorted(" cannot reach ".join(p.labels(e)) for e in edges)
        what = "partial network partition: " + "; ".join(pairs)
    how = "" if explicit else " (from their running flags)"
    yield _finding("partition", p.cluster, Severity.CRITICAL, f"{p.cluster}: {what}, reported by {reporters}{how}",
                   confirm=0.0 if explicit else PARTITION_CONFIRM)


def _alarms(p: ClusterPicture) -> dict[tuple[str, str], set[str]]:
    """(erlang node, "memory" | "disk") -> configured names of the nodes reporting it."""
    out: dict[tuple[str, str], set[str]] = {}
    for name, v in p.views.items():
        for e in v.nodes or ():
            if e.running and e.mem_alarm:
                out.setdefault((e.name, "memory"), set()).add(name)
            if e.running and e.disk_alarm:
                out.setdefault((e.name, "disk"), set()).add(name)
        for check in ("alarms", "local-alarms"):
            c = v.checks.get(check)
            for node, resource in (c.alarms if c is not None and not c.ok else ()):
                out.setdefault((node or v.node, resource), set()).add(name)
    return out


def _entry_about(p: ClusterPicture, erlang: str):
    """What is known of a node's figures: its own answer first, else a peer's."""
    own = p.views.get(p.label(erlang))
    candidates = ([own] if own is not None else []) + list(p.views.values())
    for v in candidates:
        e = v.entry(erlang)
        if e is not None and e.running and e.mem_limit is not None:
            return e
    return None


def resource_alarm(ctx: RuleContext) -> Iterator[Finding]:
    p = picture(ctx)
    if p is None:
        return
    for (erlang, resource), _reporters in sorted(_alarms(p).items()):
        label = p.label(erlang)
        e = _entry_about(p, erlang)
        # figures only when they agree with the alarm: stats lag it by a statistics interval (lab: a new
        # watermark was still shown as the old 10 GB one when the alarm was already reported)
        if resource == "memory":
            agree = e is not None and (e.mem_used or 0) >= (e.mem_limit or 0)
            figures = f" ({_mb(e.mem_used)} used, watermark {_mb(e.mem_limit)})" if agree else ""
            yield _finding("mem_alarm", label, Severity.CRITICAL,
                           f"{label}: memory alarm{figures}: publishers blocked cluster-wide")
        else:
            agree = e is not None and e.disk_free is not None and e.disk_free <= (e.disk_free_limit or 0)
            figures = f" ({_mb(e.disk_free)} free, limit {_mb(e.disk_free_limit)})" if agree else ""
            yield _finding("disk_alarm", label, Severity.CRITICAL,
                           f"{label}: disk alarm{figures}: publishers blocked cluster-wide")


def publishers_blocked(ctx: RuleContext) -> Iterator[Finding]:
    """The canary's own message was held: RabbitMQ sent connection.blocked."""
    p = picture(ctx)
    if p is None:
        return
    blocked = {name: c.blocked for name, c in p.canaries.items() if c.blocked}
    if not blocked:
        return
    reasons = _join(sorted(set(blocked.values())))
    yield _finding("publishers_blocked", p.cluster, Severity.CRITICAL,
                   f"{p.cluster}: publishers blocked ({reasons}): the canary's message was held on "
                   f"{_join(p.labels(blocked))}")


# A booting node opens its AMQP listener ~0.3 s before its management listener (lab, after SIGKILL and
# restart): a mismatch must outlast that, and a real one (maintenance, a crashed plugin) does.
MISMATCH_CONFIRM = 2.0
# Canary failures that mean the node refuses clients (a stalled step after connecting is the cluster's
# problem, already the canary's own finding; a handshake timeout is a frozen node, its API frozen too).
REFUSING = {FailureKind.REFUSED, FailureKind.UNREACHABLE, FailureKind.TLS, FailureKind.AUTH, FailureKind.FORBIDDEN}


def amqp_api_mismatch(ctx: RuleContext) -> Iterator[Finding]:
    """One way in answers and the other does not: AMQP refused under a live API, or the reverse.
    Only when the way that works answered after the other failed: a node that just died fails on one
    side first, while the other's last answer is still fresh."""
    p = picture(ctx)
    if p is None:
        return
    for name, failure in p.canary_failed.items():
        v = p.views.get(name)
        if failure.kind not in REFUSING or v is None or (v.me is not None and not v.me.running):
            continue
        if p.polled_at.get(("rabbitmq", name), 0.0) > p.polled_at.get(("rabbitmq-amqp", name), 0.0):
            yield _finding("amqp_down", name, Severity.CRITICAL,
                           f"{name}: AMQP fails ({_words(failure)}) while its management API answers: "
                           f"clients cannot use this node", confirm=MISMATCH_CONFIRM)
    for name, failure in p.api_failed.items():
        c = p.canaries.get(name)
        if c is None or c.blocked is not None:
            continue
        if p.polled_at.get(("rabbitmq-amqp", name), 0.0) > p.polled_at.get(("rabbitmq", name), 0.0):
            yield _finding("api_down", name, Severity.WARNING,
                           f"{name}: management API fails ({_words(failure)}) while AMQP works: "
                           f"judged from its peers' views only", confirm=MISMATCH_CONFIRM)


def slow_view(ctx: RuleContext) -> Iterator[Finding]:
    """The node answers, but its cluster view (/api/nodes) did not come back in time."""
    p = picture(ctx)
    if p is None:
        return
    for name, v in p.views.items():
        if v.nodes is not None or "nodes" not in v.errors:
            continue
        # (as of the node's answer, not of this assessment: the finding is judged again at its next answer)
        last = f"; last view {human_age(p.answered_at(name) - v.last_nodes_at)} old" if v.last_nodes_at else ""
        yield _finding("slow_view", name, Severity.WARNING,
                       f"{name}: answers, but its cluster view (/api/nodes) did not: "
                       f"{v.errors['nodes'].removeprefix('management API: ')} "
                       f"(a peer frozen or unreachable?){last}", confirm=SLOW_VIEW_CONFIRM)


def _majority(ctx: RuleContext) -> tuple[ClusterPicture, frozenset[str], tuple[str, ...]] | None:
    """The cluster picture with its majority view (running set, who sees it), or None if unknown."""
    p = picture(ctx)
    return None if p is None or p.majority is None else (p, p.majority, p.majority_seen_by)


def size_below_expected(ctx: RuleContext) -> Iterator[Finding]:
    seen = _majority(ctx)
    if seen is None:
        return
    p, running, who = seen
    expected = p.section.size_expected
    if len(running) >= expected:
        return
    missing = [n.name for n in p.section.nodes if n.name not in p.labels(running)]
    yield _finding("size", p.cluster, Severity.WARNING,
                   f"{p.cluster}: {len(running)} of {expected} nodes running, as seen by {_join(p.labels(who))}"
                   + (f"; not running: {_join(missing)}" if missing else ""))


def no_majority(ctx: RuleContext) -> Iterator[Finding]:
    seen = _majority(ctx)
    if seen is None:
        return
    p, running, _who = seen
    expected = p.expected
    if p.margin is not None and p.margin >= 0:
        return
    yield _finding("no_majority", p.cluster, Severity.CRITICAL,
                   f"{p.cluster}: {len(running)} of {expected} nodes running ({_join(p.labels(running))}): "
                   f"no majority: quorum queues stop, a pause_minority cluster pauses")


def spof_words(ctx: RuleContext, name: str) -> str:
    """Why losing node ``name`` alone loses the majority (the model found that it does: hatui.rules.redundancy
    names it ``rabbitmq.spof:<node>``)."""
    p = picture(ctx)
    if p is None or p.majority is None:
        return f"{name}: its loss leaves the message queue without a majority"
    members = p.labels(p.majority)
    if len(members) == 1:
        return f"{name}: the only node running: its loss stops the message queue"
    others = _join([m for m in members if m != name])
    return (f"{name}: 1 of {len(members)} running nodes of {p.expected}; losing it leaves {others} "
            f"without a majority")


def quorum_critical(ctx: RuleContext) -> Iterator[Finding]:
    """RabbitMQ's own verdict: stopping this node would leave some quorum queues without a majority."""
    p = picture(ctx)
    if p is None:
        return
    for name, v in p.views.items():
        c = v.checks.get("node-is-quorum-critical")
        if c is None or c.ok:
            continue
        queues = _join(list(c.queues[:3])) + (f" (+{len(c.queues) - 3} more)" if len(c.queues) > 3 else "")
        yield _finding("quorum_critical", name, Severity.WARNING,
                       f"{name}: stopping it would leave quorum queues without a majority: {queues or c.reason}",
                       kind=FindingKind.SPOF)


def metadata_store_not_ready(ctx: RuleContext) -> Iterator[Finding]:
    """4.0.6+: the node's metadata store (Khepri or Mnesia) is not initialised: it cannot serve."""
    p = picture(ctx)
    if p is None:
        return
    for name, v in p.views.items():
        c = v.checks.get("metadata-store/initialized")
        if c is not None and not c.ok:
            yield _finding("metadata_store", name, Severity.CRITICAL,
                           f"{name}: metadata store not initialised" + (f": {c.reason}" if c.reason else ""))


def resource_near_limit(ctx: RuleContext) -> Iterator[Finding]:
    p = picture(ctx)
    if p is None:
        return
    reported: set[str] = set()
    for v in p.views.values():
        for e in v.nodes or ():
            if not e.running or e.name in reported:
                continue
            e = _entry_about(p, e.name) or e
            high = {k: u for k, u in e.usage().items() if k != "memory" and u >= RESOURCE_WARN}
            if high:
                reported.add(e.name)
                label = p.label(e.name)
                what = ", ".join(f"{k} {u:.0%} used" for k, u in sorted(high.items()))
                yield _finding("resources", label, Severity.WARNING,
                               f"{label}: {what}: new connections are refused when they run out")


def queues_hidden(ctx: RuleContext) -> Iterator[Finding]:
    """The queue list ([rabbitmq.queues]) shorter than the cluster's count of queues: the account has no
    permission entry on some vhost, and RabbitMQ leaves its queues out. Their copies are unknown."""
    p = ctx.cloud.rabbitmq
    q = p.queues if p is not None else None
    if q is None or not q.hidden:
        return
    yield finding("rabbitmq-queues", "not_allowed", p.cluster, Severity.UNKNOWN,
                  f"{p.cluster}: the queue list shows {q.listed} of the cluster's {q.total} queues: the account "
                  "needs a permission entry on every vhost (set_permissions -p VHOST USER '' '' ''); the copies of the "
                  f"{q.hidden} others are unknown")


RULES = [cluster_down, node_not_running, network_partition, resource_alarm, publishers_blocked,
         amqp_api_mismatch, slow_view, size_below_expected, no_majority, quorum_critical,
         metadata_store_not_ready, resource_near_limit, queues_hidden]
