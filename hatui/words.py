"""Words shared by rules and faces: how an age, a failure or a target reads to an operator.

Pure, with no Textual or Rich import (the headless core uses it too).
"""
from __future__ import annotations

from typing import Any

from hatui.areas import feed
from hatui.model import Failure, FailureKind
from hatui.model.copies import Copies
from hatui.model.redundancy import HOST, INSTANCE, Element, Verdict, lost_instances, reconnecting
from hatui.model.topology import DATABASE, DECLARED, OBSERVED, QUEUE, Topology


def subject_words(source: str, target: str) -> str:
    """``mq-1 (AMQP canary)``: names the way in where a target is polled more than one way."""
    f = feed(source)
    return f"{target} ({f.way_in})" if f is not None and f.way_in else target


# One row per failure kind: how a finding's summary says it, and how a table cell says it (narrow panes).
_FAILURE_WORDS: dict[FailureKind, tuple[str, str]] = {
    FailureKind.REFUSED: ("connection refused", "refused"),
    FailureKind.TIMEOUT: ("no answer (timeout)", "no answer"),
    FailureKind.UNREACHABLE: ("unreachable", "unreachable"),
    FailureKind.AUTH: ("credentials refused", "auth refused"),
    FailureKind.FORBIDDEN: ("not allowed", "forbidden"),
    FailureKind.TLS: ("TLS failure", "TLS failure"),
    FailureKind.GARBLED: ("garbled answer", "garbled"),
    FailureKind.HTTP: ("HTTP error", "HTTP error"),
    FailureKind.NOT_FOUND: ("not found", "not found"),
    FailureKind.ERROR: ("error", "error"),
}


def failure_cell(kind: FailureKind) -> str:
    """A failure in a table cell: a word or two; the finding's summary has the rest."""
    return _FAILURE_WORDS[kind][1]


# kinds whose message already says it all ("no answer within 1 s", "connection refused")
_SELF_DESCRIBING = {FailureKind.REFUSED, FailureKind.TIMEOUT, FailureKind.UNREACHABLE}


def failure_words(failure: Failure | None) -> str:
    if failure is None:
        return "ok"
    head = _FAILURE_WORDS[failure.kind][0]
    if failure.kind in _SELF_DESCRIBING and failure.message.strip():
        return failure.message.strip()
    msg = failure.message.strip()
    if not msg or msg.lower() in head.lower() or head.lower() in msg.lower():
        return head if not msg or len(msg) <= len(head) else msg
    return f"{head}: {msg}"


def new_client_words(failure: Failure, kept_age: float) -> str:
    """A new client's failure while hatui's kept connection still answered: the server is up, and turns
    new clients away (connection limit, a changed password, a certificate that no longer verifies)."""
    return (f"a new client cannot get in: {failure_words(failure)}; hatui's kept connection still worked "
            f"{human_age(max(0.0, kept_age))} ago")


def human_age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


# ---- redundancy: elements and ok-to-stop verdicts ------------------------------------------------------

VERDICT_WORDS = {0: "OK to stop", 1: "OK to stop, but without redundancy after", 2: "NOT OK to stop",
                 3: "cannot tell whether it is OK to stop"}


def element_names(top: Topology, elements: tuple[Element, ...]) -> list[str]:
    """Hosts and domains by name; an instance as ``ctl-2 (database)`` (or its service's name where that
    names it: ``load balancer lb``), left out when its host is listed."""
    hosts = {e.name for e in elements if e.kind == HOST}
    out = []
    for e in elements:
        inst = top.instance(e.name) if e.kind == INSTANCE else None
        if inst is None:
            out.append(e.name)
        elif inst.placement.host not in hosts:
            out.append(inst.service if inst.name in inst.service else f"{inst.name} ({inst.service})")
    return out


def verdict_lines(v: Verdict, top: Topology) -> list[str]:
    """``hatui ok-to-stop``'s answer, as the CLI prints it and the UI shows it."""
    lines = [f"{VERDICT_WORDS[v.code]}: {', '.join(element_names(top, v.stopped))}"]
    for name, loss in v.down_now.items():
        lines.append(f"  down already: {name} ({loss.why})")
    for name, loss in v.down.items():
        lines.append(f"  goes down: {name} ({loss.why})")
    for name, inst in v.unknown.items():
        lines.append(f"  state unknown: {', '.join(inst)} ({name}): no fresh answer")
    # one line per set of elements: what the stop newly exposes first, what is exposed already after it
    groups: dict[tuple[bool, tuple[str, ...]], list[str]] = {}
    for name, by in v.exposed.items():
        then = tuple(element_names(top, by))
        same = set(then) == set(element_names(top, v.exposed_now.get(name, ())))
        groups.setdefault((same, then), []).append(name)
    for (same, then), names in sorted(groups.items(), key=lambda g: g[0][0]):
        lines.append(f"  {'still' if same else 'left'} without redundancy: {', '.join(names)}: "
                     f"then down with any one of {', '.join(then)}{' (as now)' if same else ''}")
    for c in v.data_lost_now:
        lines.append(f"  data at risk already: {data_words((c,))[0]} (fewer current copies than needed)")
    if v.data_lost:
        lines.append(f"  loses data: {'; '.join(data_words(v.data_lost))}")
    for c, left, same in sorted(v.data_exposed, key=lambda x: x[2]):
        lines.append(f"  {'still' if same else 'left'} with one copy to lose: {data_words((c,), top=False)[0]}: "
                     f"then lost with any one of {', '.join(k.split('/', 1)[1] for k in left)}"
                     f"{' (as now)' if same else ''}")
    if v.margins:
        lines.append("  quorum margins (members each can lose, now -> after the stop): " + "; ".join(
            f"{name} {_margin_words(now)} -> {_margin_words(after)}" for name, (now, after) in v.margins.items()))
    unplaced = [name if len(inst) == 1 and inst[0].lower() in name.lower() else f"{', '.join(inst)} ({name})"
                for name, inst in v.unplaced.items()]  # "load balancer lb", not "lb (load balancer lb)"
    if unplaced:
        lines.append(f"  cannot tell where {'; '.join(unplaced)} run: a shared host would be a SPOF")
    return lines


