"""The targets a config asks hatui to watch, without any client: what rules and replays need.

A target is one thing polled on its own schedule: one Galera node, one RabbitMQ node, one
endpoint, one BMC. Its ``source`` names the kind (the module under hatui/sources).
"""
from __future__ import annotations

from dataclasses import dataclass

from hatui.config import Config


@dataclass(frozen=True, slots=True)
class TargetSpec:
    source: str
    name: str
    interval: float
    timeout: float
    stale_after: float

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.name)


def target_specs(config: Config) -> list[TargetSpec]:
    specs: list[TargetSpec] = []
    galera = config.galera
    if galera:
        iv, to, st = config.interval(galera), config.timeout(galera), config.stale_after(galera)
        specs += [TargetSpec("galera", n.name, iv, to, st) for n in galera.nodes]
    return specs
