"""The detail of a row or a finding (Enter on it): its findings with their evidence and history, and each
poll behind it (address and way in, the latest and the last good answer, sparklines of latency and of the
area's key counters, every field the source returned). Pure: no Textual, no Rich.

Secrets are never shown: every raw field goes through ``hatui.secrets.redact_field``.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hatui.areas import feed
from hatui.config import Config
from hatui.model import Finding, FindingKind, Observation
from hatui.monitor import Assessment, Poll
from hatui.schedule import TargetSpec
from hatui.secrets import is_secret_key, redact, redact_field
from hatui.ui.views.common import TONE_OF_SEVERITY, WORD_OF_SEVERITY, Cell, RowKey, ms
from hatui.ui.views.where import where_lines
from hatui.words import failure_words, human_age, subject_words

Line = tuple[Cell, ...]
LABEL = 14           # width of a line's label ("last good", "latency" ...)
MAX_TARGETS = 6      # polls shown for one detail (a cluster-wide finding reads every node's)
MAX_FIELDS = 120     # raw fields shown per poll; the rest are counted
BARS = "▁▂▃▄▅▆▇█"


class History(Protocol):
    """What the detail reads of the monitor besides the assessment (hatui.monitor.Monitor)."""

    specs: list[TargetSpec]

    def recent(self, key: tuple[str, str]) -> tuple[Poll, ...]: ...

    def last_good(self, key: tuple[str, str]) -> Observation | None: ...


@dataclass(frozen=True, slots=True)
class DetailModel:
    title: str
    lines: tuple[Line, ...]

    @property
    def text(self) -> str:
        """The whole detail as plain text (tests, and what a screen reader would read)."""
        return "\n".join("".join(text for text, _tone in line) for line in self.lines)


def spark(values: Sequence[float | None]) -> str:
    """A sparkline: one bar per value, scaled from zero (or the lowest, if negative) to the highest;
    ``·`` where there is no value."""
    nums = [v for v in values if v is not None]
    if not nums:
        return "·" * len(values)
    lo, hi = min(0.0, min(nums)), max(nums)
    span = hi - lo
    out = []
    for v in values:
        if v is None:
            out.append("·")
        else:
            out.append(BARS[round((v - lo) / span * (len(BARS) - 1))] if span else BARS[0])
    return "".join(out)


def fields(data: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every leaf of a raw answer as (path, text), credentials masked: a field named like one is masked
    whole (with anything under it); every other value is redacted of known secrets and URL credentials."""
    if isinstance(data, Mapping):
        for k, v in data.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            if is_secret_key(str(k)):
                yield path, "***"
            else:
                yield from fields(v, path)
    elif isinstance(data, list | tuple):
        if not data:
            yield prefix, "[]"
        for i, v in enumerate(data):
            yield from fields(v, f"{prefix}[{i}]")
    else:
        name = prefix.rsplit(".", 1)[-1]
        yield prefix, redact_field(name, "null" if data is None else str(data))


def _counter(get: Callable[[Any], float | None]) -> Callable[[Any], float | None]:
    def read(value: Any) -> float | None:
        try:
            return get(value)
        except (AttributeError, TypeError, KeyError, ValueError, StopIteration):
            return None  # a value of another shape (a missing system, an old answer): no point
    return read


def _own_memory(view: Any) -> float | None:
    me = next(e for e in view.nodes if e.name == view.node)
    return me.usage()["memory"] * 100


# The key counters of each kind of poll, read from its parsed value: (label, reader).
COUNTERS: dict[str, tuple[tuple[str, Callable[[Any], float | None]], ...]] = {
    "galera": (("cluster size", _counter(lambda v: v.cluster_size)),
               ("recv queue", _counter(lambda v: v.recv_queue)),
               ("send queue", _counter(lambda v: v.send_queue)),
               ("fc sent", _counter(lambda v: v.fc_sent))),
    "rabbitmq": (("running seen", _counter(lambda v: sum(e.running for e in v.nodes))),
                 ("memory %", _counter(_own_memory))),
    "rabbitmq-amqp": (("round trip ms", _counter(lambda v: v.round_trip * 1000)),),
    "endpoint": (("endpoints OK", _counter(lambda v: sum(p.state == "ok" for p in v.probes))),),
    "services": (("serving", _counter(lambda v: sum(r.serving for r in v))),),
    "haproxy": (("servers UP", _counter(lambda v: sum(len(b.serving) for b in v))),),
    "network": (("answering", _counter(lambda v: sum(v.answers(a) for a in v.addresses))),),
    "power": (("powered on", _counter(lambda v: 1.0 if v.is_on else 0.0)),),
    "sensors": (("inlet °C", _counter(lambda v: v.inlet.celsius if v.inlet is not None else None)),
                ("supplies working", _counter(lambda v: len(v.working) if v.supplies is not None else None))),
    "local": (("links up", _counter(lambda v: sum(n.up for n in v))),),
}


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def _when(at: float, now: float) -> str:
    return f"{_clock(at)} ({human_age(max(0.0, now - at))} ago)"


