"""The ``[galera]`` section: one MariaDB Galera cluster, every node polled on its own."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hatui.config.schema import ConfigError, derived, required, resolve_secret, unique_names
from hatui.secrets import Secret


@dataclass(frozen=True, kw_only=True)
class GaleraNode:
    name: str = required()
    host: str = required()
    port: int = 3306
    runs_on: str | None = None  # the [[hosts.host]] it runs on, where its address does not say (a VIP, NAT)


@dataclass(frozen=True, kw_only=True)
class GaleraSection:
    name: str = "galera"
    user: str = "hatui"
    password_env: str | None = None
    password_file: str | None = None
    expected_size: int | None = None  # default: the number of nodes listed
    tls: bool = False                 # require TLS to the nodes
    ca_file: str | None = None        # CA bundle for TLS; default: the system's
    insecure: bool = False            # TLS without verification (the screen says so)
    interval: float | None = None
    timeout: float | None = None
    fresh_every: float | None = None  # overrides [hatui]: polls by a new client (0: never)
    nodes: list[GaleraNode] = required()
    password: Secret | None = derived()

    @property
    def size_expected(self) -> int:
        return self.expected_size or len(self.nodes)

    def targets(self) -> list[tuple[str, str, object]]:
        return [("galera", n.name, self) for n in self.nodes]

    def validate(self, file: str, resolve_secrets: bool) -> GaleraSection:
        if not self.nodes:
            raise ConfigError(file, "galera.nodes", "at least one node", "an empty list")
        unique_names(self.nodes, file, "galera.nodes")
        if resolve_secrets:
            return dataclasses.replace(self, password=resolve_secret(self, file, "galera"))
        return self
