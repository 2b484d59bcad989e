"""Facility rules: power supplies, the feeds they draw from, temperatures and fans, as the BMCs say.

They read the hosts area's derived state (each host's ``sensors``: hatui.model.facility.Sensors), never a
snapshot. What a BMC does not report says nothing (no finding); its failures and garbled answers are the
generic ``sensors.<kind>:<host>`` freshness findings. Findings, ``sensors.<condition>:<subject>``:

- ``supply:<host>``: a supply failed (critical when none works), or warns (predictive failure, input
  out of range);
- ``spof:<host>/<supply>``: two or more supplies, one working: its loss takes the host down;
- ``spof:<host>/<feed>``: two or more supplies that the BMC says all draw from one feed, while the config
  names another (or others): that feed is the host's single point of failure;
- ``temperature:<host>``: a temperature past the BMC's upper non-critical (warning) or critical threshold;
- ``fan:<host>``: a fan the BMC says failed, or below its lower thresholds;
- ``cooling:<rack>``: every host of a rack (at least two, each with an inlet reading) past its BMC's
  threshold: the rack's (or the room's) cooling, named once; the hosts' temperature findings are
  explained by it (hatui.rules.causes).
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from hatui.model import Finding, FindingKind, Severity
from hatui.model.facility import CRITICAL, OK, WARNING, Fan, Sensors, Supply, Temperature, worst
from hatui.model.hosts import HostReading
from hatui.rules import RuleContext, finding

SOURCE = "sensors"
SEVERITY = {WARNING: Severity.WARNING, CRITICAL: Severity.CRITICAL}
LIMIT_WORDS = {WARNING: "upper non-critical", CRITICAL: "critical"}

_finding = partial(finding, SOURCE)


def _readings(ctx: RuleContext) -> Iterator[tuple[HostReading, Sensors]]:
    st = ctx.cloud.hosts
    for v in st.hosts if st else ():
        if isinstance(v.sensors, Sensors):
            yield v, v.sensors


def supply_feeds(v: HostReading, sensors: Sensors) -> list[tuple[Supply, str | None, str]]:
    """Each supply with the feed it draws from and who says so: ``BMC`` (its outlet link), ``config`` (the
    host's ``power_feed``: one feed for all, or one per supply in order), or nobody (None)."""
    supplies = sensors.supplies or ()
    configured = [n for k, n in v.host.domains if k == "power"]
    out: list[tuple[Supply, str | None, str]] = []
    for i, s in enumerate(supplies):
        if s.feed is not None:
            out.append((s, s.feed, "BMC"))
        elif len(configured) == len(supplies):
            out.append((s, configured[i], "config"))
        elif len(configured) == 1:
            out.append((s, configured[0], "config"))
        else:
            out.append((s, None, ""))
    return out


def _supply_words(s: Supply, feed: str | None) -> str:
    return f"{s.name} ({feed})" if feed else s.name


def supply(ctx: RuleContext) -> Iterator[Finding]:
    for v, sensors in _readings(ctx):
        bad = [(s, f) for s, f, _ in supply_feeds(v, sensors) if s.level != OK]
        if not bad:
            continue
        failed = [s for s, _f in bad if not s.working]
        what = "; ".join(f"{_supply_words(s, f)} {'failed' if not s.working else 'warns'}"
                         + (f": {s.why}" if s.why else "") for s, f in bad)
        left = len(sensors.working)
        severity = Severity.CRITICAL if failed and not left else Severity.WARNING  # (the SPOF says the rest)
        yield _finding("supply", v.host.name, severity,
                       f"{v.host.name}: {what} ({left} of {len(sensors.supplies or ())} power supplies working, "
                       f"BMC, {sensors.via})")


def supply_spof(ctx: RuleContext) -> Iterator[Finding]:
    """On its last working supply of two or more: that supply (or its feed) is the host's SPOF."""
    for v, sensors in _readings(ctx):
        feeds = supply_feeds(v, sensors)
        working = [(s, f) for s, f, _ in feeds if s.working]
        if len(feeds) >= 2 and len(working) == 1:
            s, f = working[0]
            gone = ", ".join(x.name for x, _f, _h in feeds if not x.working)
            yield _finding("spof", f"{v.host.name}/{s.name}", Severity.WARNING,
                           f"{v.host.name}: on its last working power supply, {_supply_words(s, f)} "
                           f"({gone} failed): its loss takes {v.host.name} down", kind=FindingKind.SPOF)


def feed_spof(ctx: RuleContext) -> Iterator[Finding]:
    """Every supply on one feed by the BMC's word, while the config says otherwise: the feed is its SPOF."""
    for v, sensors in _readings(ctx):
        feeds = supply_feeds(v, sensors)
        if len(feeds) < 2 or any(how != "BMC" for _s, _f, how in feeds):
            continue
        said = {f for _s, f, _h in feeds}
        configured = [n for k, n in v.host.domains if k == "power"]
        if len(said) != 1 or set(configured) == said:
            continue
        feed = said.pop()
        config = f"the config names {', '.join(configured)}" if configured else "the config names no feed"
        every = "both" if len(feeds) == 2 else f"all {len(feeds)}"
        yield _finding("spof", f"{v.host.name}/{feed}", Severity.WARNING,
                       f"{v.host.name}: {every} power supplies draw from {feed} (its BMC says; {config}): "
                       f"{feed} is its single point of failure", kind=FindingKind.SPOF)


def _hot(t: Temperature) -> str:
    limit = f" (limit {t.limit:g} °C)" if t.limit is not None else " (the BMC says so)"
    return f"{t.name} {t.celsius:g} °C{limit}" if t.celsius is not None else f"{t.name}{limit}"


def temperature(ctx: RuleContext) -> Iterator[Finding]:
    for v, sensors in _readings(ctx):
        hot = [t for t in sensors.temperatures or () if t.level != OK]
        if not hot:
            continue
        level = worst(t.level for t in hot)
        yield _finding("temperature", v.host.name, SEVERITY[level],
                       f"{v.host.name}: {'; '.join(_hot(t) for t in hot)}: past the BMC's "
                       f"{LIMIT_WORDS[level]} threshold")


def fan(ctx: RuleContext) -> Iterator[Finding]:
    for v, sensors in _readings(ctx):
        bad = [f for f in sensors.fans or () if f.level != OK]
        if not bad:
            continue
        level = worst(f.level for f in bad)
        what = "; ".join(_fan_words(f) for f in bad)
        total = len(sensors.fans or ())
        yield _finding("fan", v.host.name, SEVERITY[level],
                       f"{v.host.name}: {what}; {total - len(bad)} of {total} fans ok (BMC, {sensors.via})")


def _fan_words(f: Fan) -> str:
    if f.reading is None:
        return f"{f.name}: no reading, the BMC says {f.said}"
    limits = [x for x in (f.lcr, f.lnr, f.lnc) if x is not None and f.reading <= x]
    why = "stopped" if f.reading == 0 else f"limit {max(limits):g}" if limits else f"the BMC says {f.said}"
    return f"{f.name} {f.reading:g} {f.units} ({why})"


def cooling(ctx: RuleContext) -> Iterator[Finding]:
    """Every host of a rack warm together: the rack's or the room's cooling, named once."""
    racks: dict[str, list[tuple[HostReading, Sensors | None]]] = {}
    st = ctx.cloud.hosts
    for v in st.hosts if st else ():
        if v.host.rack and v.host.bmc is not None:
            racks.setdefault(v.host.rack, []).append((v, v.sensors if isinstance(v.sensors, Sensors) else None))
    for rack, members in racks.items():
        inlets = [(v, s.inlet) for v, s in members if s is not None and s.inlet is not None]
        if len(members) < 2 or len(inlets) != len(members):
            continue  # a host of the rack without an inlet reading: "every host" cannot be told
        if not all(t.level != OK for _v, t in inlets if t is not None):
            continue
        level = worst(t.level for _v, t in inlets if t is not None)
        hot = ", ".join(f"{v.host.name} {t.celsius:g} °C" for v, t in inlets if t is not None)
        yield _finding("cooling", rack, SEVERITY[level],
                       f"{rack}: every host in this rack takes in hot air ({hot} at the inlet, past their BMCs' "
                       "thresholds): the rack's cooling, or the room's")


RULES = [supply, supply_spof, feed_spof, temperature, fan, cooling]
