"""Rules: pure functions from a snapshot (and the config) to findings. No I/O, no clock.

Each area's module lists its rules in ``RULES``; every rule is a small function named after the
condition it detects, taking a ``RuleContext`` and yielding findings with stable ids
``<area>.<condition>:<subject>``. Stale or missing data is UNKNOWN, never healthy:
``freshness`` reports it, and area rules only ever look at usable (fresh, successful) data.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hatui.config import Config
from hatui.model import Finding, Snapshot
from hatui.topology import TargetSpec


@dataclass(frozen=True, slots=True)
class RuleContext:
    snapshot: Snapshot
    config: Config
    specs: tuple[TargetSpec, ...]
    started_at: float  # when monitoring began: a target not polled yet is not stale before its limit

    @property
    def now(self) -> float:
        return self.snapshot.taken_at


Rule = Callable[[RuleContext], Iterable[Finding]]


# config section -> the rule module judging it (imported only when that section is configured)
RULE_MODULES = {
    "galera": "hatui.rules.galera",
    "rabbitmq": "hatui.rules.rabbitmq",
    "openstack": "hatui.rules.openstack",
    "hosts": "hatui.rules.hosts",
}


def all_rules(config: Config) -> list[Rule]:
    from hatui.rules import freshness

    modules = [freshness] + [importlib.import_module(RULE_MODULES[name]) for name in config.sections]
    return [rule for m in modules for rule in m.RULES]


def evaluate(snapshot: Snapshot, config: Config, specs: list[TargetSpec], started_at: float = 0.0) -> list[Finding]:
    ctx = RuleContext(snapshot, config, tuple(specs), started_at)
    found: dict[str, Finding] = {}
    for rule in all_rules(config):
        for f in rule(ctx):
            found.setdefault(f.id, f)  # first rule to name an id wins; ids are unique per condition
    return list(found.values())
