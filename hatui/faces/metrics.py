"""The Prometheus view of one assessment: what ``hatui serve`` exposes at /metrics.

A collector over the latest ``Assessment`` (immutable, swapped whole by the serve loop), so a scrape
reads one consistent moment and never waits for a poll. Names and labels are documented in the README;
a finding's summary stays out of the labels (its words change, a label that changes is a new series).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric

from hatui import __version__
from hatui.areas import area_of
from hatui.model import FindingKind, Severity
from hatui.monitor import Assessment

PREFIX = "hatui"


@dataclass(frozen=True, slots=True)
class PollCounts:
    """Polls and failed polls per target since start, failures by kind (refused, timeout, auth ...)."""

    polls: Mapping[tuple[str, str], int] = field(default_factory=dict)
    errors: Mapping[tuple[str, str, str], int] = field(default_factory=dict)


def _area(source: str) -> str:
    area = area_of(source)
    return area.name if area is not None else source


class AssessmentCollector:
    """prometheus_client collector: ``latest()`` gives (assessment or None before the first, counts)."""

    def __init__(self, latest) -> None:
        self._latest = latest

    def describe(self) -> Iterator[Metric]:
        return iter(())  # no fixed set: the targets are the config's (prometheus_client then calls collect)

    def collect(self) -> Iterator[Metric]:
        a, counts = self._latest()
        yield InfoMetricFamily(f"{PREFIX}_build", "hatui's version", value={"version": __version__})
        status = GaugeMetricFamily(f"{PREFIX}_status", "Overall status as check's exit code: 0 OK, 1 WARNING, "
                                                       "2 CRITICAL, 3 UNKNOWN (nothing assessed yet is 3)")
        status.add_metric([], float(Severity.UNKNOWN.exit_code if a is None else a.status.exit_code))
        yield status
        if a is None:
            return
        yield from _targets(a, counts)
        yield from _findings(a)


def _targets(a: Assessment, counts: PollCounts) -> Iterator[Metric]:
    labels = ["area", "source", "target"]
    up = GaugeMetricFamily(f"{PREFIX}_target_up", "1 when the target's last answer is fresh and readable; 0 when "
                                                  "it failed, is garbled, stale, or has not come yet", labels=labels)
    age = GaugeMetricFamily(f"{PREFIX}_target_answer_age_seconds", "Age of the target's last answer",
                            labels=labels)
    latency = GaugeMetricFamily(f"{PREFIX}_target_latency_seconds",
                                "How long the target's last successful poll took (none for a failed one)",
                                labels=labels)
    polls = CounterMetricFamily(f"{PREFIX}_target_polls", "Polls of the target since start", labels=labels)
    errors = CounterMetricFamily(f"{PREFIX}_target_poll_errors", "Failed polls of the target since start, by kind",
                                 labels=[*labels, "kind"])
    for (source, target), st in sorted(a.snapshot.targets.items()):
        ls = [_area(source), source, target]
        obs = st.latest
        up.add_metric(ls, 1.0 if obs is not None and obs.ok and st.fresh and st.garbled is None else 0.0)
        if st.age is not None:
            age.add_metric(ls, st.age)
        if obs is not None and obs.answer_latency is not None:
            latency.add_metric(ls, obs.answer_latency)
        polls.add_metric(ls, counts.polls.get((source, target), 0))
    for (source, target, kind), n in sorted(counts.errors.items()):
        errors.add_metric([_area(source), source, target, kind], n)
    yield from (up, age, latency, polls, errors)


def _findings(a: Assessment) -> Iterator[Metric]:
    by = GaugeMetricFamily(f"{PREFIX}_findings", "Open findings by area, severity and kind (failure or spof); "
                                                 "explained=true for those folded under a root cause, "
                                                 "maintenance=true for those an operator's maintenance mutes",
                           labels=["area", "severity", "kind", "explained", "maintenance"])
    counted: dict[tuple[str, ...], int] = {}
    for f in a.findings:
        k = (f.area, f.severity.label, f.kind.value, "true" if f.caused_by else "false",
             "true" if f.maintenance else "false")
        counted[k] = counted.get(k, 0) + 1
    for key, n in sorted(counted.items()):
        by.add_metric(list(key), n)
    yield by
    one = GaugeMetricFamily(f"{PREFIX}_finding_since_timestamp_seconds",
                            "One series per open finding: when it opened (Unix time); caused_by names its root "
                            "cause, empty when none", labels=["id", "area", "subject", "severity", "kind", "caused_by"])
    for f in a.findings:
        one.add_metric([f.id, f.area, f.subject, f.severity.label, f.kind.value, f.caused_by or ""],
                       f.since if f.since is not None else a.snapshot.taken_at)
    yield one
    spofs = [f for f in a.findings if f.kind == FindingKind.SPOF]
    count = GaugeMetricFamily(f"{PREFIX}_spofs", "Single points of failure now (open spof findings)")
    count.add_metric([], len(spofs))
    yield count
    each = GaugeMetricFamily(f"{PREFIX}_spof", "1 for each single point of failure: the element whose loss "
                                               "takes something down", labels=["id", "area", "element"])
    for f in spofs:
        each.add_metric([f.id, f.area, f.subject], 1.0)
    yield each
    assessed = GaugeMetricFamily(f"{PREFIX}_assessed_timestamp_seconds", "When the exposed assessment was made")
    assessed.add_metric([], a.snapshot.taken_at)
    yield assessed