def _labelled(label: str, *cells: Cell) -> Line:
    return ((f"  {label:<{LABEL}}", "dim"), *cells)


def _heading(text: str) -> Line:
    return ((f"── {text} ", "head"),)


def _word(f: Finding) -> Cell:
    if f.kind == FindingKind.SPOF:
        return "◆ SPOF", "spof"
    if f.maintenance is not None:
        return "◌ MAINT", "dim"
    return WORD_OF_SEVERITY[f.severity], TONE_OF_SEVERITY[f.severity]


def findings_of(a: Assessment, key: RowKey) -> tuple[list[Finding], bool]:
    """The findings a detail is about, and whether they are open (a cleared one is read from the timeline)."""
    if key.finding is None:
        return list(a.of_subject(key.area, key.subject)), True
    open_ = [f for f in a.findings if f.id == key.finding]
    if open_:
        return open_, True
    past = [ev.finding for ev in a.timeline if ev.finding.id == key.finding]
    return past[-1:], False


def related_targets(a: Assessment, key: RowKey, findings: Sequence[Finding]) -> list[tuple[str, str]]:
    """The polls behind a row or finding: those it names, every poll of a target named like the subject
    (a node's, a host's BMC and probes) or, failing both (a cluster-wide finding), every poll of the
    finding's source."""
    known = a.snapshot.targets
    out: list[tuple[str, str]] = [t for t in key.targets if t in known]
    out += [k for k in known if k[1] == key.subject]
    for f in findings if not out else ():
        out += [k for k in known if k[0] == f.source]
    return list(dict.fromkeys(out))[:MAX_TARGETS]


def _finding_lines(a: Assessment, f: Finding, is_open: bool, targets: list[tuple[str, str]]) -> list[Line]:
    now = a.snapshot.taken_at
    lines: list[Line] = [((f"  {_word(f)[0]}  ", _word(f)[1]), (f.id, ""))]
    lines.append(_labelled("says", (f.summary, _word(f)[1])))
    lines.append(_labelled("opened", (_when(f.since, now) if f.since is not None else "-", "")))
    if not is_open:
        cleared = [ev.at for ev in a.timeline if ev.finding.id == f.id and ev.event == "cleared"]
        lines.append(_labelled("cleared", (_when(cleared[-1], now) if cleared else "-", "ok")))
    if f.caused_by:
        lines.append(_labelled("caused by", (f.caused_by, "")))
    explains = [e.id for e in a.findings if e.caused_by == f.id]
    if explains:
        lines.append(_labelled("explains", (", ".join(explains), "dim")))
    if f.maintenance:
        lines.append(_labelled("muted", (f"maintenance of {f.maintenance}", "dim")))
    lines.append(_labelled("rule", (f"{f.condition} ({f.source})", "dim")))
    for key in targets:  # the evidence: what each poll behind it said last
        st = a.snapshot.targets[key]
        lines.append(_labelled("evidence", (f"{subject_words(*key)}: ", ""), _outcome(st.latest, st.garbled, now)))
    history = [ev for ev in a.timeline if ev.finding.id == f.id]
    for i, ev in enumerate(reversed(history)):
        why = f" (caused by {ev.finding.caused_by})" if ev.event == "explained" and ev.finding.caused_by else ""
        lines.append(_labelled("history" if i == 0 else "", (f"{_clock(ev.at)} {ev.event}{why}", "dim")))
    return lines


def _outcome(obs: Observation | None, garbled: str | None, now: float) -> Cell:
    if obs is None:
        return "no answer yet", "dim"
    at = _when(obs.observed_at, now)
    if obs.failure is not None:
        return f"{failure_words(obs.failure)}, {at}", "critical"
    if garbled is not None:
        return f"garbled: {garbled}, {at}", "unknown"
    return f"answered in {ms(obs.latency)}, {at}", "ok"


def _runs(cells: list[tuple[str, str]]) -> list[Cell]:
    """Adjacent characters of one tone as one cell."""
    out: list[Cell] = []
    for ch, tone in cells:
        if out and out[-1][1] == tone:
            out[-1] = (out[-1][0] + ch, tone)
        else:
            out.append((ch, tone))
    return out


def latency_line(polls: Sequence[Poll]) -> Line:
    """The latency of the last polls as bars, ``✖`` for a failed poll and ``?`` for a garbled answer."""
    if not polls:
        return _labelled("latency", ("no poll yet", "dim"))
    bars = spark([p.latency for p in polls])
    chars = [("✖", "critical") if p.failure else ("?", "unknown") if p.garbled else (bar, "ok")
             for p, bar in zip(polls, bars, strict=True)]
    answered = [p.latency for p in polls if p.latency is not None]
    failed = sum(1 for p in polls if p.failure)
    summary = f"  last {len(polls)} polls: {len(answered)} answered, {failed} failed"
    if answered:
        summary += f"; {ms(min(answered))} to {ms(max(answered))}"
    return _labelled("latency", *_runs(chars), (summary, "dim"))


