"""The ``[hosts]`` section: controller and compute hosts, their BMCs, and the jump host's own links.

Shape (see hatui.example.toml)::

    [hosts]                       # defaults for every host
    power_interval = 30.0         # BMCs are fragile: one request in flight each, not often
    interfaces = ["bond0"]        # the jump host's links to the management network (redundant)

    [[hosts.host]]                # one table per host
    name = "ctrl-1"
    addresses = ["10.0.0.11"]     # management addresses, IP literals: one per link
    ports = [22]
    bmc = { type = "redfish", url = "https://10.0.9.11", user = "hatui", password_env = "..." }

Each host gives up to two targets: ``power`` (its BMC) and ``network`` (its addresses); the jump host
gives one ``local`` target. Addresses are IP literals on purpose: a monitor must not depend on DNS
during the incident it is watching.
"""
from __future__ import annotations

import dataclasses
import functools
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from hatui.config.schema import ConfigError, derived, required, resolve_secret, unique_names
from hatui.secrets import Secret

BMC_TYPES = ("redfish", "ipmi")


@dataclass(frozen=True, slots=True)
class PollTiming:
    """The interval/timeout table a target is polled with (what schedule.target_specs reads)."""

    interval: float
    timeout: float


@dataclass(frozen=True, kw_only=True)
class BmcConfig:
    type: str = required()              # "redfish" or "ipmi"
    url: str | None = None              # redfish: https://bmc-address (the service root is <url>/redfish/v1/)
    system: str | None = None           # redfish: the system's Id, Name or UUID; default: the only one
    host: str | None = None             # ipmi: the BMC's address
    port: int | None = None             # ipmi: default 623 (UDP)
    cipher_suite: int = 3               # ipmi lanplus cipher suite; 3 is offered by every IPMI 2.0 BMC
    user: str = "hatui"
    password_env: str | None = None
    password_file: str | None = None
    ca_file: str | None = None          # redfish over https: CA bundle; default: the system's
    insecure: bool = False              # redfish over https without verification (the screen says so)
    interval: float | None = None       # overrides [hosts] power_interval for this BMC
    timeout: float | None = None        # overrides [hosts] power_timeout for this BMC
    sensors: bool | None = None         # overrides [hosts] sensors: read its supplies, temperatures, fans
    password: Secret | None = derived()

    @property
    def ipmi_port(self) -> int:
        return self.port or 623

    @property
    def where(self) -> str:
        """Where the BMC is, for the screen."""
        if self.type == "redfish":
            return self.url or ""
        return f"{self.host}:{self.ipmi_port}"


@dataclass(frozen=True, kw_only=True)
class HostEntry:
    name: str = required()
    addresses: list[str] = dataclasses.field(default_factory=list)  # management addresses (IP literals)
    ports: list[int] = dataclasses.field(default_factory=list)      # TCP ports expected open on each address
    banner_ports: list[int] = dataclasses.field(default_factory=list)  # of those, services that speak first (SSH)
    bmc: BmcConfig | None = None
    # Fault domains, kept for the SPOF rules and shown in the pane. A host fed by two feeds (two power
    # supplies) or bonded to two switches lists both: it is lost only when all of them fail.
    power_feed: str | list[str] | None = None
    rack: str | None = None
    switch: str | list[str] | None = None

    @functools.cached_property  # (a frozen config: asked of every host at every assessment)
    def domains(self) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        for kind, value in (("power", self.power_feed), ("rack", self.rack), ("switch", self.switch)):
            out += [(kind, v) for v in ([value] if isinstance(value, str) else value or [])]
        return tuple(out)


@dataclass(frozen=True, kw_only=True)
class HostsSection:
    power_interval: float = 30.0    # s between BMC polls: BMCs have few sessions and slow firmware
    power_timeout: float = 10.0     # s for one BMC poll (ipmitool is killed past it)
    network_interval: float = 5.0
    network_timeout: float = 1.0    # per probe; a blackholed probe costs all of it (lab: 1.00 s)
    local_interval: float = 2.0     # the jump host's own links: cheap local reads
    # Power supplies, temperatures and fans from the BMCs: a second, slower read per BMC (supplies fail and
    # rooms warm over minutes; a BMC's sensor read is heavier than its power state). Off unless asked.
    sensors: bool = False
    sensors_interval: float = 60.0
    sensors_timeout: float | None = None  # default: power_timeout
    fresh_every: float | None = None  # overrides [hatui]: a Redfish BMC's kept connection renewed (0: never)
    ping: bool = True               # ICMP echo besides the TCP ports
    max_probes: int = 256           # network probes in flight at once, all hosts together
    jump_host: str = "jump"         # how the jump host is named in findings
    interfaces: list[str] = dataclasses.field(default_factory=list)  # its links to the management network
    host: list[HostEntry] = required()

    @property
    def hosts(self) -> list[HostEntry]:
        return self.host

    @property
    def network_poll_timeout(self) -> float:
        """A network poll's own budget: its probes run at once, each bounded by ``network_timeout``, so
        the poll takes one probe timeout plus any wait for a free slot. A blackholed host costs the full
        probe timeout by nature: it must not read as a slow poll (that is kept for a stuck prober)."""
        return 2 * self.network_timeout + 0.5

    @property
    def insecure(self) -> bool:
        """True when some BMC is talked to over TLS without verification (the status bar says so)."""
        return any(h.bmc is not None and h.bmc.insecure for h in self.host)

    def reads_sensors(self, h: HostEntry) -> bool:
        """Whether the host's BMC is read for supplies, temperatures and fans (``sensors``)."""
        return h.bmc is not None and (self.sensors if h.bmc.sensors is None else h.bmc.sensors)

    def targets(self) -> list[tuple[str, str, object]]:
        out: list[tuple[str, str, object]] = []
        for h in self.host:
            if h.bmc is not None:
                out.append(("power", h.name, PollTiming(h.bmc.interval or self.power_interval,
                                                        h.bmc.timeout or self.power_timeout)))
            if h.bmc is not None and self.reads_sensors(h):
                out.append(("sensors", h.name, PollTiming(self.sensors_interval,
                                                          self.sensors_timeout or h.bmc.timeout or self.power_timeout)))
            if h.addresses:
                out.append(("network", h.name, PollTiming(self.network_interval, self.network_poll_timeout)))
        if self.interfaces:
            out.append(("local", self.jump_host, PollTiming(self.local_interval, 1.0)))
        return out

    def validate(self, file: str, resolve_secrets: bool) -> HostsSection:
        if not self.host:
            raise ConfigError(file, "hosts.host", "at least one [[hosts.host]]", "an empty list")
        for key in ("power_interval", "power_timeout", "network_interval", "network_timeout", "local_interval",
                    "max_probes", "sensors_interval"):
            if not getattr(self, key):
                raise ConfigError(file, f"hosts.{key}", "a number > 0", "0")
        if self.sensors_timeout is not None and self.sensors_timeout <= 0:
            raise ConfigError(file, "hosts.sensors_timeout", "a number > 0", str(self.sensors_timeout))
        unique_names(self.host, file, "hosts.host")
        hosts = [_validate_host(h, i, file, self.ping, resolve_secrets) for i, h in enumerate(self.host)]
        return dataclasses.replace(self, host=hosts)


