"""The poll schedule: which targets a config asks hatui to watch, each with its interval, timeout and
stale limit, without any client (what rules and replays need). "Topology" is kept for the cloud's shape.

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
    fresh_every: float = 0.0  # s between polls by a new client where the source keeps its connection; 0: never

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.name)


def target_specs(config: Config) -> list[TargetSpec]:
    """Every target of every configured section. A section lists ``(source, name, poll)`` triples
    through ``targets()``; ``poll`` is the table holding interval/timeout (the section itself, or
    e.g. a host's BMC table), falling back to [hatui] and then the section's defaults; fresh_every the
    same way (the poll table, the section, [hatui])."""
    specs: list[TargetSpec] = []
    for section in config.sections.values():
        for source, name, poll in section.targets():
            iv, to = config.interval(poll, section), config.timeout(poll, section)
            stale = config.hatui.stale_after or 2 * iv + 2 * to
            specs.append(TargetSpec(source, name, iv, to, stale, config.fresh_every(poll, section)))
    return specs
