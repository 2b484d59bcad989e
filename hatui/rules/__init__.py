"""Rules: pure functions from a snapshot (and the config) to findings. No I/O, no clock.

Each area's module lists its rules in ``RULES``; every rule is a small function named after the
condition it detects, taking a ``RuleContext`` and yielding findings with stable ids
``<area>.<condition>:<subject>``. Stale or missing data is UNKNOWN, never healthy:
``freshness`` reports it, and area rules only ever look at usable (fresh, successful) data.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

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


FRESHNESS, REDUNDANCY = "freshness", "redundancy"


def rule_groups(config: Config) -> dict[str, list[Rule]]:
    """The rules by what they read: ``freshness`` (the targets' ages: every assessment), ``redundancy``
    (the model of the cloud) and each configured area's own (its derived state, nothing else)."""
    from hatui.rules import freshness, redundancy

    groups: dict[str, list[Rule]] = {FRESHNESS: list(freshness.RULES), REDUNDANCY: list(redundancy.RULES)}
    for name in config.sections:
        groups[name] = list(load(f"{BY_NAME[name].rules}:RULES"))
    return groups


def all_rules(config: Config) -> list[Rule]:
    return [rule for rules in rule_groups(config).values() for rule in rules]


def _rule_error(rule: Rule, exc: BaseException) -> Finding:
    name = getattr(rule, "__name__", repr(rule))
    module = getattr(rule, "__module__", "").rsplit(".", 1)[-1]
    return finding("hatui", "rule_error", name, Severity.UNKNOWN,
                   f"rule {module}.{name} failed ({type(exc).__name__}: {exc}): what it judges is unknown; "
                   "please report this hatui bug")


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Each rule group's findings at one assessment; the next one re-runs only the groups whose inputs
    changed (an area's rules read its derived state alone, so an unchanged state gives the same findings)."""

    groups: Mapping[str, tuple[Finding, ...]]

    def findings(self) -> list[Finding]:
        found: dict[str, Finding] = {}
        for these in self.groups.values():
            for f in these:
                found.setdefault(f.id, f)  # first rule to name an id wins; ids are unique per condition
        return list(found.values())


def _run(rules: list[Rule], ctx: RuleContext) -> tuple[Finding, ...]:
    out: list[Finding] = []
    for rule in rules:
        try:
            out += rule(ctx)
        except Exception as exc:  # noqa: BLE001 - see judge()
            out.append(_rule_error(rule, exc))
    return tuple(out)


def judge(snapshot: Snapshot, cloud: CloudState, config: Config, specs: list[TargetSpec] | tuple[TargetSpec, ...],
          started_at: float = 0.0, previous: Verdicts | None = None,
          unchanged: frozenset[str] = frozenset(), groups: dict[str, list[Rule]] | None = None) -> Verdicts:
    """Every rule group's findings; a group named in ``unchanged`` keeps its ``previous`` findings
    (freshness never does: ages grow without any answer). A rule that raises is a bug: it gives an
    UNKNOWN ``hatui.rule_error`` finding naming it, and every other rule still runs (the screen must
    never go blank on a bug)."""
    ctx = RuleContext(snapshot, cloud, config, tuple(specs), started_at)
    out: dict[str, tuple[Finding, ...]] = {"state": tuple(
        finding("hatui", "state_error", area, Severity.UNKNOWN,
                f"{area}: its state could not be worked out ({why}): unknown; please report this hatui bug")
        for area, why in cloud.errors.items())}
    for name, rules in (groups if groups is not None else rule_groups(config)).items():
        kept = previous.groups.get(name) if previous is not None and name in unchanged else None
        out[name] = kept if kept is not None and name != FRESHNESS else _run(rules, ctx)
    return Verdicts(MappingProxyType(out))


def evaluate(snapshot: Snapshot, cloud: CloudState, config: Config, specs: list[TargetSpec],
             started_at: float = 0.0) -> list[Finding]:
    """Every rule's findings, all judged afresh (see judge())."""
    return judge(snapshot, cloud, config, specs, started_at).findings()
