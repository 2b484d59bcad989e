"""Hosts rules: power (BMC), management network reachability, and the jump host's own links.

A BMC that gives no answer, refuses the credentials or fails TLS is reported by the generic freshness
rule (``power.bmc_auth|bmc_timeout|bmc_refused|unreachable:<host>``, worded "BMC: ..."): the rules
here read usable data only. Order
of precedence, so that one cause gives one finding: the jump host's own uplink down (or no host
answering at all) is said once instead of every host unreachable; a host its BMC reports powered off
is "powered off", not also "unreachable".
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hatui.config.hosts import HostEntry, HostsSection
from hatui.model import Finding, FindingKind, Severity
from hatui.model.hosts import (
    OUTCOMES,
    HostDataGarbled,
    MissingSystem,
    NicStatus,
    PowerStatus,
    Reachability,
    parse_links,
    parse_power,
    parse_probes,
)
from hatui.rules import RuleContext

AREA = "hosts"
# How a dead address fails, with what that usually means (lab: tests/lab/hosts.py faults).
WAYS = {
    "timeout": "no answer (timeout): blackholed (DROP), down, or cut off",
    "unreachable": "unreachable: no route, or nothing answers ARP (link down?)",
    "refused": "refused: something rejects every probe (firewall REJECT, or its services are down)",
}


def _finding(rule: str, subject: str, severity: Severity, summary: str, *,
             kind: FindingKind = FindingKind.FAILURE) -> Finding:
    return Finding(f"{AREA}.{rule}:{subject}", kind, severity, AREA, subject, summary)


def _section(ctx: RuleContext) -> HostsSection | None:
    return ctx.config.section("hosts")


def _hosts(ctx: RuleContext) -> list[HostEntry]:
    section = _section(ctx)
    return section.hosts if section else []


@dataclass(frozen=True, slots=True)
class HostView:
    host: HostEntry
    power: PowerStatus | MissingSystem | None = None  # None: no BMC, or no usable answer
    power_garbled: str = ""
    reach: Reachability | None = None


def host_views(ctx: RuleContext) -> list[HostView]:
    """What is usable of each host: its BMC's answer and its probes (stale or failed: None)."""
    out = []
    for host in _hosts(ctx):
        power, garbled, reach = None, "", None
        st = ctx.snapshot.get("power", host.name)
        obs = st.usable if st else None
        if obs is not None:
            try:
                power = parse_power(obs.data)
            except HostDataGarbled as exc:
                garbled = str(exc)
        st = ctx.snapshot.get("network", host.name)
        obs = st.usable if st else None
        if obs is not None:
            try:
                reach = parse_probes(obs.data)
            except HostDataGarbled:
                reach = None
        out.append(HostView(host, power, garbled, reach))
    return out


def links(ctx: RuleContext) -> tuple[tuple[NicStatus, ...], dict[str, NicStatus], float] | None:
    """The jump host's watched links now, as they were one poll before (by name), and the seconds between."""
    section = _section(ctx)
    if section is None or not section.interfaces:
        return None
    st = ctx.snapshot.get("local", section.jump_host)
    obs = st.usable if st else None
    if obs is None:
        return None
    try:
        now = parse_links(obs.data)
    except HostDataGarbled:
        return None
    before: dict[str, NicStatus] = {}
    gap = 0.0
    if st.previous is not None and st.previous.ok:
        try:
            before = {n.name: n for n in parse_links(st.previous.data)}
            gap = obs.observed_at - st.previous.observed_at
        except HostDataGarbled:
            before = {}
    return now, before, gap


def uplink_is_down(ctx: RuleContext) -> bool:
    seen = links(ctx)
    return seen is not None and bool(seen[0]) and not any(n.up for n in seen[0])


def _powered_off(v: HostView) -> bool:
    return isinstance(v.power, PowerStatus) and v.power.is_off


def nobody_answers(ctx: RuleContext) -> list[HostView]:
    """When every probed host is dead (at least two that are not known to be off), those hosts: the
    likely cause is on the jump host's side. Else []."""
    probed = [v for v in host_views(ctx) if v.reach is not None]
    if len(probed) < 2 or not all(v.reach.dead for v in probed):
        return []
    dead = [v for v in probed if not _powered_off(v)]
    return dead if len(dead) >= 2 else []


# ---- power ------------------------------------------------------------------------------------------

