"""RabbitMQ: what one node's management API says of the cluster, and what the AMQP canary saw.

Endpoints (RabbitMQ management plugin, HTTP API reference): ``GET /api/overview`` (who answers,
cluster name, versions), ``GET /api/nodes`` (every cluster member as this node sees it; the
fields read are NODE_FIELDS), and the health checks in HEALTH_CHECKS (200 = ok, 503 = failed with
a reason). The tables below say what is read and why; ``parse_management`` and ``parse_canary``
turn a source's data into frozen value objects, raising ``RabbitGarbled`` on nonsense.

Versions: on Mnesia clusters (3.x) ``partitions`` lists the peers a node cannot talk to, often on
one side only; on Khepri clusters (optional from 3.13, 4.x) it is always empty, so partitions are
also judged from the ``running`` flags of nodes that answer (see hatui.rules.rabbitmq).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hatui.model.observation import Garbled, Observation, finite

# /api/nodes field -> what it tells the operator (fetched with ?columns=, the rest is ~30 KB per poll)
NODE_FIELDS = {
    "name": "Erlang node name, rabbit@host",
    "running": "whether the answering node sees this one running (a member it can talk to)",
    "partitions": "peers this node cannot talk to (Mnesia network partition); empty on Khepri",
    "mem_alarm": "memory high watermark reached: publishers are blocked cluster-wide",
    "disk_free_alarm": "free disk below the limit: publishers are blocked cluster-wide",
    "mem_used": "bytes of memory used", "mem_limit": "memory high watermark, bytes",
    "disk_free": "free disk bytes", "disk_free_limit": "disk free limit, bytes",
    "fd_used": "file descriptors used", "fd_total": "file descriptor limit",
    "sockets_used": "sockets used", "sockets_total": "socket limit (new connections refused beyond it)",
    "proc_used": "Erlang processes used", "proc_total": "Erlang process limit",
    "uptime": "milliseconds since the node started",
}
# /api/overview fields read (identity and versions)
OVERVIEW_FIELDS = ("node", "cluster_name", "rabbitmq_version", "product_name", "product_version", "erlang_version")

# health check path under /api/health/checks/ -> (first version that has it, what a failure means)
HEALTH_CHECKS = {
    "alarms": ((3, 8, 10), "resource alarms in effect somewhere in the cluster"),
    "local-alarms": ((3, 8, 10), "resource alarms in effect on this node"),
    "node-is-quorum-critical": ((3, 8, 10), "stopping this node would leave quorum queues without a majority"),
    "metadata-store/initialized": ((4, 0, 6), "the metadata store (Khepri/Mnesia) is not initialised"),
}
KHEPRI_FROM = (3, 13, 0)  # khepri_db feature flag exists from 3.13 (default store from 4.2)


class RabbitGarbled(Garbled):
    """The answer is not what a RabbitMQ management API or the canary says."""


def version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for p in version.split("+")[0].split("-")[0].split("."):
        if not p.isdecimal():  # isdigit() is also true of "²", which int() refuses
            break
        parts.append(int(p))
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class NodeEntry:
    """One cluster member as one node sees it. ``None`` means the answering node had no stats for it
    yet (for ~2 s after a restart, lab) or it is not running: unknown, never healthy."""

    name: str
    running: bool
    partitions: tuple[str, ...] | None = None
    mem_alarm: bool | None = None
    disk_alarm: bool | None = None
    mem_used: int | None = None
    mem_limit: int | None = None
    disk_free: int | None = None
    disk_free_limit: int | None = None
    fd_used: int | None = None
    fd_total: int | None = None
    sockets_used: int | None = None
    sockets_total: int | None = None
    proc_used: int | None = None
    proc_total: int | None = None
    uptime_ms: int | None = None

    def usage(self) -> dict[str, float]:
        """Share of each limit in use: file descriptors, sockets, Erlang processes, memory."""
        pairs = {"file descriptors": (self.fd_used, self.fd_total), "sockets": (self.sockets_used, self.sockets_total),
                 "processes": (self.proc_used, self.proc_total), "memory": (self.mem_used, self.mem_limit)}
        return {k: used / total for k, (used, total) in pairs.items() if used is not None and total}


@dataclass(frozen=True, slots=True)
class HealthCheck:
    ok: bool
    reason: str = ""
    alarms: tuple[tuple[str, str], ...] = ()  # (erlang node, "memory" | "disk")
    queues: tuple[str, ...] = ()              # quorum-critical queues: "name" or "name (vhost v)"


@dataclass(frozen=True, slots=True)
class ManagementView:
    """What one node's management API said in one poll."""

    node: str                               # Erlang name of the node that answered
    cluster_name: str
    version: str
    erlang_version: str
    nodes: tuple[NodeEntry, ...] | None     # None: /api/nodes gave no answer this poll
    last_nodes: tuple[NodeEntry, ...] | None = None  # the last answer it gave, when this poll had none
    last_nodes_at: float | None = None
    checks: Mapping[str, HealthCheck] = field(default_factory=lambda: MappingProxyType({}))
    errors: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # endpoint -> what failed

    def entry(self, name: str) -> NodeEntry | None:
        return next((e for e in self.nodes or () if e.name == name), None)

    @property
    def me(self) -> NodeEntry | None:
        return self.entry(self.node)

    @property
    def running(self) -> frozenset[str]:
        return frozenset(e.name for e in self.nodes or () if e.running)

    @property
    def khepri_possible(self) -> bool:
        return version_tuple(self.version) >= KHEPRI_FROM


