"""Hosts: what a BMC says about power, what the management network answers, what the jump host's links do.

Parsed from the data of three sources (hatui/sources/redfish.py, ipmi.py, network.py, local.py):

- power, Redfish: ``GET <Systems member>``: ``PowerState``, ``Status.Health``, ``Status.State`` (DMTF
  ComputerSystem schema); or, when the BMC answers but has no such system, the members it listed.
- power, IPMI: the stdout of ``ipmitool ... chassis power status``: ``Chassis Power is on|off``.
- network: one probe per address and kind (ICMP echo, TCP connect to a port), each classified.
- local: the jump host's watched interfaces (psutil + /sys/class/net): up or not, counters, bond slaves.

Value objects are frozen; nonsense raises ``HostDataGarbled`` (the target is then UNKNOWN).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hatui.model.observation import Garbled, Observation, finite


class HostDataGarbled(Garbled):
    """The data is not what a BMC / the probes / the jump host should have said."""


# Redfish PowerState values (DMTF Resource.PowerState) -> whether the host has power.
POWER_STATES = {
    "On": "powered on",
    "Off": "powered off",
    "PoweringOn": "powering on",
    "PoweringOff": "powering off",
    "Paused": "paused (power on, not running)",
}
# Redfish Status.Health (DMTF Resource.Health): OK, Warning (needs attention), Critical (needs it now).
HEALTH_VALUES = ("OK", "Warning", "Critical")


@dataclass(frozen=True, slots=True)
class PowerStatus:
    via: str                 # "redfish" or "ipmi"
    power_state: str         # a POWER_STATES key
    system: str = ""         # the Redfish system (Id, and Name if it differs); "" for IPMI
    health: str | None = None  # Redfish Status.Health, None when the BMC does not say
    state: str | None = None   # Redfish Status.State (Enabled, StandbyOffline, ...)

    @property
    def is_on(self) -> bool:
        return self.power_state == "On"

    @property
    def is_off(self) -> bool:
        return self.power_state == "Off"

    @property
    def changing(self) -> bool:
        return self.power_state in ("PoweringOn", "PoweringOff")

    @property
    def words(self) -> str:
        return POWER_STATES.get(self.power_state, self.power_state)


@dataclass(frozen=True, slots=True)
class MissingSystem:
    """A Redfish BMC that answers, but has no system by the configured name."""

    wanted: str
    members: tuple[str, ...]


_IPMI_POWER = re.compile(r"^Chassis Power is (on|off)\s*$", re.MULTILINE)


def parse_power(data: Mapping[str, Any]) -> PowerStatus | MissingSystem:
    via = data.get("via")
    if via == "ipmi":
        m = _IPMI_POWER.search(str(data.get("stdout", "")))
        if m is None:
            raise HostDataGarbled(f"ipmitool said {str(data.get('stdout', ''))[:60]!r}, not 'Chassis Power is on|off'")
        return PowerStatus("ipmi", m.group(1).capitalize())
    if via != "redfish":
        raise HostDataGarbled(f"unknown BMC kind {via!r}")
    system = data.get("system")
    if system is None:
        members = data.get("members") or []
        if not isinstance(members, list):
            raise HostDataGarbled("the Redfish Systems members are not a list")
        return MissingSystem(str(data.get("wanted") or ""), tuple(str(m) for m in members))
    if not isinstance(system, Mapping):
        raise HostDataGarbled("the Redfish system is not an object")
    power = system.get("PowerState")
    if not isinstance(power, str) or power not in POWER_STATES:
        raise HostDataGarbled(f"PowerState {str(power)[:30]!r} is not a Redfish power state")
    status = system.get("Status")
    if not isinstance(status, Mapping):
        status = {}
    ident, name = str(system.get("Id") or ""), str(system.get("Name") or "")
    label = ident if not name or name == ident else f"{name} ({ident})"
    health = status.get("Health")
    return PowerStatus("redfish", str(power), label, str(health) if health else None,
                       str(status["State"]) if status.get("State") else None)


# ---- network ------------------------------------------------------------------------------------

# How a probe ended: the source classifies; these are the only words it uses.
OUTCOMES = {
    "open": "answers",                      # TCP connected (and spoke first, for banner ports) / echo reply
    "silent": "accepts but says nothing",   # TCP connected, no banner within the timeout: a hung service
    "refused": "refused",                   # TCP reset or ICMP port/admin-prohibited: something rejects it
    "timeout": "no answer (timeout)",       # nothing came back: blackholed (DROP), down, cable out
    "unreachable": "unreachable",           # no route / ARP failed / ICMP host-unreachable
    "error": "not probed",                  # a local problem (out of sockets, no permission): says nothing
}


@dataclass(frozen=True, slots=True)
class Probe:
    address: str
    probe: str               # "icmp" or "tcp/<port>"
    outcome: str             # an OUTCOMES key
    latency: float | None    # seconds to the answer (or to giving up)
    detail: str = ""

    @property
    def answered(self) -> bool:
        """The remote end spoke: an echo reply, or a TCP connection (the kernel there is alive)."""
        return self.outcome in ("open", "silent")

    @property
    def definite(self) -> bool:
        """The probe says something about the remote end (a local error says nothing)."""
        return self.outcome != "error"

    @property
    def words(self) -> str:
        text = f"{self.probe} {OUTCOMES[self.outcome]}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True, slots=True)
class Reachability:
    probes: tuple[Probe, ...]
    icmp: str = "off"        # how echo was sent: "unprivileged", "raw", "ping" (the binary) or "off"
    # Worked out once, when the answer is parsed: rules and the model ask them of every host at every
    # assessment (a thousand hosts: the N-1 model and five rules).
    addresses: tuple[str, ...] = field(init=False, compare=False, repr=False)
    answering: tuple[str, ...] = field(init=False, compare=False, repr=False)  # the addresses (links) that answer
    dead: bool = field(init=False, compare=False, repr=False)
    _by_address: Mapping[str, tuple[Probe, ...]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        by: dict[str, list[Probe]] = {}
        for p in self.probes:
            by.setdefault(p.address, []).append(p)
        grouped = {a: tuple(ps) for a, ps in by.items()}
        answering = tuple(a for a, ps in grouped.items() if any(p.answered for p in ps))
        silent = [a for a, ps in grouped.items() if a not in answering and any(p.definite for p in ps)]
        object.__setattr__(self, "_by_address", grouped)
        object.__setattr__(self, "addresses", tuple(grouped))
        object.__setattr__(self, "answering", answering)
        # no address answers, and the probes say so (not only local errors)
        object.__setattr__(self, "dead", bool(grouped) and len(silent) == len(grouped))

    def of(self, address: str) -> tuple[Probe, ...]:
        return self._by_address.get(address, ())

    def answers(self, address: str) -> bool:
        return address in self.answering

    def silent(self, address: str) -> bool:
        """Nothing answered at this address and at least one probe says why."""
        return address not in self.answering and any(p.definite for p in self.of(address))

    @property
    def reachable(self) -> bool:
        return bool(self.answering)

    @property
    def services_down(self) -> tuple[Probe, ...]:
        """Configured TCP ports that fail (refused, silent, no banner) on an address that answers: the host
        is there, a service on it is not."""
        return tuple(p for a in self.answering for p in self.of(a)
                     if p.probe.startswith("tcp/") and p.definite and p.outcome != "open")

    @property
    def latency(self) -> float | None:
        """The fastest answer (ICMP round trip or TCP connect)."""
        times = [p.latency for p in self.probes if p.answered and p.latency is not None]
        return min(times) if times else None

    def failure(self, address: str) -> str:
        """Which way an address fails, as an OUTCOMES key: the most telling of its probes' outcomes."""
        outcomes = {p.outcome for p in self.of(address) if p.definite and not p.answered}
        return next((o for o in ("refused", "unreachable", "timeout") if o in outcomes), "error")


