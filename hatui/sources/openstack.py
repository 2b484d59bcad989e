"""OpenStack: the builder of one cloud's sources, sharing one auth plugin and catalog among them.

    keystone/<name>      KeystoneSource   token validation + catalog   (sources/keystone.py, thread)
    endpoint/endpoints   EndpointsSource  every catalog and extra URL  (sources/endpoints.py, asyncio)
    services/nova|neutron ServicesSource  os-services, agents          (sources/services.py, thread)
    haproxy/<name>       HaproxySource    stats CSV, HTTP or socket    (sources/haproxy.py, asyncio)
"""
from __future__ import annotations

from hatui.config import Config
from hatui.schedule import target_specs
from hatui.sources.base import Source
from hatui.sources.endpoints import EndpointsSource
from hatui.sources.haproxy import HaproxySource
from hatui.sources.keystone import CloudSession, KeystoneSource
from hatui.sources.services import ServicesSource


def openstack_sources(config: Config) -> list[Source]:
    section = config.section("openstack")
    assert section is not None and section.cloud_region is not None, "openstack section without its cloud"
    specs = {s.key: s for s in target_specs(config)}
    cloud = CloudSession(section)
    out: list[Source] = [
        KeystoneSource(specs[("keystone", section.label)], cloud),
        EndpointsSource(specs[("endpoint", "endpoints")], section, cloud),
    ]
    out += [ServicesSource(specs[("services", s)], cloud, s) for s in section.services]
    out += [HaproxySource(specs[("haproxy", h.name)], h) for h in section.haproxy]
    return out