@dataclass(frozen=True, slots=True)
class CanaryResult:
    """One AMQP round trip: connect, publish to a server-named exclusive queue, consume it back."""

    connect: float            # seconds to open the connection and channel
    round_trip: float | None  # seconds from publish to delivery; None when not delivered
    blocked: str | None       # connection.blocked reason ("low on memory"): publishers are held


def _opt_int(raw: Mapping[str, Any], key: str) -> int | None:
    v = raw.get(key)
    if v is None:
        return None
    if not finite(v):
        raise RabbitGarbled(f"{key} is not a number: {str(v)[:40]!r}")
    return int(v)


def _opt_bool(raw: Mapping[str, Any], key: str) -> bool | None:
    v = raw.get(key)
    if v is None:
        return None
    if not isinstance(v, bool):
        raise RabbitGarbled(f"{key} is not true/false: {str(v)[:40]!r}")
    return v


def _seq(raw: Mapping[str, Any], key: str) -> list:
    v = raw.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise RabbitGarbled(f"{key} is not a list: {str(v)[:40]!r}")
    return v


def _table(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    v = raw.get(key)
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        raise RabbitGarbled(f"{key} is not an object: {str(v)[:40]!r}")
    return v


def parse_node_entry(raw: Any) -> NodeEntry:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise RabbitGarbled("a node entry without a name")
    parts = raw.get("partitions")
    if parts is not None and not (isinstance(parts, list) and all(isinstance(p, str) for p in parts)):
        raise RabbitGarbled(f"partitions of {raw['name']} is not a list of node names")
    return NodeEntry(
        name=raw["name"], running=bool(raw.get("running")),
        partitions=None if parts is None else tuple(parts),
        mem_alarm=_opt_bool(raw, "mem_alarm"), disk_alarm=_opt_bool(raw, "disk_free_alarm"),
        mem_used=_opt_int(raw, "mem_used"), mem_limit=_opt_int(raw, "mem_limit"),
        disk_free=_opt_int(raw, "disk_free"), disk_free_limit=_opt_int(raw, "disk_free_limit"),
        fd_used=_opt_int(raw, "fd_used"), fd_total=_opt_int(raw, "fd_total"),
        sockets_used=_opt_int(raw, "sockets_used"), sockets_total=_opt_int(raw, "sockets_total"),
        proc_used=_opt_int(raw, "proc_used"), proc_total=_opt_int(raw, "proc_total"),
        uptime_ms=_opt_int(raw, "uptime"),
    )


def _node_list(raw: Any, what: str) -> tuple[NodeEntry, ...]:
    if not isinstance(raw, list):
        raise RabbitGarbled(f"{what} is not a list of nodes")
    return tuple(parse_node_entry(x) for x in raw)


def _queue_name(q: Any) -> str:
    """``name``, or ``name (vhost v)`` outside the default vhost."""
    if not isinstance(q, Mapping):
        return str(q)
    vhost = str(q.get("virtual_host") or "/")
    return str(q.get("name", "")) + ("" if vhost == "/" else f" (vhost {vhost})")


def parse_health_check(raw: Any) -> HealthCheck:
    """A health check's JSON body: ``{"status": "ok"}`` or ``{"status": "failed", "reason", ...}``."""
    if not isinstance(raw, Mapping) or raw.get("status") not in ("ok", "failed"):
        raise RabbitGarbled("a health check answer without status ok/failed")
    alarms = tuple((str(a.get("node", "")), str(a.get("resource", ""))) for a in _seq(raw, "alarms")
                   if isinstance(a, Mapping))
    queues = tuple(_queue_name(q) for q in _seq(raw, "queues"))
    return HealthCheck(raw["status"] == "ok", str(raw.get("reason") or ""), alarms, queues)


def parse_management(data: Mapping[str, Any]) -> ManagementView:
    """Parse the ``rabbitmq`` source's data: ``{"overview", "nodes"?, "last_nodes"?, "checks", "errors"}``."""
    overview = data.get("overview")
    if overview is not None and not isinstance(overview, Mapping):
        raise RabbitGarbled("overview is not an object")
    overview = overview or {}
    nodes = _node_list(data["nodes"], "/api/nodes") if data.get("nodes") is not None else None
    if nodes is not None and not nodes:
        raise RabbitGarbled("/api/nodes lists no node")
    last = data.get("last_nodes")
    last_nodes, last_at = None, None
    if isinstance(last, Mapping) and last.get("nodes") is not None:
        at = last.get("at") or 0.0
        if not finite(at):
            raise RabbitGarbled(f"the last /api/nodes answer has no time: {str(at)[:40]!r}")
        last_nodes, last_at = _node_list(last["nodes"], "last /api/nodes"), float(at)
    checks = {str(k): parse_health_check(v) for k, v in _table(data, "checks").items()}
    errors = {str(k): str(v.get("message", v.get("kind", "")) if isinstance(v, Mapping) else v)
              for k, v in _table(data, "errors").items()}
    node = overview.get("node")
    if not isinstance(node, str) or "@" not in node:
        if nodes is None and not checks:
            raise RabbitGarbled("no overview, no node list, no health check: not a RabbitMQ management API")
        node = ""
    return ManagementView(
        node=node, cluster_name=str(overview.get("cluster_name") or ""),
        version=str(overview.get("rabbitmq_version") or overview.get("product_version") or ""),
        erlang_version=str(overview.get("erlang_version") or ""),
        nodes=nodes, last_nodes=last_nodes, last_nodes_at=last_at,
        checks=MappingProxyType(checks), errors=MappingProxyType(errors),
    )


def parse_canary(data: Mapping[str, Any]) -> CanaryResult:
    """Parse the ``rabbitmq-amqp`` source's data: ``{"connect", "round_trip", "blocked"}``."""
    connect, rt = data.get("connect"), data.get("round_trip")
    if not finite(connect) or (rt is not None and not finite(rt)):
        raise RabbitGarbled("canary data without timings")
    blocked = data.get("blocked")
    if rt is None and not blocked:
        raise RabbitGarbled("canary neither delivered nor blocked")
    return CanaryResult(float(connect), None if rt is None else float(rt), str(blocked) if blocked else None)


def management_of(obs: Observation, section: Any) -> ManagementView:
    """The rabbitmq source's parser (hatui.areas): one node's management API answers."""
    return parse_management(obs.data)


def canary_of(obs: Observation, section: Any) -> CanaryResult:
    """The rabbitmq-amqp source's parser (hatui.areas): one AMQP round trip."""
    return parse_canary(obs.data)