def bmc_garbled(ctx: RuleContext) -> Iterator[Finding]:
    for v in host_views(ctx):
        if v.power_garbled:
            yield _finding("bmc_garbled", v.host.name, Severity.UNKNOWN,
                           f"{v.host.name}: BMC answer not understood ({v.power_garbled}): power unknown")


def no_such_system(ctx: RuleContext) -> Iterator[Finding]:
    for v in host_views(ctx):
        if not isinstance(v.power, MissingSystem):
            continue
        name, m = v.host.name, v.power
        listed = ", ".join(s.rsplit("/", 1)[-1] for s in m.members[:5]) + (" ..." if len(m.members) > 5 else "")
        if m.wanted:
            summary = f"{name}: the BMC answers but has no system {m.wanted!r} (it lists: {listed or 'none'})"
        elif m.members:
            summary = f"{name}: the BMC manages {len(m.members)} systems: set bmc.system to one of {listed}"
        else:
            summary = f"{name}: the BMC answers but lists no system: power unknown"
        yield _finding("no_such_system", name, Severity.UNKNOWN, summary)


def power_off(ctx: RuleContext) -> Iterator[Finding]:
    for v in host_views(ctx):
        if _powered_off(v):
            yield _finding("power_off", v.host.name, Severity.CRITICAL,
                           f"{v.host.name}: powered off (BMC, {v.power.via})")


def power_changing(ctx: RuleContext) -> Iterator[Finding]:
    for v in host_views(ctx):
        if isinstance(v.power, PowerStatus) and not v.power.is_on and not v.power.is_off:
            yield _finding("power_changing", v.host.name, Severity.WARNING,
                           f"{v.host.name}: {v.power.words} (BMC, {v.power.via})")


def health(ctx: RuleContext) -> Iterator[Finding]:
    """Redfish Status.Health Warning/Critical: the BMC's own verdict on the system (fans, PSUs, DIMMs)."""
    for v in host_views(ctx):
        if not isinstance(v.power, PowerStatus) or v.power.health in (None, "OK"):
            continue
        severity = Severity.CRITICAL if v.power.health == "Critical" else Severity.WARNING
        state = f", state {v.power.state}" if v.power.state else ""
        yield _finding("health", v.host.name, severity,
                       f"{v.host.name}: the BMC reports health {v.power.health}{state}")


# ---- network ----------------------------------------------------------------------------------------

def jump_uplink_down(ctx: RuleContext) -> Iterator[Finding]:
    """Every watched link of the jump host is down: hosts cannot be judged from here. Said once."""
    if not uplink_is_down(ctx):
        return
    section = _section(ctx)
    down = ", ".join(f"{n.name} {'absent' if not n.exists else n.operstate or 'down'}" for n in links(ctx)[0])
    yield _finding("uplink_down", section.jump_host, Severity.CRITICAL,
                   f"{section.jump_host}: the jump host's own link to the management network is down ({down}): "
                   "hosts cannot be reached from here, their state is unknown")


def none_reachable(ctx: RuleContext) -> Iterator[Finding]:
    if uplink_is_down(ctx):
        return
    dead = nobody_answers(ctx)
    if dead:
        section = _section(ctx)
        yield _finding("none_reachable", section.jump_host, Severity.CRITICAL,
                       f"{section.jump_host}: none of the {len(dead)} hosts answers: look at the jump host's own "
                       "network first (route, uplink, VLAN)")


def host_unreachable(ctx: RuleContext) -> Iterator[Finding]:
    """No address of the host answers anything, and which way it fails."""
    if uplink_is_down(ctx) or nobody_answers(ctx):
        return
    for v in host_views(ctx):
        if v.reach is None or not v.reach.dead or _powered_off(v):
            continue
        parts = [f"{a} {WAYS.get(v.reach.failure(a), OUTCOMES['error'])}" for a in v.reach.addresses]
        yield _finding("unreachable", v.host.name, Severity.CRITICAL,
                       f"{v.host.name}: management network unreachable: " + "; ".join(parts))


