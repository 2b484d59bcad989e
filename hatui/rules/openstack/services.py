"""Service rules: nova services and neutron agents, per row and per binary.

Per binary: none serving is critical; the one left serving where the binary should be redundant
(``redundant`` in the config: conductor, scheduler, DHCP and L3 agents by default) is a SPOF, found by the
model (hatui.rules.redundancy) and worded here. Per row:
down, forced down, disabled (with its reason), and a heartbeat that is late while the service still
reads "up": nova calls it down only after service_down_time, hatui warns from the threshold below.
"""
from __future__ import annotations

from collections.abc import Iterator

from hatui.model import Finding, Severity
from hatui.model.services import ServiceRow, by_binary
from hatui.rules import RuleContext, finding
from hatui.rules.openstack.common import section, state
from hatui.words import human_age


def all_rows(ctx: RuleContext) -> list[ServiceRow]:
    st = state(ctx)
    return st.service_rows if st else []


def heartbeat_limits(ctx: RuleContext, row: ServiceRow) -> tuple[float, float, float]:
    """(report interval, late threshold, down time) for this kind of row. Late: two heartbeats missed,
    or half the down time, whichever is later (never at or past the down time itself)."""
    sec = section(ctx)
    every, down = ((sec.report_interval, sec.service_down_time) if row.kind == "nova"
                   else (sec.agent_report_interval, sec.agent_down_time))
    return every, min(max(2 * every, down / 2), 0.9 * down), down


def _up_words(rows: list[ServiceRow]) -> str:
    serving = sum(r.serving for r in rows)
    return f"{serving} of {len(rows)} {rows[0].binary} up"


def none_up(ctx: RuleContext) -> Iterator[Finding]:
    for binary, rows in by_binary(all_rows(ctx)).items():
        if not any(r.serving for r in rows):
            states = ", ".join(f"{r.host} {_state(r)}" for r in rows)
            yield finding("services", "none_up", binary, Severity.CRITICAL,
                          f"{binary}: none of {len(rows)} up ({states})")


def spof_words(ctx: RuleContext, binary: str, host: str) -> str | None:
    """Why the one ``binary`` serving on ``host`` is a SPOF (the model found that its loss takes the binary
    down: hatui.rules.redundancy names it ``services.spof:<binary>@<host>``); None for a binary that is not
    meant to be redundant (``redundant``, or given a ``capacity_floor``: nova-compute and the per-host agents
    are one per host by design)."""
    if binary not in section(ctx).redundant and binary not in section(ctx).capacity_floor:
        return None
    rows = [r for r in all_rows(ctx) if r.binary == binary]
    serving = [r for r in rows if r.serving]
    others = [r for r in rows if r.host != host]
    if len(serving) > 1:  # a capacity floor above one: each of the floor's last instances is a SPOF
        return f"{binary}@{host}: {len(serving)} of {len(rows)} up, the capacity floor; losing it stops {binary}"
    why = (f"only {host} is up ({', '.join(f'{r.host} {_state(r)}' for r in others)})" if others
           else f"{host} runs the only {binary}")
    return f"{binary}@{host}: {why}: its loss stops {binary}"


def _state(r: ServiceRow) -> str:
    if r.forced_down:
        return "forced down"
    return "up" if r.up else "down"


def service_down(ctx: RuleContext) -> Iterator[Finding]:
    rows = all_rows(ctx)
    groups = by_binary(rows)
    for r in rows:
        if r.up or r.forced_down or not r.enabled:
            continue  # forced down and disabled have their own findings
        _every, _late, down = heartbeat_limits(ctx, r)
        beat = f"last heartbeat {human_age(r.heartbeat_age)} ago" if r.heartbeat_age is not None else "no heartbeat"
        yield finding("services", "down", r.subject, Severity.WARNING,
                      f"{r.subject}: down ({beat}, down after {down:g} s); {_up_words(groups[r.binary])}")


def forced_down(ctx: RuleContext) -> Iterator[Finding]:
    for r in all_rows(ctx):
        if r.forced_down:
            yield finding("services", "forced_down", r.subject, Severity.WARNING,
                          f"{r.subject}: forced down (by an operator or a fencing tool)")


def service_disabled(ctx: RuleContext) -> Iterator[Finding]:
    for r in all_rows(ctx):
        if not r.enabled:
            reason = f": {r.disabled_reason}" if r.disabled_reason else " (no reason given)"
            word = "disabled" if r.kind == "nova" else "administratively down"
            yield finding("services", "disabled", r.subject, Severity.WARNING, f"{r.subject}: {word}{reason}")


def heartbeat_late(ctx: RuleContext) -> Iterator[Finding]:
    """Still 'up' for nova/neutron, but the heartbeat is late: it is about to go down."""
    for r in all_rows(ctx):
        if not r.up or r.heartbeat_age is None:
            continue
        every, late, down = heartbeat_limits(ctx, r)
        if r.heartbeat_age > late:
            yield finding("services", "heartbeat_late", r.subject, Severity.WARNING,
                          f"{r.subject}: last heartbeat {human_age(r.heartbeat_age)} ago (expected every "
                          f"{every:g} s; reported down after {down:g} s)")


RULES = [none_up, service_down, forced_down, service_disabled, heartbeat_late]
