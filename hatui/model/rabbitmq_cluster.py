"""The RabbitMQ cluster as hatui sees it: every node's own view, named by configured names.

Derived once per assessment (hatui.model.cloud) for the rules and the pane: each node's usable
management answer and canary result (parsed on arrival), the majority view and its margin, and map
RabbitMQ's node names (``rabbit@host``) to the names in the config. The mapping
is, in order: ``erlang_node`` from the config; the name a node gives itself in its own answers
(the latest or previous one, even if stale: a node's name does not change); RabbitMQ's default
``rabbit@<short host name>``; and, when exactly one node is left on each side, elimination (a
node down since hatui started is still named). A name that cannot be mapped is shown as is.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hatui.model.observation import Failure
from hatui.model.rabbitmq import CanaryResult, ManagementView
from hatui.model.rabbitmq_clients import RpcClients
from hatui.model.rabbitmq_queues import QueueCopies
from hatui.model.snapshot import Snapshot


@dataclass(frozen=True)
class ClusterPicture:
    section: Any                                # hatui.config.rabbitmq.RabbitSection
    views: dict[str, ManagementView]           # configured name -> its usable management answer
    garbled: dict[str, str]                     # configured name -> why its answer is not usable
    api_failed: dict[str, Failure]              # fresh management API failures
    canaries: dict[str, CanaryResult]           # usable canary results
    canary_failed: dict[str, Failure]           # fresh canary failures
    names: dict[str, str] = field(default_factory=dict)  # erlang name -> configured name
    now: float = 0.0
    polled_at: dict[tuple[str, str], float] = field(default_factory=dict)  # (source, node) -> latest poll start
    # the running set most answering nodes agree on (ties: the larger set), and who sees it; None: no view
    majority: frozenset[str] | None = None
    majority_seen_by: tuple[str, ...] = ()
    clients: RpcClients | None = None           # which node each RPC client is on (the latest list, fresh or not)
    # where each queue keeps its copies (a fresh list only: an old one says nothing of now); None: not read
    queues: QueueCopies | None = None

    @property
    def expected(self) -> int:
        return self.section.size_expected

    @property
    def needed(self) -> int:
        """Running nodes a cluster of ``expected`` needs for a majority (quorum queues, Khepri, pause_minority)."""
        return self.expected // 2 + 1

    @property
    def margin(self) -> int | None:
        """Nodes that can still stop before the majority is lost (negative: lost already); None: unknown."""
        return None if self.majority is None else len(self.majority) - self.needed

    def answered_at(self, name: str) -> float:
        """When the node's latest management answer came (the picture's own time if none)."""
        return self.polled_at.get(("rabbitmq", name), self.now)

    def label(self, erlang: str) -> str:
        return self.names.get(erlang, erlang)

    def labels(self, erlangs) -> list[str]:
        order = {n.name: i for i, n in enumerate(self.section.nodes)}
        return sorted({self.label(e) for e in erlangs}, key=lambda n: (order.get(n, len(order)), n))

    def erlang(self, name: str) -> str | None:
        return next((e for e, n in self.names.items() if n == name), None)

    @property
    def cluster(self) -> str:
        return self.section.name

    def cluster_views(self) -> dict[str, ManagementView]:
        """Views with a fresh node list from a node that runs, in its own eyes: the ones to judge."""
        return _cluster_views(self.views)


def majority_of(views: dict[str, ManagementView]) -> tuple[frozenset[str] | None, tuple[str, ...]]:
    if not views:
        return None, ()
    counts = Counter(v.running for v in views.values())
    best = max(counts, key=lambda s: (counts[s], len(s), sorted(s)))
    return best, tuple(name for name, v in views.items() if v.running == best)


def _cluster_views(views: dict[str, ManagementView]) -> dict[str, ManagementView]:
    out = {}
    for name, v in views.items():
        if v.nodes is None:
            continue
        me = v.me
        if me is None or me.running:
            out[name] = v
    return out


def derive(snapshot: Snapshot, section: Any) -> ClusterPicture:
    return build_picture(snapshot, section)


def build_picture(snapshot: Snapshot, section: Any) -> ClusterPicture:
    views: dict[str, ManagementView] = {}
    garbled: dict[str, str] = {}
    api_failed: dict[str, Failure] = {}
    canaries: dict[str, CanaryResult] = {}
    canary_failed: dict[str, Failure] = {}
    self_names: dict[str, str] = {}
    polled_at = {key: st.latest.observed_at for key, st in snapshot.targets.items() if st.latest is not None}
    for node in section.nodes:
        st = snapshot.get("rabbitmq", node.name)
        if st is not None:
            if st.parsed is not None:
                views[node.name] = st.parsed
            elif st.fresh and st.garbled is not None:
                garbled[node.name] = st.garbled
            elif st.failed and st.latest is not None and st.latest.failure is not None:
                api_failed[node.name] = st.latest.failure
            for old in (st.value, st.previous_value):  # identity: any answer it ever gave, fresh or not
                if isinstance(old, ManagementView) and old.node and node.name not in self_names.values():
                    self_names[old.node] = node.name
        cst = snapshot.get("rabbitmq-amqp", node.name)
        if cst is not None:
            if cst.parsed is not None:
                canaries[node.name] = cst.parsed
            elif cst.fresh and cst.garbled is not None:
                garbled.setdefault(node.name, f"canary: {cst.garbled}")
            elif cst.failed and cst.latest is not None and cst.latest.failure is not None:
                canary_failed[node.name] = cst.latest.failure
    names = map_names(section, self_names, views)
    majority, seen_by = majority_of(_cluster_views(views))
    # the last list even when stale: where a client was connected is what explains it after its node died
    clients = snapshot.get("rabbitmq-clients", section.name)
    queues = snapshot.get("rabbitmq-queues", section.name)
    return ClusterPicture(section, views, garbled, api_failed, canaries, canary_failed, names, snapshot.taken_at,
                          polled_at, majority, seen_by,
                          clients.value if clients is not None and isinstance(clients.value, RpcClients) else None,
                          queues.parsed if queues is not None and isinstance(queues.parsed, QueueCopies) else None)


def map_names(section: Any, self_names: dict[str, str], views: dict[str, ManagementView]) -> dict[str, str]:
    """Erlang node name -> configured name (see the module docstring for the order)."""
    names: dict[str, str] = {}
    for n in section.nodes:
        if n.erlang_node:
            names[n.erlang_node] = n.name
    for erlang, name in self_names.items():
        if erlang not in names and name not in names.values():
            names[erlang] = name
    reported = {e.name for v in views.values() for e in (v.nodes or v.last_nodes or ())}
    for n in section.nodes:
        guess = n.guessed_erlang_node
        if n.name not in names.values() and guess in reported and guess not in names:
            names[guess] = n.name
    left_erlang = reported - names.keys()
    left_names = [n.name for n in section.nodes if n.name not in names.values()]
    if len(left_erlang) == 1 and len(left_names) == 1:
        names[left_erlang.pop()] = left_names[0]
    return names
