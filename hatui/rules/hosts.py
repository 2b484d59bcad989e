"""Hosts rules: power (BMC), management network reachability, and the jump host's own links.

A BMC that gives no answer, refuses the credentials or fails TLS is reported by the generic freshness
rule (``power.bmc_auth|bmc_timeout|bmc_refused|unreachable:<host>``, worded "BMC: ..."), and a garbled
answer of any of the three sources as ``<source>.garbled:<target>``: the rules here read the area's
derived state (hatui.model.hosts.HostsState) only. Order
of precedence, so that one cause gives one finding: the jump host's own uplink down (or no host
answering at all) is said once instead of every host unreachable; a host its BMC reports powered off
is "powered off", not also "unreachable".
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from hatui.model import Finding, FindingKind, Severity
from hatui.model.hosts import OUTCOMES, HostReading, HostsState, MissingSystem, PowerStatus
from hatui.rules import RuleContext, facility, finding

AREA = "hosts"
# How a dead address fails, with what that usually means (lab: tests/lab/hosts.py faults).
WAYS = {
    "timeout": "no answer (timeout): blackholed (DROP), down, or cut off",
    "unreachable": "unreachable: no route, or nothing answers ARP (link down?)",
    "refused": "refused: something rejects every probe (firewall REJECT, or its services are down)",
}


_finding = partial(finding, AREA)  # (condition, subject, severity, summary, *, kind, confirm)


def _state(ctx: RuleContext) -> HostsState | None:
    return ctx.cloud.hosts


def host_views(ctx: RuleContext) -> tuple[HostReading, ...]:
    st = _state(ctx)
    return st.hosts if st else ()


def uplink_is_down(ctx: RuleContext) -> bool:
    st = _state(ctx)
    return st is not None and st.uplink_down


def nobody_answers(ctx: RuleContext) -> list[HostReading]:
    st = _state(ctx)
    return st.nobody_answers() if st else []


# ---- power ------------------------------------------------------------------------------------------

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
        if v.powered_off:
            assert isinstance(v.power, PowerStatus)  # powered_off: a BMC's power status said off
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
    st = _state(ctx)
    if st is None or not st.uplink_down:
        return
    down = ", ".join(f"{n.name} {'absent' if not n.exists else n.operstate or 'down'}" for n in st.links or ())
    yield _finding("uplink_down", st.jump_host, Severity.CRITICAL,
                   f"{st.jump_host}: the jump host's own link to the management network is down ({down}): "
                   "hosts cannot be reached from here, their state is unknown")


def none_reachable(ctx: RuleContext) -> Iterator[Finding]:
    st = _state(ctx)
    if st is None or st.uplink_down:
        return
    dead = st.nobody_answers()
    if dead:
        jump = st.jump_host
        yield _finding("none_reachable", jump, Severity.CRITICAL,
                       f"{jump}: none of the {len(dead)} hosts answers: look at the jump host's own "
                       "network first (route, uplink, VLAN)")


def host_unreachable(ctx: RuleContext) -> Iterator[Finding]:
    """No address of the host answers anything, and which way it fails."""
    if uplink_is_down(ctx) or nobody_answers(ctx):
        return
    for v in host_views(ctx):
        if v.reach is None or not v.reach.dead or v.powered_off:
            continue
        parts = [f"{a} {WAYS.get(v.reach.failure(a), OUTCOMES['error'])}" for a in v.reach.addresses]
        yield _finding("unreachable", v.host.name, Severity.CRITICAL,
                       f"{v.host.name}: management network unreachable: " + "; ".join(parts))


def _by_domain(ctx: RuleContext, kind: str) -> dict[str, list]:
    """Domain -> the hosts that hang off it alone: a host on two switches (or fed by two feeds) is no
    evidence against either."""
    groups: dict[str, list] = {}
    for v in host_views(ctx):
        names = [n for k, n in v.host.domains if k == kind]
        if len(names) == 1:
            groups.setdefault(names[0], []).append(v)
    return groups


def switch_down(ctx: RuleContext) -> Iterator[Finding]:
    """Every host on one switch unreachable while no BMC of them says Off: the switch (or its uplink) is
    the likely cause, named once (the hosts' own findings are explained by it). One host alone could
    be its own cable: two at least."""
    if uplink_is_down(ctx) or nobody_answers(ctx):
        return
    for switch, views in _by_domain(ctx, "switch").items():
        if len(views) >= 2 and all(v.reach is not None and v.reach.dead and not v.powered_off for v in views):
            names = ", ".join(v.host.name for v in views)
            yield _finding("switch_down", switch, Severity.CRITICAL,
                           f"{switch}: every host on this switch is unreachable ({names}) while their BMCs do "
                           "not say Off: the switch or its uplink")


def feed_off(ctx: RuleContext) -> Iterator[Finding]:
    """Every host on one power feed powered off: the feed (its PDU, its breaker) is named once."""
    for feed, views in _by_domain(ctx, "power").items():
        if len(views) >= 2 and all(v.powered_off for v in views):
            names = ", ".join(v.host.name for v in views)
            yield _finding("feed_off", feed, Severity.CRITICAL,
                           f"{feed}: every host on this power feed is powered off ({names}): the feed, its PDU "
                           "or its breaker")


def link_down(ctx: RuleContext) -> Iterator[Finding]:
    """The host answers on some of its addresses (links) but not on others: on its last link, a SPOF."""
    for v in host_views(ctx):
        r = v.reach
        if r is None or len(r.addresses) < 2 or not r.reachable:
            continue
        silent = [a for a in r.addresses if r.silent(a)]
        if not silent:
            continue
        up = r.answering
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
        bad = r.services_down
        if bad:
            what = "; ".join(f"{p.address} {p.words}" for p in bad)
            yield _finding("service_down", v.host.name, Severity.WARNING,
                           f"{v.host.name}: {what} (the host itself answers)")


# ---- the jump host's links --------------------------------------------------------------------------

def nic_down(ctx: RuleContext) -> Iterator[Finding]:
    st = _state(ctx)
    if st is None or st.links is None or st.uplink_down:
        return
    jump = st.jump_host
    for n in st.links:
        if not n.up:
            state = "does not exist (check hosts.interfaces)" if not n.exists else f"is {n.operstate or 'down'}"
            yield _finding("nic_down", f"{jump}/{n.name}", Severity.WARNING, f"{jump}: {n.name} {state}")


def uplink_spof(ctx: RuleContext) -> Iterator[Finding]:
    """Two or more watched links, one left: the jump host's next link loss blinds hatui (and the operator)."""
    st = _state(ctx)
    if st is None or st.links is None or len(st.links) < 2:
        return
    up = [n.name for n in st.links if n.up]
    if len(up) == 1:
        yield _finding("spof", f"{st.jump_host}/{up[0]}", Severity.WARNING,
                       f"{st.jump_host}: on its last link to the management network ({up[0]}; "
                       f"{len(st.links) - 1} of {len(st.links)} down)", kind=FindingKind.SPOF)


def bond_degraded(ctx: RuleContext) -> Iterator[Finding]:
    """A bond that is up with slaves down; on its last slave it is a SPOF."""
    st = _state(ctx)
    if st is None or st.links is None:
        return
    jump = st.jump_host
    for n in st.links:
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
    st = _state(ctx)
    if st is None or st.links is None or not st.links_before:
        return
    before, gap, jump = st.links_before, st.links_gap, st.jump_host
    for n in st.links:
        old = before.get(n.name)
        if old is None or not n.exists or not old.exists or gap <= 0:
            continue
        errors, drops = n.errors - old.errors, n.drops - old.drops
        if errors > 0 or drops > 0:
            what = " and ".join(f"{c} {w}" for c, w in ((errors, "errors"), (drops, "drops")) if c > 0)
            yield _finding("nic_errors", f"{jump}/{n.name}", Severity.WARNING,
                           f"{jump}: {n.name}: {what} in the last {gap:.0f} s")


RULES = [jump_uplink_down, none_reachable, no_such_system, power_off, power_changing, health,
         host_unreachable, switch_down, feed_off, link_down, service_down, nic_down, uplink_spof, bond_degraded,
         nic_errors, *facility.RULES]
