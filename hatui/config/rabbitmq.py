"""The ``[rabbitmq]`` section: one RabbitMQ cluster, every node watched on its own, two ways.

Each node gives two targets: its management API (source ``rabbitmq``: that node's own view of the
cluster) and, when ``[rabbitmq.canary]`` is set, an AMQP client canary (source ``rabbitmq-amqp``:
connect, publish one message to itself, consume it back). The cluster gives one more, its connection
list (source ``rabbitmq-clients``: which node each RPC client is on). The canary is a separate account with
the least rights that let it do that (see README, RabbitMQ), and it has its own, slower schedule.
"""
from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass

from hatui.config.schema import ConfigError, derived, required, resolve_secret, unique_names
from hatui.secrets import Secret


@dataclass(frozen=True, kw_only=True)
class RabbitNode:
    name: str = required()
    host: str = required()
    management_port: int = 15672
    amqp_port: int = 5672
    # How RabbitMQ names this node ("rabbit@mq-1"). Optional: hatui learns it from the node's own
    # answer; set it so that a node already down when hatui starts is still named right.
    erlang_node: str | None = None
    runs_on: str | None = None  # the [[hosts.host]] it runs on, where neither its address nor name says

    @property
    def guessed_erlang_node(self) -> str | None:
        """RabbitMQ's default node name, ``rabbit@<short host name>``, when ``host`` is a name."""
        try:
            ipaddress.ip_address(self.host)
            return None
        except ValueError:
            return f"rabbit@{self.host.split('.')[0]}"


@dataclass(frozen=True, kw_only=True)
class RabbitCanary:
    """The AMQP canary: a publish and consume round trip through every node, as a client sees it."""

    user: str = required()
    password_env: str | None = None
    password_file: str | None = None
    vhost: str = "/"
    tls: bool = False                 # AMQPS (usually port 5671); verified with the section's ca_file/insecure
    # A canary is a connection, a queue and a message: every 5 s per node is light on a real cluster.
    interval: float | None = 5.0
    timeout: float | None = None      # default: the section's (then [hatui]'s) timeout
    password: Secret | None = derived()


@dataclass(frozen=True, kw_only=True)
class RabbitQueues:
    """The queue list (``GET /api/queues``, a few columns): which quorum queues and streams are at their
    replica minimum and which classic mirrored queues have no synchronised mirror (durability N-1).

    The account needs the "monitoring" tag and a permission entry on every vhost to watch, with empty
    regexes (``set_permissions -p / hatui '' '' ''``): without one, RabbitMQ leaves that vhost's queues out
    of the list. ``user`` unset: the section's own account."""

    user: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    # Cluster-wide and growing with the cloud (a few queues per service): not every second.
    interval: float | None = 30.0
    timeout: float | None = None      # default: the section's (then [hatui]'s) timeout
    password: Secret | None = derived()


@dataclass(frozen=True, slots=True)
class _ClientsPoll:
    """Schedule of the connection list: its own interval, the section's timeout (per node asked)."""

    interval: float
    timeout: float | None


@dataclass(frozen=True, kw_only=True)
class RabbitSection:
    name: str = "rabbitmq"            # the cluster's name on screen and in cluster-wide finding ids
    user: str = "hatui"               # management API account: tag "monitoring", no vhost permissions
    password_env: str | None = None
    password_file: str | None = None
    expected_size: int | None = None  # default: the number of nodes listed
    scheme: str = "http"              # management API: http or https
    ca_file: str | None = None        # CA bundle for https / AMQPS; default: the system's
    insecure: bool = False            # TLS without verification (the screen says so)
    interval: float | None = None
    timeout: float | None = None
    fresh_every: float | None = None  # overrides [hatui]: polls by a new client (0: never)
    canary: RabbitCanary | None = None
    queues: RabbitQueues | None = None  # durability: the queues' replicas (off unless the table is set)
    # Which node each RPC client (nova-compute, the agents ...) is connected to: one cluster-wide
    # connection list, not often (it grows with the cloud). 0 turns it off.
    clients_interval: float = 30.0
    nodes: list[RabbitNode] = required()
    password: Secret | None = derived()

    @property
    def size_expected(self) -> int:
        return self.expected_size or len(self.nodes)

    def targets(self) -> list[tuple[str, str, object]]:
        out: list[tuple[str, str, object]] = [("rabbitmq", n.name, self) for n in self.nodes]
        if self.canary is not None:
            out += [("rabbitmq-amqp", n.name, self.canary) for n in self.nodes]
        if self.clients_interval:
            out.append(("rabbitmq-clients", self.name, _ClientsPoll(self.clients_interval, self.timeout)))
        if self.queues is not None:
            out.append(("rabbitmq-queues", self.name, self.queues))
        return out

    def node(self, name: str) -> RabbitNode | None:
        return next((n for n in self.nodes if n.name == name), None)

    def validate(self, file: str, resolve_secrets: bool) -> RabbitSection:
        if not self.nodes:
            raise ConfigError(file, "rabbitmq.nodes", "at least one node", "an empty list")
        unique_names(self.nodes, file, "rabbitmq.nodes")
        if self.scheme not in ("http", "https"):
            raise ConfigError(file, "rabbitmq.scheme", '"http" or "https"', repr(self.scheme))
        if self.clients_interval < 0:
            raise ConfigError(file, "rabbitmq.clients_interval", "a number >= 0 (0: off)", str(self.clients_interval))
        if self.canary is not None and self.canary.interval == 0:
            raise ConfigError(file, "rabbitmq.canary.interval", "a number > 0", "0")
        if self.queues is not None and self.queues.interval is not None and self.queues.interval <= 0:
            raise ConfigError(file, "rabbitmq.queues.interval", "a number > 0", str(self.queues.interval))
        if not resolve_secrets:
            return self
        canary = self.canary
        if canary is not None:
            canary = dataclasses.replace(canary, password=resolve_secret(canary, file, "rabbitmq.canary"))
        queues = self.queues
        if queues is not None and queues.user is not None:
            queues = dataclasses.replace(queues, password=resolve_secret(queues, file, "rabbitmq.queues"))
        return dataclasses.replace(self, password=resolve_secret(self, file, "rabbitmq"), canary=canary,
                                   queues=queues)
