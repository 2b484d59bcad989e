"""What ``hatui init`` writes, decided from what it read (pure: no I/O).

Hosts are named as the cloud names them (nova and neutron's ``host``, RabbitMQ's ``rabbit@<host>``,
HAProxy's server names when they are host names), matched as hatui's topology matches them (any case, the
short name). Addresses come from where a node was seen listening: a RabbitMQ listener bound to an address,
the management API asked at an address, an HAProxy server's address, a Galera member's incoming address.
A Galera member at no named host's address gets a host named after its address, for the operator to name.
Catalog URLs at no host's address are taken for the VIPs of the HAProxies given (``addresses``): the
catalog's APIs then run through their backends in the redundancy model.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from hatui.faces.init_discovery import MANAGEMENT_PORT, Facts, is_ip, mq_base
from hatui.sources.endpoints import catalog_groups

AMQP_PORT = 5672


@dataclass
class HostPlan:
    name: str
    named: bool = True                                   # False: named after its address, no name learned
    addresses: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)        # what was seen running there, in words
    servers: dict[str, list[str]] = field(default_factory=dict)  # HAProxy name -> its backends served from here

    def saw(self, what: str) -> None:
        if what not in self.seen:
            self.seen.append(what)

    def serves(self, lb: str, backend: str) -> None:
        backends = self.servers.setdefault(lb, [])
        if backend not in backends:
            backends.append(backend)

    @property
    def said(self) -> list[str]:
        """What runs there, in words: each service once, an HAProxy's backends together."""
        return self.seen + [f"server of {lb} ({', '.join(b)})" for lb, b in self.servers.items()]

    def add_address(self, ip: str) -> None:
        if ip not in self.addresses:
            self.addresses.append(ip)


@dataclass
class GaleraNodePlan:
    name: str
    host: str
    port: int
    note: str | None = None


@dataclass
class RabbitNodePlan:
    name: str
    host: str
    management_port: int
    amqp_port: int
    erlang_node: str
    note: str | None = None


@dataclass
class HaproxyPlan:
    name: str
    url: str
    addresses: list[str]
    backends: list[str]
    note: str | None = None


@dataclass
class Plan:
    facts: Facts
    hosts: list[HostPlan]
    galera: list[GaleraNodePlan]
    rabbit: list[RabbitNodePlan]
    haproxy: list[HaproxyPlan]
    vips: list[str]                     # catalog hosts at no host's address
    catalog: list[dict]                 # catalog_groups(): service, name, region, url, interfaces


def short(name: str) -> str:
    return name.strip().split(".")[0] if not is_ip(name.strip()) else name.strip()


def _natural(name: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name.lower())]


class Hosts:
    """Hosts by their short name (any case), and by address."""

    def __init__(self) -> None:
        self._by_key: dict[str, HostPlan] = {}

    def named(self, name: str) -> HostPlan:
        key = short(name).lower()
        if key not in self._by_key:
            self._by_key[key] = HostPlan(short(name))
        return self._by_key[key]

    def get(self, name: str) -> HostPlan | None:
        return self._by_key.get(short(name).lower())

    def at(self, ip: str) -> HostPlan | None:
        return next((h for h in self._by_key.values() if ip in h.addresses), None)

    def at_or_new(self, ip: str) -> HostPlan:
        """The host with that address, or a new one named after it."""
        host = self.at(ip)
        if host is None:
            host = self._by_key.setdefault(ip.lower(), HostPlan(ip, named=False))
            host.add_address(ip)
        return host

    def ordered(self) -> list[HostPlan]:
        hosts = list(self._by_key.values())
        return sorted([h for h in hosts if h.named], key=lambda h: _natural(h.name)) + \
            [h for h in hosts if not h.named]


def erlang_host(node: str) -> str:
    return node.split("@", 1)[1] if "@" in node else node


def plan(facts: Facts) -> Plan:
    hosts = Hosts()
    _services(facts, hosts)
    _rabbit_hosts(facts, hosts)
    _haproxy_servers(facts, hosts)
    galera = _galera(facts, hosts)
    rabbit = _rabbit_nodes(facts, hosts)
    haproxy_hosts(facts, hosts)
    vips = _vips(facts, hosts)
    lbs = [HaproxyPlan(h.name, h.url, vips, [b for b, _ in h.backends],
                       note=f"not read at init: {h.error}" if h.error else None) for h in facts.haproxy]
    return Plan(facts, hosts.ordered(), galera, rabbit, lbs, vips, catalog_groups(facts.cloud.catalog))