def parse_probes(data: Mapping[str, Any]) -> Reachability:
    raw = data.get("probes")
    if not isinstance(raw, list) or not raw:
        raise HostDataGarbled("no probes in the answer")
    probes = []
    for p in raw:
        if not isinstance(p, Mapping) or not isinstance(p.get("outcome"), str) or p["outcome"] not in OUTCOMES:
            raise HostDataGarbled(f"probe with unknown outcome: {str(p)[:80]}")
        latency = p.get("latency")
        if latency is not None and not finite(latency):
            raise HostDataGarbled(f"probe latency is not a number: {str(latency)[:40]!r}")
        probes.append(Probe(str(p.get("address")), str(p.get("probe")), str(p["outcome"]),
                            None if latency is None else float(latency), str(p.get("detail") or "")))
    return Reachability(tuple(probes), str(data.get("icmp") or "off"))


# ---- the jump host's links ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BondStatus:
    mode: str
    slaves: tuple[tuple[str, bool], ...]  # (slave, up) in the kernel's order
    active: str | None = None             # active-backup: the slave carrying traffic

    @property
    def up_slaves(self) -> tuple[str, ...]:
        return tuple(s for s, up in self.slaves if up)

    @property
    def down_slaves(self) -> tuple[str, ...]:
        return tuple(s for s, up in self.slaves if not up)