def link_down(ctx: RuleContext) -> Iterator[Finding]:
    """The host answers on some of its addresses (links) but not on others: on its last link, a SPOF."""
    for v in host_views(ctx):
        r = v.reach
        if r is None or len(r.addresses) < 2 or not r.reachable:
            continue
        silent = [a for a in r.addresses if r.silent(a)]
        if not silent:
            continue
        up = [a for a in r.addresses if r.answers(a)]
        gone = "; ".join(f"{a} {OUTCOMES[r.failure(a)]}" for a in silent)
        if len(up) == 1:
            yield _finding("link_down", v.host.name, Severity.WARNING,
                           f"{v.host.name}: on its last link ({up[0]}): {gone}", kind=FindingKind.SPOF)
        else:
            yield _finding("link_down", v.host.name, Severity.WARNING,
                           f"{v.host.name}: {gone}; {len(up)} of {len(r.addresses)} links answer")


def service_down(ctx: RuleContext) -> Iterator[Finding]:
    """An address that answers, on which a configured TCP port does not (refused, silent, timeout)."""
    for v in host_views(ctx):
        r = v.reach
        if r is None:
            continue
        bad = [p for a in r.addresses if r.answers(a) for p in r.of(a)
               if p.probe.startswith("tcp/") and p.definite and p.outcome != "open"]
        if bad:
            what = "; ".join(f"{p.address} {p.words}" for p in bad)
            yield _finding("service_down", v.host.name, Severity.WARNING,
                           f"{v.host.name}: {what} (the host itself answers)")


# ---- the jump host's links --------------------------------------------------------------------------

def nic_down(ctx: RuleContext) -> Iterator[Finding]:
    seen = links(ctx)
    if seen is None or uplink_is_down(ctx):
        return
    jump = _section(ctx).jump_host
    for n in seen[0]:
        if not n.up:
            state = "does not exist (check hosts.interfaces)" if not n.exists else f"is {n.operstate or 'down'}"
            yield _finding("nic_down", f"{jump}/{n.name}", Severity.WARNING, f"{jump}: {n.name} {state}")


def uplink_spof(ctx: RuleContext) -> Iterator[Finding]:
    """Two or more watched links, one left: the jump host's next link loss blinds hatui (and the operator)."""
    seen = links(ctx)
    if seen is None or len(seen[0]) < 2:
        return
    up = [n.name for n in seen[0] if n.up]
    if len(up) == 1:
        jump = _section(ctx).jump_host
        yield _finding("uplink_spof", jump, Severity.WARNING,
                       f"{jump}: on its last link to the management network ({up[0]}; "
                       f"{len(seen[0]) - 1} of {len(seen[0])} down)", kind=FindingKind.SPOF)


def bond_degraded(ctx: RuleContext) -> Iterator[Finding]:
    """A bond that is up with slaves down; on its last slave it is a SPOF."""
    seen = links(ctx)
    if seen is None:
        return
    jump = _section(ctx).jump_host
    for n in seen[0]:
        b = n.bond
        if b is None or not n.up or not b.down_slaves:
            continue
        down = ", ".join(b.down_slaves)
        if len(b.up_slaves) == 1:
            yield _finding("bond_degraded", f"{jump}/{n.name}", Severity.WARNING,
                           f"{jump}: {n.name} runs on its last link {b.up_slaves[0]} ({down} down)",
                           kind=FindingKind.SPOF)
        else:
            yield _finding("bond_degraded", f"{jump}/{n.name}", Severity.WARNING,
                           f"{jump}: {n.name}: {down} down, {len(b.up_slaves)} of {len(b.slaves)} links left")


def nic_errors(ctx: RuleContext) -> Iterator[Finding]:
    """Error or drop counters that rose since the previous poll (a bad cable, optic or switch port)."""
    seen = links(ctx)
    if seen is None:
        return
    now, before, gap = seen
    jump = _section(ctx).jump_host
    for n in now:
        old = before.get(n.name)
        if old is None or not n.exists or not old.exists or gap <= 0:
            continue
        errors, drops = n.errors - old.errors, n.drops - old.drops
        if errors > 0 or drops > 0:
            what = " and ".join(f"{c} {w}" for c, w in ((errors, "errors"), (drops, "drops")) if c > 0)
            yield _finding("nic_errors", f"{jump}/{n.name}", Severity.WARNING,
                           f"{jump}: {n.name}: {what} in the last {gap:.0f} s")


RULES = [jump_uplink_down, none_reachable, bmc_garbled, no_such_system, power_off, power_changing, health,
         host_unreachable, link_down, service_down, nic_down, uplink_spof, bond_degraded, nic_errors]