def _services(facts: Facts, hosts: Hosts) -> None:
    for which in ("nova", "neutron"):
        for row in facts.cloud.services.get(which, []):
            host, binary = row.get("host"), row.get("binary")
            if isinstance(host, str) and host.strip():
                hosts.named(host).saw(str(binary or which))


def _rabbit_hosts(facts: Facts, hosts: Hosts) -> None:
    r = facts.rabbit
    if r is None:
        return
    for node in r.nodes:
        host = hosts.named(erlang_host(node))
        host.saw(f"RabbitMQ {node}")
        for where in (r.http.get(node), r.amqp.get(node), r.answered.get(node)):
            if where is not None and is_ip(where[0]):
                host.add_address(where[0])


def _haproxy_servers(facts: Facts, hosts: Hosts) -> None:
    for lb in facts.haproxy:
        for backend, servers in lb.backends:
            for server, addr in servers:
                host = hosts.get(server)
                if host is None:
                    continue  # a server name that is no host's: its address alone says nothing more
                host.serves(lb.name, backend)
                ip = urlsplit(f"//{addr}").hostname if addr else None
                if ip and is_ip(ip):
                    host.add_address(ip)


def _galera(facts: Facts, hosts: Hosts) -> list[GaleraNodePlan]:
    g = facts.galera
    if g is None:
        return []
    members = list(g.addresses)
    seeds = [s for s in facts.request.db_hosts if s not in members]
    out: list[GaleraNodePlan] = []
    names: set[str] = set()
    for host, port in members + seeds:
        if is_ip(host):
            h = hosts.at_or_new(host)
        else:
            h = hosts.named(host)
        h.saw("Galera")
        name = h.name if h.name not in names else f"{h.name}-{port}"
        names.add(name)
        note = None
        if (host, port) in seeds:
            why = g.errors.get(f"{host}:{port}")
            note = f"not in wsrep_incoming_addresses{f' (did not answer: {why})' if why else ''}"
        out.append(GaleraNodePlan(name, host, port, note))
    return out


def _rabbit_nodes(facts: Facts, hosts: Hosts) -> list[RabbitNodePlan]:
    r = facts.rabbit
    if r is None:
        return []
    if not r.nodes:
        return _rabbit_seeds(facts, hosts)
    out: list[RabbitNodePlan] = []
    names: set[str] = set()
    for node in r.nodes:
        h = hosts.named(erlang_host(node))
        name = h.name if h.name not in names else f"{h.name}-{node.split('@')[0]}"  # two nodes on one host
        names.add(name)
        http, amqp, asked = r.http.get(node), r.amqp.get(node), r.answered.get(node)
        address = next((w[0] for w in (http, asked, amqp) if w is not None), None)
        note = None if r.running.get(node, True) else "not running at init"
        if address is None:
            address = erlang_host(node)
            note = "no address learned: its host name, resolved at each poll; write its address"
        port = (http or asked or (None, MANAGEMENT_PORT))[1]
        out.append(RabbitNodePlan(name, address, port, amqp[1] if amqp else AMQP_PORT, node, note))
    return out


def _rabbit_seeds(facts: Facts, hosts: Hosts) -> list[RabbitNodePlan]:
    """No node list read: the management APIs given, as nodes, for the operator to check."""
    out: list[RabbitNodePlan] = []
    for url in facts.request.mq_urls:
        _scheme, address, port = mq_base(url)
        h = hosts.at_or_new(address) if is_ip(address) else hosts.named(address)
        h.saw("RabbitMQ")
        name = h.name if h.name not in {n.name for n in out} else f"{h.name}-{port}"
        out.append(RabbitNodePlan(name, address, port, AMQP_PORT, "", "not read at init: the management API given"))
    return out


def haproxy_hosts(facts: Facts, hosts: Hosts) -> None:
    """An HAProxy runs on the host its stats URL's address names (hatui's topology): that host is written."""
    for lb in facts.haproxy:
        ip = urlsplit(lb.url).hostname
        if ip and is_ip(ip):
            hosts.at_or_new(ip).saw(f"HAProxy {lb.name}")


def _vips(facts: Facts, hosts: Hosts) -> list[str]:
    urls = [facts.cloud.auth_url or ""] + [ep.get("url") or "" for svc in facts.cloud.catalog
                                          for ep in svc.get("endpoints") or []]
    out: list[str] = []
    for url in urls:
        host = urlsplit(url).hostname
        if host and host not in out and hosts.at(host) is None and hosts.get(host) is None:
            out.append(host)
    return out