def placement_lines(v: Verdict, top: Topology) -> list[str]:
    """What runs on each stopped host, and how hatui knows: observed, declared (``runs_on``), conflicting."""
    lines = []
    for e in v.stopped:
        on = top.on(e.name) if e.name in top.hosts else ()
        if not on:
            continue
        seen = [i.name for i in on if i.placement.how == OBSERVED and not i.placement.conflict]
        said = [i.name for i in on if i.placement.how == DECLARED]
        parts = [p for p in (f"seen {', '.join(seen)}" if seen else "",
                             f"declared {', '.join(said)} (runs_on)" if said else "") if p]
        if parts:
            lines.append(f"  on {e.name}: " + "; ".join(parts))
        lines += [f"  placement conflict: {i.name} seen on {e.name} ({i.placement.evidence}), but "
                  f"{i.placement.conflict}" for i in on if i.placement.conflict]
    return lines


def _margin_words(m: int | None) -> str:
    return "no quorum" if m is None else str(m)


def reconnect_lines(v: Verdict, top: Topology) -> list[str]:
    """The RPC clients the stop cuts off their RabbitMQ node, which go on running elsewhere."""
    return [f"  RPC clients on RabbitMQ node {node} must reconnect to another node (oslo.messaging: when its "
            f"heartbeat gives up, 60 s by default; nova may report them down meanwhile): {', '.join(clients)}"
            for node, clients in reconnecting(top, v.stopped).items()]


def rabbit_says(v: Verdict, top: Topology, picture: Any) -> list[str]:
    """RabbitMQ's own verdict (``node-is-quorum-critical``, per quorum queue) for each of its nodes the
    stop takes, beside hatui's (a majority of the cluster): they can differ, and both are shown."""
    lines = []
    ours = "the message queue goes down" if QUEUE in v.down else "the message queue stays up"
    for key in sorted(lost_instances(top, v.stopped)):
        inst = top.instance(key)
        if inst is None or inst.service != QUEUE:
            continue
        view = picture.views.get(inst.name) if picture is not None else None
        check = view.checks.get("node-is-quorum-critical") if view is not None else None
        if check is None:
            lines.append(f"  RabbitMQ's own check for {inst.name}: no answer (hatui: {ours})")
        elif check.ok:
            lines.append(f"  RabbitMQ says {inst.name} is not quorum critical (hatui: {ours})")
        else:
            more = f" (+{len(check.queues) - 3} more)" if len(check.queues) > 3 else ""
            queues = ", ".join(check.queues[:3]) + more
            lines.append(f"  RabbitMQ says {inst.name} is quorum critical: {queues or check.reason} (hatui: {ours})")
    return lines


# ---- durability: data and its copies (hatui.model.topology.Copies) -------------------------------------------

def data_words(copies: tuple[Copies, ...] | list[Copies], top: bool = True) -> list[str]:
    """What losing these copies loses, one phrase per kind of data, queues of a kind summed:
    ``the only synced copy of the database (db-2 Joining)``, ``12 quorum queues would lose their majority
    (a, b, c +9 more)``. ``top``: the whole loss (a SPOF's words); else what is at stake."""
    out = []
    kinds: dict[str, tuple[int, list[str], int]] = {}  # kind -> (queues, a few names, most copies left)
    for c in copies:
        if c.service == DATABASE:
            behind = f" ({', '.join(c.behind)}: not synced)" if c.behind else ""
            which = "the only synced copy" if c.left() == 1 else "every synced copy"
            out.append(f"{which} of the database{behind}" + (": losing it loses committed data" if top else ""))
            continue
        n, names, most = kinds.get(c.kind, (0, [], 0))
        kinds[c.kind] = (n + c.count, names + list(c.names), max(most, c.left()))
    for kind, (n, names, most) in kinds.items():
        shown = ", ".join(names[:3]) + (f" +{n - 3} more" if n > 3 else "")
        plural = n != 1
        what = f"{n} {kind}{'s' if plural else ''}"
        if kind.startswith("classic"):
            lose = f"{'their' if plural else 'its'} {'only' if most <= 1 else 'every'} synchronised copy"
        else:
            lose = f"{'their' if plural else 'its'} majority"
        out.append(f"{what} would lose {lose} ({shown})" if top else f"{what} ({shown})")
    return out
