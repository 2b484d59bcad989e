"""The monitor: latest observations in, immutable snapshot, state of the cloud and findings out.

It is the one place that holds state between polls, and it is owned by a single face: the feed
writes observations into it, the face asks it for an ``Assessment`` whenever it wants to draw or
print. Each observation is parsed once, when it arrives, into its area's typed value (a garbled
answer is caught here, once); each assessment derives the state of the cloud once, and rules,
faces and panes all read that. Judgement itself is in ``hatui.rules`` (pure functions).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hatui.areas import area_of, feed, load
from hatui.config import Config
from hatui.model import Finding, FindingKind, Garbled, Observation, Severity, Snapshot, TargetState
from hatui.model.cloud import CloudState, derive_cloud
from hatui.rules import REDUNDANCY, Verdicts, judge, rule_groups
from hatui.rules.causes import explain
from hatui.rules.maintenance import mute
from hatui.schedule import TargetSpec, target_specs
from hatui.secrets import redact

# Assessments wait for a burst of observations to end (EVAL_GAP), and judging takes at most JUDGE_SHARE of
# the loop while observations pour in: at a thousand hosts an answer arrives every few milliseconds, and
# judging the whole cloud on each one starved the drawing, the keys and the polls themselves.
EVAL_GAP = 0.02
JUDGE_SHARE = 0.25
TIMELINE_MAX = 500  # events kept: hours of an incident, bounded for a run of days
# Polls kept per target for the UI's detail (history, sparklines): a minute at the default 1 s interval.
# Memory is bounded: targets x RECENT_MAX small records, each holding the parsed value it already had
# (a few KB at most), and one last good observation per target; an ingest appends once, in O(1).
RECENT_MAX = 60


@dataclass(frozen=True, slots=True)
class Poll:
    """One poll of a target as the detail's history shows it: when, how long, how it ended."""

    at: float
    latency: float | None  # the answer's latency; None when there was no answer
    failure: str | None    # the failure's kind (FailureKind value); None for an answer
    garbled: bool          # an answer that could not be read
    value: Any             # the parsed value (None for a failure or a garbled answer)


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """A finding opened, explained (its cause changed) or cleared, at an assessment's time; the events
    ``watch`` prints, kept in order for the timeline pane (a cleared finding keeps its ``since``)."""

    at: float
    event: str  # "opened" | "explained" | "cleared"
    finding: Finding


