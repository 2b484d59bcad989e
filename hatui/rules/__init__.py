"""Rules: pure functions from a snapshot (and the config) to findings. No I/O, no clock.

Each area's module lists its rules in ``RULES``; every rule is a small function named after the
condition it detects, taking a ``RuleContext`` and yielding findings with stable ids
``<area>.<condition>:<subject>``. Stale or missing data is UNKNOWN, never healthy:
``freshness`` reports it, and area rules only ever look at usable (fresh, successful) data.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hatui.areas import BY_NAME, load, pane_of
from hatui.config import Config
from hatui.model import Finding, FindingKind, Severity, Snapshot
from hatui.model.cloud import CloudState
from hatui.schedule import TargetSpec


@dataclass(frozen=True, slots=True)
class RuleContext:
    snapshot: Snapshot
    cloud: CloudState        # every area's derived state (hatui.model.cloud): rules read it, never parse
    config: Config
    specs: tuple[TargetSpec, ...]
    started_at: float  # when monitoring began: a target not polled yet is not stale before its limit

    @property
    def now(self) -> float:
        return self.snapshot.taken_at


Rule = Callable[[RuleContext], Iterable[Finding]]


def finding(source: str, condition: str, subject: str, severity: Severity, summary: str, *,
            kind: FindingKind = FindingKind.FAILURE, confirm: float = 0.0) -> Finding:
    """How every rule names what it found: ``<source>.<condition>:<subject>``, in its source's pane."""
    return Finding(f"{source}.{condition}:{subject}", kind, severity, pane_of(source), subject, summary,
                   confirm=confirm, source=source, condition=condition)


def all_rules(config: Config) -> list[Rule]:
    from hatui.rules import freshness, redundancy

    lists = [freshness.RULES, redundancy.RULES] + [load(f"{BY_NAME[name].rules}:RULES") for name in config.sections]
    return [rule for rules in lists for rule in rules]


def _rule_error(rule: Rule, exc: BaseException) -> Finding:
    name = getattr(rule, "__name__", repr(rule))
    module = getattr(rule, "__module__", "").rsplit(".", 1)[-1]
    return finding("hatui", "rule_error", name, Severity.UNKNOWN,
                   f"rule {module}.{name} failed ({type(exc).__name__}: {exc}): what it judges is unknown; "
                   "please report this hatui bug")


def evaluate(snapshot: Snapshot, cloud: CloudState, config: Config, specs: list[TargetSpec],
             started_at: float = 0.0) -> list[Finding]:
    """Every rule's findings. A rule that raises is a bug: it gives an UNKNOWN ``hatui.rule_error``
    finding naming it, and every other rule still runs (the screen must never go blank on a bug)."""
    ctx = RuleContext(snapshot, cloud, config, tuple(specs), started_at)
    found: dict[str, Finding] = {}
    for area, why in cloud.errors.items():
        f = finding("hatui", "state_error", area, Severity.UNKNOWN,
                    f"{area}: its state could not be worked out ({why}): unknown; please report this hatui bug")
        found[f.id] = f
    for rule in all_rules(config):
        try:
            results = list(rule(ctx))
        except Exception as exc:  # noqa: BLE001 - see the docstring
            results = [_rule_error(rule, exc)]
        for f in results:
            found.setdefault(f.id, f)  # first rule to name an id wins; ids are unique per condition
    return list(found.values())
