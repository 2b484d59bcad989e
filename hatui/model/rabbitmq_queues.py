"""Where RabbitMQ keeps each queue's copies: ``GET /api/queues`` of the management API (durability N-1).

Read per queue, with ``?disable_stats=true&columns=`` (FIELDS): the queue's own record, not the statistics
database, so the answer is cheap and current (``online`` of a quorum queue is read from its Raft members
when asked; in stats mode it lags by the statistics interval, lab: 2-5 s after a node's app stopped).
Streams list their replicas only in stats mode (RabbitMQ 3.10-3.13), so when the list holds streams the
source asks once more in stats mode for STREAM_FIELDS.

- a quorum queue or stream keeps its messages while a majority of its ``members`` is ``online``; at
  exactly that majority, losing any one online member loses it (RabbitMQ documentation, "Quorum Queues",
  "Streams": the same rule as ``rabbitmq-queues check_if_node_is_quorum_critical``);
- a classic mirrored queue (3.x) keeps a full copy on its ``node`` (the leader) and on each of its
  ``synchronised_slave_nodes``; an unsynchronised mirror holds only what came after it joined, and
  promoting it loses the rest: with no synchronised mirror, the leader's node holds the only full copy.
  A classic queue without mirrors has one copy by design: not judged.

The source summarises the list (``summarise``) into one group per layout (kind, members, holders) with
a count and a few names: a cloud has thousands of queues and a handful of layouts, and the recording,
the parser and the model grow with the layouts only.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hatui.model.observation import Garbled, Observation

FIELDS = ("name", "vhost", "type", "node", "members", "online", "slave_nodes", "synchronised_slave_nodes")
STREAM_FIELDS = ("name", "vhost", "type", "members", "online")
NAMES_KEPT = 3  # names kept per group, for the words; the count says the rest
QUORUM, STREAM, CLASSIC = "quorum queue", "stream", "classic mirrored queue"
KINDS = (QUORUM, STREAM, CLASSIC)
_TYPES = {"quorum": QUORUM, "stream": STREAM, "classic": CLASSIC}


class QueuesGarbled(Garbled):
    """The answer is not a RabbitMQ queue list."""


@dataclass(frozen=True, slots=True)
class QueueGroup:
    """Queues laid out alike: the same kind, members and holders of a current copy."""

    kind: str                     # QUORUM, STREAM or CLASSIC
    members: tuple[str, ...]      # Erlang nodes with a replica (classic: the leader and every mirror)
    holders: tuple[str, ...]      # those holding a current copy that can take over (quorum: online)
    count: int
    names: tuple[str, ...]        # the first few, "name" or "name (vhost v)"

    @property
    def needed(self) -> int:
        """Holders that must remain: a majority of the members, or one full copy."""
        return 1 if self.kind == CLASSIC else len(self.members) // 2 + 1


@dataclass(frozen=True, slots=True)
class QueueCopies:
    groups: tuple[QueueGroup, ...]
    listed: int                   # queues in the list
    total: int | None             # queues in the cluster (/api/overview); more than listed: some are hidden
    unknown: int = 0              # quorum queues or streams listed without members (not known yet)
    asked: str = ""               # the node that answered

    @property
    def hidden(self) -> int:
        """Queues the account cannot list (a vhost it has no permission entry on)."""
        return max(0, (self.total or 0) - self.listed)


def _queue_name(q: Mapping[str, Any]) -> str:
    vhost = str(q.get("vhost") or "/")
    return str(q.get("name", "")) + ("" if vhost == "/" else f" (vhost {vhost})")


def _nodes(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        return None
    return tuple(sorted(set(value)))


def summarise(queues: Any, streams: Any = None) -> dict[str, Any]:
    """The raw lists -> ``{"listed", "unknown", "groups": [{kind, members, holders, count, names}]}``.
    ``streams``: the stats-mode list that gives streams their members (None: not asked)."""
    if not isinstance(queues, list):
        raise QueuesGarbled("queue list: not a list")
    replicas: dict[tuple[str, str], tuple[Any, Any]] = {}
    if isinstance(streams, list):
        for s in streams:
            if isinstance(s, dict):
                replicas[(str(s.get("vhost")), str(s.get("name")))] = (s.get("members"), s.get("online"))
    groups: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list] = {}
    unknown = 0
    for q in queues:
        if not isinstance(q, dict):
            raise QueuesGarbled("queue list: an entry is not an object")
        kind = _TYPES.get(str(q.get("type")))
        if kind is None:
            continue  # a type hatui does not judge (a plugin's)
        if kind == CLASSIC:
            node, mirrors = q.get("node"), _nodes(q.get("slave_nodes"))
            if not mirrors or not isinstance(node, str) or not node:
                continue  # not mirrored: one copy by design
            synced = set(_nodes(q.get("synchronised_slave_nodes")) or ()) & set(mirrors)
            members, holders = tuple(sorted({node, *mirrors})), tuple(sorted({node, *synced}))
        else:
            raw = (q.get("members"), q.get("online"))
            if kind == STREAM and raw[0] is None:
                raw = replicas.get((str(q.get("vhost")), str(q.get("name"))), raw)
            members_, online = _nodes(raw[0]), _nodes(raw[1])
            if not members_ or online is None:
                unknown += 1  # just declared, or a stream without its stats yet: not known
                continue
            members, holders = members_, tuple(n for n in online if n in members_)
        entry = groups.setdefault((kind, members, holders), [0, []])
        entry[0] += 1
        if len(entry[1]) < NAMES_KEPT:
            entry[1].append(_queue_name(q))
    return {"listed": len(queues), "unknown": unknown,
            "groups": [{"kind": k, "members": list(m), "holders": list(h), "count": c, "names": names}
                       for (k, m, h), (c, names) in sorted(groups.items())]}


def _strs(x: Any, what: str) -> tuple[str, ...]:
    if not isinstance(x, list) or not all(isinstance(s, str) for s in x):
        raise QueuesGarbled(f"queue list: {what} is not a list of names")
    return tuple(x)


def _count(x: Any, what: str) -> int:
    if not isinstance(x, int) or isinstance(x, bool) or x < 0:
        raise QueuesGarbled(f"queue list: {what} {str(x)[:40]!r}")
    return x


def queues_of(obs: Observation, section: Any = None) -> QueueCopies:
    """The rabbitmq-queues source's parser (hatui.areas): the summary ``summarise`` made, and the totals."""
    data = obs.data
    raw = data.get("groups")
    if not isinstance(raw, list):
        raise QueuesGarbled("queue list: no groups")
    groups = []
    for g in raw:
        if not isinstance(g, dict) or g.get("kind") not in KINDS:
            raise QueuesGarbled("queue list: a group without a known kind")
        members, holders = _strs(g.get("members"), "members"), _strs(g.get("holders"), "holders")
        if not members or not set(holders) <= set(members):
            raise QueuesGarbled("queue list: a group's holders are not among its members")
        count = _count(g.get("count"), "count")
        if count < 1:
            raise QueuesGarbled("queue list: an empty group")
        groups.append(QueueGroup(g["kind"], members, holders, count, _strs(g.get("names", []), "names")))
    total = data.get("total")
    asked = data.get("asked")
    return QueueCopies(tuple(groups), _count(data.get("listed"), "listed"),
                       None if total is None else _count(total, "total"), _count(data.get("unknown", 0), "unknown"),
                       asked if isinstance(asked, str) else "")
