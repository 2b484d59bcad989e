"""Galera node status: the wsrep fields hatui reads, parsed from ``SHOW GLOBAL STATUS``.

One table (WSREP_FIELDS) says which status variables are read and what they mean; the value
object ``GaleraStatus`` gives the derived facts rules need (is_primary, is_synced, ...).
Field meanings: MariaDB Galera "wsrep status variables" documentation.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hatui.model.observation import Garbled, Observation
from hatui.model.survival import Quorum

# variable -> what it tells the operator
WSREP_FIELDS = {
    "wsrep_cluster_status": "Primary, Non-Primary or Disconnected: only a Primary component takes writes",
    "wsrep_cluster_size": "members in this node's component",
    "wsrep_cluster_conf_id": "membership change counter: equal on every member of one component",
    "wsrep_cluster_state_uuid": "history id of the cluster: equal on every node of one cluster",
    "wsrep_local_state": "numeric state: 1 Joining, 2 Donor/Desynced, 3 Joined, 4 Synced",
    "wsrep_local_state_comment": "the state in words",
    "wsrep_ready": "ON when the node accepts queries",
    "wsrep_connected": "ON when the node has a network connection to the group",
    "wsrep_flow_control_paused_ns": "cumulative ns replication was paused by flow control",
    "wsrep_flow_control_sent": "flow control pause events this node sent: it is the slow one",
    "wsrep_flow_control_recv": "flow control pause events this node received",
    "wsrep_local_recv_queue": "write sets waiting to be applied here",
    "wsrep_local_send_queue": "write sets waiting to be sent from here",
    "wsrep_desync_count": "how many times the node was desynced on purpose (backup, DDL)",
    "wsrep_incoming_addresses": "client addresses of the component's members",
}


class StatusGarbled(Garbled):
    """The answer is not a Galera node's status (wsrep off, or not MariaDB at all)."""


@dataclass(frozen=True, slots=True)
class GaleraStatus:
    cluster_status: str
    cluster_size: int
    conf_id: int
    state_uuid: str
    local_state: int
    state_comment: str
    ready: bool
    connected: bool
    fc_paused_ns: int
    fc_sent: int
    fc_recv: int
    recv_queue: int
    send_queue: int
    desync_count: int
    incoming: tuple[str, ...]
    node_name: str = ""
    cluster_name: str = ""
    version: str = ""
    weight: float = 1.0  # pc.weight: this node's vote in the weighted quorum (1 unless set)

    @property
    def is_primary(self) -> bool:
        return self.cluster_status == "Primary"

    @property
    def is_synced(self) -> bool:
        return self.local_state == 4

    @property
    def view(self) -> tuple[int, str, int]:
        """What a member believes the component is: equal on every member of one component."""
        return (self.conf_id, self.state_uuid, self.cluster_size)


def _int(status: Mapping[str, str], key: str, default: int | None = None) -> int:
    raw = status.get(key)
    if raw is None or raw == "":
        if default is None:
            raise StatusGarbled(f"missing {key}")
        return default
    try:  # exactly: a non-Primary conf id is 18446744073709551615, which a float would round up
        return int(str(raw).strip()) if isinstance(raw, str | int) else int(float(raw))
    except (TypeError, ValueError, OverflowError):  # a list, "NaN", "1e999", "3.5"
        raise StatusGarbled(f"{key} is not a number: {str(raw)[:40]!r}") from None