def counter_lines(source: str, polls: Sequence[Poll]) -> list[Line]:
    lines = []
    for label, read in COUNTERS.get(source, ()):
        values = [read(p.value) if p.value is not None else None for p in polls]
        known = [v for v in values if v is not None]
        if not known:
            continue
        now = f"{known[-1]:g}"
        lines.append(_labelled(label, (spark(values), "ok"), (f"  now {now}, {min(known):g} to {max(known):g}", "dim")))
    return lines


def _target_lines(a: Assessment, config: Config, history: History, key: tuple[str, str]) -> list[Line]:
    now = a.snapshot.taken_at
    st = a.snapshot.targets[key]
    f = feed(key[0])
    lines: list[Line] = [_heading(f"{subject_words(*key)}: {f.answer if f else key[0]}")]
    lines += [_labelled(label, (text, "")) for label, text in where_lines(config, *key)]
    spec = next((s for s in history.specs if s.key == key), None)
    if spec is not None:
        lines.append(_labelled("polled", (f"every {spec.interval:g} s, timeout {spec.timeout:g} s; "
                                          f"stale after {spec.stale_after:g} s", "dim")))
    latest = _outcome(st.latest, st.garbled, now)
    if st.latest is not None and not st.fresh:
        latest = (f"STALE: {latest[0]}", "stale")
    lines.append(_labelled("latest", latest))
    if st.pending_for:
        lines.append(_labelled("pending", (f"no answer for {human_age(st.pending_for)}", "warning")))
    good = history.last_good(key)
    lines.append(_labelled("last good", (f"{_when(good.observed_at, now)}, in {ms(good.latency)}", "")
                           if good is not None else ("never", "critical")))
    polls = history.recent(key)
    lines.append(latency_line(polls))
    lines += counter_lines(key[0], polls)
    shown = st.latest if st.latest is not None and st.latest.ok else good
    if shown is not None:
        which = "the latest answer" if shown is st.latest else "the last good answer"
        lines.append(_labelled("fields", (f"of {which}, {_clock(shown.observed_at)}:", "dim")))
        items = list(fields(dict(shown.data)))
        width = min(40, max((len(p) for p, _ in items[:MAX_FIELDS]), default=0))
        lines += [((f"    {path:<{width}}  ", "dim"), (text, "")) for path, text in items[:MAX_FIELDS]]
        if len(items) > MAX_FIELDS:
            lines.append((("    ", ""), (f"… {len(items) - MAX_FIELDS} more fields", "dim")))
    if st.latest is not None and st.latest.failure is not None:
        lines.append(_labelled("failure", (f"{st.latest.failure.kind.value}: {redact(st.latest.failure.message)}",
                                           "critical")))
    return lines


def _instance_lines(a: Assessment, service: str) -> list[Line]:
    """A redundancy row: the service's instances, up or not, and where each runs (and how that is known)."""
    top = a.cloud.topology
    if top is None or service not in top.services:
        return []
    lines = [_heading(f"instances of {service}")]
    for i in top.of(service):
        up = ("up", "ok") if i.up else ("DOWN", "critical") if i.up is False else ("?", "unknown")
        where = i.placement.host or "an unknown host"
        how = f" ({i.placement.how}: {i.placement.evidence})" if i.placement.evidence else f" ({i.placement.how})"
        lines.append(_labelled(i.name, (f"{up[0]:<5}", up[1]), (f"on {where}{how}", "dim")))
    return lines


def _risk_lines(a: Assessment, service: str) -> list[Line]:
    """N-2 on demand: every pair of hosts or domains that would take the service down together while
    neither does alone (the pane's note shows the first few of all services'), with what else goes."""
    pairs = [(x, y, losses) for x, y, losses in a.cloud.pairs if service in losses]
    lines = [_heading(f"N-2: pairs that would take {service} down together ({len(pairs)}; risk, not alarmed)")]
    if not pairs:
        lines.append((("  none: no two hosts or domains do", "ok"),))
    for x, y, losses in pairs:
        also = sorted(set(losses) - {service})
        lines.append(_labelled(f"{x.name} + {y.name}", (f"{x.words} and {y.words}", "spof"),
                               (f"; also takes {', '.join(also)}" if also else "", "dim")))
    return lines


def detail_model(a: Assessment, config: Config, history: History, key: RowKey) -> DetailModel:
    findings, is_open = findings_of(a, key)
    title = key.finding or f"{key.area} {key.subject}"
    targets = related_targets(a, key, findings)
    lines: list[Line] = [_heading("findings" if key.finding is None else "finding")]
    if not findings:
        lines.append((("  ✔ no open finding", "ok"),))
    for f in findings:
        lines += _finding_lines(a, f, is_open, targets)
    if key.area == "redundancy" and key.finding is None:
        lines += _instance_lines(a, key.subject)
        if a.cloud.topology is not None and key.subject in a.cloud.topology.services:
            lines += _risk_lines(a, key.subject)
    for target in targets:
        lines += _target_lines(a, config, history, target)
    if not targets:
        lines.append((("  no poll of its own: what the findings above say is worked out from the others", "dim"),))
    return DetailModel(title, tuple(lines))
