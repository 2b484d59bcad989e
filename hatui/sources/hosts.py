"""The ``[hosts]`` section's sources: one ``power`` target per BMC (and one ``sensors`` target where
``sensors`` is on: supplies, temperatures, fans; bmc_sensors.py), one ``network`` target per host with
addresses, one ``local`` target for the jump host's links. The I/O lives in redfish.py, ipmi.py,
network.py and local.py; this module only builds them from the config."""
from __future__ import annotations

from hatui.config import Config
from hatui.config.hosts import HostsSection
from hatui.schedule import target_specs
from hatui.sources.base import Source
from hatui.sources.bmc_sensors import IpmiSensorsSource, RedfishSensorsSource
from hatui.sources.ipmi import IpmiPowerSource
from hatui.sources.local import LocalLinksSource
from hatui.sources.network import NetworkSource, Prober
from hatui.sources.redfish import RedfishPowerSource


def host_sources(config: Config) -> list[Source]:
    section: HostsSection = config.section("hosts")
    specs = {s.key: s for s in target_specs(config) if s.source in ("power", "sensors", "network", "local")}
    prober = Prober(section.max_probes, section.ping)  # one bound on probes in flight for all hosts
    out: list[Source] = []
    for host in section.hosts:
        if host.bmc is not None:
            cls = RedfishPowerSource if host.bmc.type == "redfish" else IpmiPowerSource
            out.append(cls(specs[("power", host.name)], host, host.bmc))
            if section.reads_sensors(host):
                sensors = RedfishSensorsSource if host.bmc.type == "redfish" else IpmiSensorsSource
                out.append(sensors(specs[("sensors", host.name)], host, host.bmc))
        if host.addresses:
            out.append(NetworkSource(specs[("network", host.name)], host, section, prober))
    if section.interfaces:
        out.append(LocalLinksSource(specs[("local", section.jump_host)], section))
    return out