def parse_wsrep_status(data: Mapping[str, Any]) -> GaleraStatus:
    """Parse the source's data: ``{"status": {wsrep_*: str}, "variables": {...}}``.

    Raises StatusGarbled when the answer lacks what every Galera node reports.
    """
    status = data.get("status")
    if not isinstance(status, Mapping):
        raise StatusGarbled("no status table in the answer")
    variables = data.get("variables") or {}
    if not isinstance(variables, Mapping):
        raise StatusGarbled("the variables are not a table")
    if "wsrep_cluster_status" not in status:
        raise StatusGarbled("no wsrep status: is wsrep enabled on this server?")
    if status.get("wsrep_ready") == "OFF" and status.get("wsrep_connected") == "OFF" and \
            "wsrep_cluster_size" not in status:
        raise StatusGarbled("wsrep provider not loaded")
    incoming = tuple(a for a in str(status.get("wsrep_incoming_addresses", "")).split(",") if a)
    return GaleraStatus(
        cluster_status=str(status["wsrep_cluster_status"]),
        cluster_size=_int(status, "wsrep_cluster_size"),
        conf_id=_int(status, "wsrep_cluster_conf_id", -1),
        state_uuid=str(status.get("wsrep_cluster_state_uuid", "")),
        local_state=_int(status, "wsrep_local_state", 0),
        state_comment=str(status.get("wsrep_local_state_comment", "")),
        ready=status.get("wsrep_ready") == "ON",
        connected=status.get("wsrep_connected") == "ON",
        fc_paused_ns=_int(status, "wsrep_flow_control_paused_ns", 0),
        fc_sent=_int(status, "wsrep_flow_control_sent", 0),
        fc_recv=_int(status, "wsrep_flow_control_recv", 0),
        recv_queue=_int(status, "wsrep_local_recv_queue", 0),
        send_queue=_int(status, "wsrep_local_send_queue", 0),
        desync_count=_int(status, "wsrep_desync_count", 0),
        incoming=incoming,
        node_name=str(variables.get("wsrep_node_name", "")),
        cluster_name=str(variables.get("wsrep_cluster_name", "")),
        version=str(variables.get("version", "")),
        weight=_weight(variables.get("wsrep_provider_options")),
    )


def _weight(options: Any) -> float:
    """``pc.weight`` from the provider options (``...; pc.weight = 2; ...``); 1 when not said. A weight
    hatui cannot read is garbled: guessing 1 could call a quorum safe that is not."""
    if options is None:
        return 1.0
    for option in str(options).split(";"):
        key, _, value = option.partition("=")
        if key.strip() == "pc.weight":
            try:
                weight = float(value.strip())
            except ValueError:
                raise StatusGarbled(f"pc.weight is not a number: {value.strip()[:40]!r}") from None
            if not 0 <= weight <= 255:  # Galera: an integer from 0 to 255
                raise StatusGarbled(f"pc.weight out of range: {value.strip()[:40]!r}")
            return weight
    return 1.0


View = tuple[int, str, int]  # (conf id, state uuid, size): equal on every member of one component


def majority_view(statuses: Mapping[str, GaleraStatus]) -> tuple[View | None, list[str]]:
    """The Primary component most answering nodes agree on, and the names of those nodes.

    Ties go to the newest membership (highest conf id): a node just thawed still reports its old
    view for ~0.1 s (lab), and it must not outvote the nodes that moved on.
    """
    counts = Counter(s.view for s in statuses.values() if s.is_primary)
    if not counts:
        return None, []
    view = max(counts, key=lambda vw: (counts[vw], vw[0]))
    return view, [name for name, s in statuses.items() if s.is_primary and s.view == view]


def status_of(obs: Observation, section: Any) -> GaleraStatus:
    """The galera source's parser (hatui.areas): one node's answer."""
    return parse_wsrep_status(obs.data)


@dataclass(frozen=True, slots=True)
class NodeState:
    """A node with a usable answer: its status now and one poll before (for rates)."""

    name: str
    status: GaleraStatus
    previous: GaleraStatus | None
    interval: float  # seconds between the two observations (0 without a previous one)