@dataclass(frozen=True, slots=True)
class Assessment:
    snapshot: Snapshot
    cloud: CloudState               # every area's derived state, computed once for this assessment
    findings: tuple[Finding, ...]   # open findings, worst first, each with ``since``
    opened: tuple[Finding, ...]     # opened by this assessment
    cleared: tuple[Finding, ...]    # cleared by this assessment (``since`` = when it had opened)
    # open before, and now explained by another cause (or no longer): a cause is often seen a poll or two
    # after its consequences (Galera sees a peer gone before the BMC poll says Off)
    explained: tuple[Finding, ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()  # every event so far (at most TIMELINE_MAX), oldest first
    # (area, subject) -> its findings, worst first: a pane asks it of every row (a thousand hosts: asking
    # the whole list each time was a second of CPU per redraw)
    _by_subject: dict[tuple[str, str], tuple[Finding, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], list[Finding]] = {}
        for f in self.findings:
            index.setdefault((f.area, f.subject), []).append(f)
        object.__setattr__(self, "_by_subject", {k: tuple(v) for k, v in index.items()})

    @property
    def status(self) -> Severity:
        """The worst finding; never OK while nothing is configured or a target has not answered yet
        (the first second of a run: no finding is not the same as healthy)."""
        worst = max((f.severity for f in self.findings if f.maintenance is None), default=Severity.OK)
        return max(worst, Severity.UNKNOWN) if self.unknown_why else worst

    @property
    def unknown_why(self) -> str | None:
        """Why the whole picture is not known yet, in words (None once every target has answered)."""
        targets = self.snapshot.targets.values()
        if not targets:
            return "nothing to watch: the config names no target"
        waiting = sum(1 for st in targets if st.latest is None)
        return f"waiting for the first answer of {waiting} of {len(targets)} targets" if waiting else None

    def of_area(self, area: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.area == area)

    def of_subject(self, area: str, subject: str) -> tuple[Finding, ...]:
        return self._by_subject.get((area, subject), ())


class FindingTracker:
    """Gives each finding its ``since`` and says what opened and cleared between two evaluations.

    A finding with ``confirm`` > 0 opens only after its condition held that long (rules use it for
    views known to be briefly inconsistent, such as a thawed Galera node's old view for ~0.1 s).
    """

    def __init__(self) -> None:
        self._open: dict[str, Finding] = {}
        self._raw: dict[str, Finding] = {}  # open id -> the rule's finding it was stamped from
        self._candidates: dict[str, float] = {}

    def update(self, now: float, found: list[Finding]) -> tuple[list, list, list]:
        current: dict[str, Finding] = {}
        opened: list[Finding] = []
        for f in found:
            if f.id in self._open:
                raw = self._raw[f.id]
                # the same finding as last time (often the very object: its area was not judged again)
                current[f.id] = self._open[f.id] if (raw is f or raw == f) else \
                    f.with_since(self._open[f.id].since or now)
                self._raw[f.id] = f
                continue
            first = self._candidates.setdefault(f.id, now)
            if now - first >= f.confirm:
                current[f.id] = f.with_since(first)
                self._raw[f.id] = f
                opened.append(current[f.id])
        if self._candidates:
            seen = {f.id for f in found}
            self._candidates = {k: v for k, v in self._candidates.items() if k in seen and k not in current}
        cleared = [f for fid, f in self._open.items() if fid not in current]
        for f in cleared:
            del self._raw[f.id]
        self._open = current
        return list(current.values()), opened, cleared


def judge_gap(took: float) -> float:
    """Seconds from an assessment that took ``took`` to the next one (faces: watch, serve and the UI)."""
    return max(EVAL_GAP, took * (1 / JUDGE_SHARE - 1))


def _order(f: Finding) -> tuple:
    return (-int(f.severity), f.kind != FindingKind.FAILURE, f.area, f.subject, f.id)


class Monitor:
    def __init__(self, config: Config, specs: list[TargetSpec] | None = None, started_at: float = 0.0,
                 maintenance: Callable[[], frozenset[str]] | None = None) -> None:
        self.config = config
        self._maintenance = maintenance  # the elements under maintenance now (the faces' file, read cheaply)
        self.specs = specs if specs is not None else target_specs(config)
        self.started_at = started_at
        self._latest: dict[tuple[str, str], Observation] = {}
        self._previous: dict[tuple[str, str], Observation] = {}
        # (value, garbled reason) of the latest and previous observation: parsed once, on arrival
        self._parsed: dict[tuple[str, str], tuple[Any, str | None]] = {}
        self._cloud: CloudState | None = None  # the last assessment's, lending its N-1 when nothing moved
        self._parsed_before: dict[tuple[str, str], tuple[Any, str | None]] = {}
        self._tracker = FindingTracker()
        self._causes: dict[str, str | None] = {}  # open finding -> its cause at the last assessment
        self._timeline: deque[TimelineEvent] = deque(maxlen=TIMELINE_MAX)
        self._recent: dict[tuple[str, str], deque[Poll]] = {}   # the last RECENT_MAX polls per target
        self._last_good: dict[tuple[str, str], Observation] = {}  # the last readable answer per target
        self.version = 0  # bumps on every ingest: a face can skip work when nothing changed
        # Judge only what changed: the areas whose targets answered since the last assessment (or went
        # stale, or fresh again) are derived and judged again; the others keep their state and findings.
        self._groups = rule_groups(config)
        self._verdicts: Verdicts | None = None
        self._changed: set[str] = set(config.sections)
        self._fresh: dict[tuple[str, str], bool] = {}

    def ingest(self, obs: Observation) -> None:
        key = obs.key
        old = self._latest.get(key)
        if old is not None and old.observed_at > obs.observed_at:
            return  # late arrival of an older poll: never overwrite newer knowledge
        if old is not None:
            self._previous[key] = old
            self._parsed_before[key] = self._parsed.get(key, (None, None))
        self._latest[key] = obs
        parsed = self._parsed[key] = self.parse(obs)
        value, garbled = parsed
        ring = self._recent.get(key)
        if ring is None:
            ring = self._recent[key] = deque(maxlen=RECENT_MAX)
        ring.append(Poll(obs.observed_at, obs.answer_latency, obs.failure.kind.value if obs.failure else None,
                         garbled is not None, value))
        if obs.ok and garbled is None:
            self._last_good[key] = obs
        area = area_of(obs.source)
        if area is not None:
            self._changed.add(area.name)
        self.version += 1

    def recent(self, key: tuple[str, str]) -> tuple[Poll, ...]:
        """The last polls of a target (at most RECENT_MAX), oldest first."""
        return tuple(self._recent.get(key, ()))

    def last_good(self, key: tuple[str, str]) -> Observation | None:
        """The target's last answer that was a success and readable (None if it never gave one)."""
        return self._last_good.get(key)

    def parse(self, obs: Observation) -> tuple[Any, str | None]:
        """(typed value, None), or (None, why it is garbled). A failure has no value. A parser that
        raises anything else is a bug, but still only that target's answer: reported as garbled."""
        f, area = feed(obs.source), area_of(obs.source)
        if not obs.ok or f is None or area is None:
            return None, None
        section = self.config.section(area.name)
        try:
            return load(f.parser)(obs, section), None
        except Garbled as exc:
            return None, redact(str(exc))[:300] or "unreadable"
        except Exception as exc:  # noqa: BLE001 - a parser bug must not take the monitor down
            return None, redact(f"{type(exc).__name__} while reading it: {exc}")[:300]

    def snapshot(self, now: float, pending: dict[tuple[str, str], float] | None = None) -> Snapshot:
        pending = pending or {}
        states = []
        for spec in self.specs:
            latest = self._latest.get(spec.key)
            age = None if latest is None else max(0.0, now - latest.observed_at)
            fresh = age is not None and age <= spec.stale_after
            started = pending.get(spec.key)
            value, garbled = self._parsed.get(spec.key, (None, None))
            states.append(TargetState(
                spec.source, spec.name, latest, self._previous.get(spec.key), age, fresh,
                pending_for=0.0 if started is None else max(0.0, now - started),
                value=value, previous_value=self._parsed_before.get(spec.key, (None, None))[0], garbled=garbled,
                last_ok=self._last_good.get(spec.key),
            ))
        return Snapshot.of(now, states)

    def assess(self, now: float, pending: dict[tuple[str, str], float] | None = None) -> Assessment:
        snap = self.snapshot(now, pending)
        for key, st in snap.targets.items():
            if self._fresh.get(key) != st.fresh:  # went stale, or fresh again: what its area's rules read
                self._fresh[key] = st.fresh
                area = area_of(st.source)
                if area is not None:
                    self._changed.add(area.name)
        changed, self._changed = frozenset(self._changed), set()
        before = self._cloud
        cloud = derive_cloud(snap, self.config, before, changed)
        self._cloud = cloud
        unchanged = frozenset(name for name in self._groups if name not in changed)
        if before is None or changed:  # (its rules read the model, and a label of an area: RabbitMQ's names)
            unchanged -= {REDUNDANCY}
        self._verdicts = judge(snap, cloud, self.config, self.specs, self.started_at, self._verdicts, unchanged,
                               self._groups)
        found = self._verdicts.findings()
        current, opened, cleared = self._tracker.update(now, found)
        # Causes among what is open (a cause still being confirmed explains nothing yet), then what the
        # operator's maintenance explains
        planned = self._maintenance() if self._maintenance is not None else frozenset()
        current = mute(explain(current, cloud.topology), cloud.topology, planned)
        by_id = {f.id: f for f in current}
        opened = [by_id[f.id] for f in opened]
        was, self._causes = self._causes, {f.id: f.caused_by for f in current}
        explained = tuple(f for f in current if f.id in was and was[f.id] != f.caused_by)
        for event, these in (("opened", opened), ("explained", list(explained)), ("cleared", cleared)):
            self._timeline.extend(TimelineEvent(now, event, f) for f in these)
        return Assessment(snap, cloud, tuple(sorted(current, key=_order)), tuple(opened), tuple(cleared), explained,
                          tuple(self._timeline))
