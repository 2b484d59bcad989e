"""Which RabbitMQ node each RPC client is connected to: ``GET /api/connections`` of the management API.

oslo.messaging names each AMQP connection ``<binary>:<pid>:<uuid>`` (client property
``connection_name``), and the broker knows the client's address (``peer_host``) and its own node
(``node``): together, "nova-compute on cmp-1 talks to rabbit@ctl-2". When that node dies, the
client's connection hangs until oslo.messaging's heartbeat gives up (``heartbeat_timeout_threshold``,
60 s by default) and nova may report the service down meanwhile: the model uses these links to explain
that (hatui.rules.causes) and to say it beforehand (ok-to-stop).

A dead node's connections vanish from the listing with it, so the source keeps each node's last links
for ``KEEP_GONE`` seconds after they were last listed (``gone_since``): what a client was connected to
when its node went away is what explains it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hatui.model.observation import Garbled, Observation, finite

FIELDS = ("node", "peer_host", "client_properties.connection_name")  # asked with ?columns=
KEEP_GONE = 180.0  # seconds a vanished node's links are kept: past the heartbeat threshold and a down report


class ClientsGarbled(Garbled):
    """The answer is not a RabbitMQ connection list."""


@dataclass(frozen=True, slots=True)
class ClientLink:
    binary: str        # from the connection name (oslo.messaging: "<binary>:<pid>:<uuid>")
    peer: str          # the client's address, as the broker sees it
    node: str          # the Erlang node it is connected to (rabbit@ctl-2)
    connections: int
    gone_since: float | None = None  # set: not listed any more since then (its node went away)


@dataclass(frozen=True, slots=True)
class RpcClients:
    links: tuple[ClientLink, ...]
    asked: str          # the node that answered the listing

    def nodes_of(self, binary: str, peer: str) -> frozenset[str]:
        return frozenset(x.node for x in self.links if x.binary == binary and x.peer == peer)


def binary_of(connection_name: Any) -> str | None:
    """``nova-compute:1234:uuid`` -> ``nova-compute``; None for a name that is not oslo.messaging's."""
    if not isinstance(connection_name, str):
        return None
    parts = connection_name.split(":")
    if len(parts) < 3 or not parts[0] or not parts[1].isdecimal():
        return None
    return parts[0]


def summarise(conns: Any) -> list[dict[str, Any]]:
    """The raw list (with FIELDS) -> one row per (binary, peer, node) with a count; the source records it."""
    if not isinstance(conns, list):
        raise ClientsGarbled("connection list: not a list")
    counts: dict[tuple[str, str, str], int] = {}
    for c in conns:
        if not isinstance(c, dict):
            raise ClientsGarbled("connection list: an entry is not an object")
        props = c.get("client_properties")
        binary = binary_of(props.get("connection_name") if isinstance(props, dict) else None)
        node, peer = c.get("node"), c.get("peer_host")
        if binary is None or not isinstance(node, str) or not isinstance(peer, str) or not node or not peer:
            continue  # not an oslo.messaging client (the canary, a shovel, an operator's tool)
        counts[(binary, peer, node)] = counts.get((binary, peer, node), 0) + 1
    return [{"binary": b, "peer": p, "node": n, "connections": k} for (b, p, n), k in sorted(counts.items())]


def clients_of(obs: Observation, section: Any = None) -> RpcClients:
    """The source's data (``links`` as ``summarise`` gives them, ``asked``) -> RpcClients."""
    data = obs.data
    links = data.get("links")
    if not isinstance(links, list):
        raise ClientsGarbled("connection list: no links")
    out = []
    for x in links:
        if not isinstance(x, dict):
            raise ClientsGarbled("connection list: a link is not an object")
        binary, peer, node, n = x.get("binary"), x.get("peer"), x.get("node"), x.get("connections")
        if not (isinstance(binary, str) and isinstance(peer, str) and isinstance(node, str) and binary and peer
                and node):
            raise ClientsGarbled("connection list: a link without binary, peer or node")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ClientsGarbled(f"connection list: {n!r} connections")
        gone = x.get("gone_since")
        if gone is not None and not finite(gone):
            raise ClientsGarbled(f"connection list: gone_since {gone!r}")
        out.append(ClientLink(binary, peer, node, n, None if gone is None else float(gone)))
    asked = data.get("asked")
    return RpcClients(tuple(out), asked if isinstance(asked, str) else "")