@dataclass(frozen=True, slots=True)
class GaleraCluster:
    """The cluster as its answering nodes describe it, and what it can still lose.

    Quorum (Galera documentation, "weighted quorum"): after an unclean loss a component stays Primary
    only if it keeps strictly more than half of the previous component's weight (each node's
    ``pc.weight``, 1 unless set; a member that does not answer hatui, such as an arbitrator, weighs 1).
    With equal weights a Primary component of ``size`` can lose ``(size - 1) // 2`` members.
    """

    name: str
    expected: int
    nodes: tuple[NodeState, ...]        # every node with a usable answer, in config order
    view: View | None                   # the Primary component most answering nodes agree on
    members: tuple[str, ...]            # the configured names of the nodes that report it
    all_failed: bool                    # every configured node's latest poll is a fresh failure
    failed: tuple[str, ...] = ()        # configured nodes whose latest poll failed (killed, cut off ...)

    @property
    def size(self) -> int | None:
        return None if self.view is None else self.view[2]

    @property
    def gone(self) -> tuple[str, ...]:
        """Failing nodes the Primary component still counts as members: Galera drops a dead peer only
        after its suspect timeout (seconds), hatui sees the refused connection at once. For the margin
        they are lost already."""
        if self.view is None:
            return ()
        unseen = self.view[2] - len(self.members)  # members that do not report this view to hatui
        return tuple(n for n in self.failed if n not in self.members)[:max(0, unseen)]

    @property
    def quorum(self) -> Quorum | None:
        """The survival rule of the Primary component: its answering members with their weights."""
        if self.view is None:
            return None
        weights = {n.name: n.status.weight for n in self.nodes if n.name in self.members}
        return Quorum(weights, self.view[2])

    def _everyone(self) -> tuple[Quorum, frozenset[str]] | None:
        """The quorum with every member the component counts: the answering ones with their weights, the
        ones hatui cannot see (an arbitrator, a node not polled) as alive with weight 1, the gone ones as
        lost; and who is alive."""
        q = self.quorum
        if q is None:
            return None
        unseen = max(0, q.size - len(q.weights) - len(self.gone))
        everyone = Quorum({**q.weights, **{f"?{i}": 1.0 for i in range(unseen)}}, q.size)
        return everyone, frozenset(everyone.weights)

    @property
    def margin(self) -> int | None:
        """Members the Primary component can still lose and stay Primary, the heaviest first (the worst
        case), counting those hatui sees gone as lost; None when there is no Primary component."""
        known = self._everyone()
        if known is None:
            return None
        q, alive = known
        return max(0, q.fatal(alive) - 1) if q.survives(alive) else 0

    @property
    def critical(self) -> tuple[str, ...]:
        """The answering members whose loss alone would cost the component its quorum."""
        known = self._everyone()
        if known is None:
            return ()
        q, alive = known
        return tuple(m for m in self.members if not q.survives(alive - {m}))

    @property
    def synced(self) -> tuple[str, ...]:
        """The members holding a current copy that can take over: Synced in the Primary component. A
        Joining, Joined or Donor/Desynced member is still catching up (or held back) and does not count."""
        return tuple(n.name for n in self.nodes if n.name in self.members and n.status.is_synced)

    @property
    def unseen(self) -> int:
        """Members of the Primary component whose state hatui cannot see (not polled, an arbitrator, a node
        whose answer is late), beside the gone ones: whether they hold a copy is unknown."""
        return 0 if self.view is None else max(0, self.view[2] - len(self.members) - len(self.gone))

    def node(self, name: str) -> NodeState | None:
        return next((n for n in self.nodes if n.name == name), None)


def derive(snapshot: Any, section: Any) -> GaleraCluster:
    nodes, failed = [], []
    for node in section.nodes:
        st = snapshot.get("galera", node.name)
        if st is not None and st.failed:
            failed.append(node.name)
        status = st.parsed if st is not None else None
        if status is None:
            continue
        prev, interval = None, 0.0
        if st.previous is not None and st.previous.ok and st.previous_value is not None:
            prev, interval = st.previous_value, st.latest.observed_at - st.previous.observed_at
        nodes.append(NodeState(node.name, status, prev, interval))
    view, members = majority_view({n.name: n.status for n in nodes})
    return GaleraCluster(section.name, section.size_expected, tuple(nodes), view, tuple(members),
                         all_failed=len(failed) == len(section.nodes), failed=tuple(failed))