@dataclass(frozen=True, slots=True)
class NicStatus:
    name: str
    exists: bool
    up: bool                 # administratively up and with carrier (operstate up)
    operstate: str = ""
    errors: int = 0          # errin + errout
    drops: int = 0           # dropin + dropout
    bond: BondStatus | None = None


def _count(raw: Mapping[str, Any], *keys: str) -> int:
    try:
        return sum(int(raw.get(k) or 0) for k in keys)
    except (TypeError, ValueError, OverflowError):  # a list, "x", NaN, inf
        raise HostDataGarbled(f"counter {keys} is not a number") from None


def _is_up(nic: Mapping[str, Any]) -> bool:
    # operstate "unknown": the driver does not report carrier (tun, some virtual NICs); trust IFF_UP then
    return bool(nic.get("isup")) and nic.get("operstate") in ("up", "unknown")


def parse_links(data: Mapping[str, Any]) -> tuple[NicStatus, ...]:
    raw = data.get("interfaces")
    if not isinstance(raw, Mapping):
        raise HostDataGarbled("no interfaces in the answer")
    out = []
    for name, nic in raw.items():
        if not isinstance(nic, Mapping):
            raise HostDataGarbled(f"interface {name} is not an object")
        bond = None
        if isinstance(nic.get("bond"), Mapping):
            b = nic["bond"]
            slaves = b.get("slaves") or {}
            if not isinstance(slaves, Mapping):
                raise HostDataGarbled(f"the slaves of bond {name} are not a table")
            bond = BondStatus(str(b.get("mode") or ""), tuple((str(s), st == "up") for s, st in slaves.items()),
                              str(b["active"]) if b.get("active") else None)
        out.append(NicStatus(str(name), bool(nic.get("exists")), _is_up(nic),
                             str(nic.get("operstate") or ""), _count(nic, "errin", "errout"),
                             _count(nic, "dropin", "dropout"), bond))
    return tuple(out)


def power_of(obs: Observation, section: Any) -> PowerStatus | MissingSystem:
    """The power source's parser (hatui.areas): a BMC's answer."""
    return parse_power(obs.data)


def probes_of(obs: Observation, section: Any) -> Reachability:
    """The network source's parser (hatui.areas)."""
    return parse_probes(obs.data)


def links_of(obs: Observation, section: Any) -> tuple[NicStatus, ...]:
    """The local source's parser (hatui.areas): the jump host's watched links."""
    return parse_links(obs.data)


@dataclass(frozen=True, slots=True)
class HostReading:
    """What is usable of one configured host: its BMC's answers and its probes (None: none usable)."""

    host: Any                                          # hatui.config.hosts.HostEntry
    power: PowerStatus | MissingSystem | None = None   # None: no BMC, or no usable answer
    reach: Reachability | None = None
    sensors: Any = None                                # hatui.model.facility.Sensors (supplies, thermal)

    @property
    def powered_off(self) -> bool:
        return isinstance(self.power, PowerStatus) and self.power.is_off


@dataclass(frozen=True, slots=True)
class HostsState:
    jump_host: str
    hosts: tuple[HostReading, ...]
    links: tuple[NicStatus, ...] | None = None          # the jump host's watched links now (None: unknown)
    links_before: Mapping[str, NicStatus] | None = None  # one poll before, by name
    links_gap: float = 0.0                               # seconds between the two

    @property
    def uplink_down(self) -> bool:
        """Every watched link of the jump host is down: no host can be judged from here."""
        return bool(self.links) and not any(n.up for n in self.links or ())

    def nobody_answers(self) -> list[HostReading]:
        """When every probed host is dead (at least two not known to be off), those hosts: the likely
        cause is on the jump host's side. Else []."""
        probed = [v for v in self.hosts if v.reach is not None]
        if len(probed) < 2 or not all(v.reach.dead for v in probed if v.reach is not None):
            return []
        dead = [v for v in probed if not v.powered_off]
        return dead if len(dead) >= 2 else []


def derive(snapshot: Any, section: Any) -> HostsState:
    views = []
    for host in section.hosts:
        p, n = snapshot.get("power", host.name), snapshot.get("network", host.name)
        s = snapshot.get("sensors", host.name)
        views.append(HostReading(host, p.parsed if p else None, n.parsed if n else None, s.parsed if s else None))
    links, before, gap = None, None, 0.0
    st = snapshot.get("local", section.jump_host) if section.interfaces else None
    if st is not None and st.parsed is not None:
        links = st.parsed
        if st.previous is not None and st.previous.ok and st.previous_value is not None:
            before = {n.name: n for n in st.previous_value}
            gap = st.latest.observed_at - st.previous.observed_at
    return HostsState(section.jump_host, tuple(views), links, before, gap)