def _validate_host(h: HostEntry, i: int, file: str, ping: bool, resolve_secrets: bool) -> HostEntry:
    key = f"hosts.host[{i}]"
    for j, addr in enumerate(h.addresses):
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            raise ConfigError(file, f"{key}.addresses[{j}]", "an IP address (no DNS: it may be down too)",
                              repr(addr)) from None
    for j, port in enumerate(h.ports):
        if not 0 < port < 65536:
            raise ConfigError(file, f"{key}.ports[{j}]", "a TCP port 1-65535", str(port))
    for j, port in enumerate(h.banner_ports):
        if port not in h.ports:
            raise ConfigError(file, f"{key}.banner_ports[{j}]", "a port also listed in ports", str(port))
    if h.addresses and not h.ports and not ping:
        raise ConfigError(file, f"{key}.ports", "ports to probe (ping is off)", "none")
    if (h.ports or h.banner_ports) and not h.addresses:
        raise ConfigError(file, f"{key}.addresses", "the addresses to probe those ports on", "none")
    for name in ("power_feed", "switch"):
        value = getattr(h, name)
        if isinstance(value, list) and (not value or len(set(value)) != len(value)):
            raise ConfigError(file, f"{key}.{name}", "one name, or a list of different names (a host on two)",
                              repr(value))
    if h.bmc is None:
        return h
    return dataclasses.replace(h, bmc=_validate_bmc(h.bmc, f"{key}.bmc", file, resolve_secrets))


def _validate_bmc(b: BmcConfig, key: str, file: str, resolve_secrets: bool) -> BmcConfig:
    if b.type not in BMC_TYPES:
        raise ConfigError(file, f"{key}.type", '"redfish" or "ipmi"', repr(b.type))
    if b.type == "redfish":
        if not b.url:
            raise ConfigError(file, f"{key}.url", "the BMC's URL (https://address) for a Redfish BMC", "nothing")
        parts = urlsplit(b.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(file, f"{key}.url", "an http:// or https:// URL", repr(b.url))
        if parts.username or parts.password:
            raise ConfigError(file, f"{key}.url", "a URL without credentials (use user and password_env)")
        for name in ("host", "port"):
            if getattr(b, name) is not None:
                raise ConfigError(file, f"{key}.{name}", "no host/port for a Redfish BMC (the url says where)")
        if (b.insecure or b.ca_file) and parts.scheme != "https":
            raise ConfigError(file, f"{key}.url", "an https:// URL when ca_file or insecure is set", repr(b.url))
    else:
        if not b.host:
            raise ConfigError(file, f"{key}.host", "the BMC's address for an IPMI BMC", "nothing")
        for name in ("url", "system", "ca_file"):
            if getattr(b, name) is not None:
                raise ConfigError(file, f"{key}.{name}", f"no {name} for an IPMI BMC")
        if b.insecure:
            raise ConfigError(file, f"{key}.insecure", "insecure only for a Redfish BMC over https")
        if b.port is not None and not 0 < b.port < 65536:
            raise ConfigError(file, f"{key}.port", "a UDP port 1-65535", str(b.port))
        # (a recording's config has its secret references removed: replays do not need them)
        if resolve_secrets and not (b.password_env or b.password_file):
            raise ConfigError(file, f"{key}.password_env", "password_env or password_file (IPMI needs one)",
                              "neither")
    if b.interval == 0 or b.timeout == 0:
        raise ConfigError(file, f"{key}.{'interval' if b.interval == 0 else 'timeout'}", "a number > 0", "0")
    if resolve_secrets:
        return dataclasses.replace(b, password=resolve_secret(b, file, key))
    return b
