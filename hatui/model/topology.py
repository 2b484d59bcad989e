"""What runs where: the cloud's services, their instances, the hosts those run on and the failure
domains the hosts share, learned from what the sources report.

Placement is matched, never guessed: a Galera or RabbitMQ node to the host whose address it answers
at, a RabbitMQ node also by the host part of its Erlang name (``rabbit@ctl-1``), an os-service or agent
by the ``host`` nova and neutron report. A node's ``runs_on`` key declares a placement where nothing can
be observed. Each placement says how it is known (observed, declared, unknown); where observed and
declared disagree the observed one is used and the conflict is kept. An instance with no placement is
on an unknown host: the engine never counts it as independent of the others.

One identity per instance: the configured name (``db-1``, ``mq-1``), or ``<binary>@<host>`` for the
services nova and neutron report.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hatui.model.copies import Copies, database_copies, queue_copies
from hatui.model.endpoints import OK as ENDPOINT_OK
from hatui.model.survival import AtLeast, Majority, Quorum, Survival

OBSERVED, DECLARED, UNKNOWN = "observed", "declared", "unknown"
DOMAIN_WORDS = {"power": "power feed", "rack": "rack", "switch": "switch"}
DATABASE, QUEUE = "database", "message queue"
LOAD_BALANCER = "load balancer"  # "load balancer <name>": one HAProxy
# What a service cannot work without (nova's and neutron's own architecture documents): the database
# for state, the message queue for RPC. Only edges to services that exist in the topology are used.
NEEDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "nova-conductor": (DATABASE, QUEUE),
    "nova-scheduler": (DATABASE, QUEUE),
    "nova-compute": (QUEUE, "nova-conductor"),
    "neutron-dhcp-agent": (QUEUE,),
    "neutron-l3-agent": (QUEUE,),
    "neutron-metadata-agent": (QUEUE,),
    "neutron-openvswitch-agent": (QUEUE,),
    "neutron-linuxbridge-agent": (QUEUE,),
    "neutron-ovn-metadata-agent": (QUEUE,),
})


@dataclass(frozen=True, slots=True)
class Placement:
    host: str | None   # a configured host's name; None: unknown
    how: str           # OBSERVED, DECLARED or UNKNOWN
    evidence: str      # "answers at 10.216.1.11", "Erlang name rabbit@ctl-1", "nova reports host ctl-1"
    conflict: str = ""  # observed and declared disagree: what was declared


@dataclass(frozen=True, slots=True)
class Instance:
    name: str          # as configured or reported (``db-1``, ``nova-conductor@ctl-1``)
    service: str
    up: bool | None    # serving now; None: cannot tell (no fresh answer)
    placement: Placement

    @property
    def key(self) -> str:
        """Unique across services (a Galera and a RabbitMQ node may both be called ``ctl-1``)."""
        return f"{self.service}/{self.name}"


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    survival: Survival
    needs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Host:
    name: str
    domains: tuple[tuple[str, str], ...]  # (kind, name): ("power", "pdu-a"), ("rack", "r1"), ("switch", "sw-1")
    up: bool | None                       # False: its BMC says Off; None: cannot tell

    def lost_with(self, failed: Collection[str]) -> bool:
        """Whether failing these domains takes it down: every domain of one kind it is in (a host fed by
        two feeds, or bonded to two switches, survives the loss of one)."""
        kinds: dict[str, list[str]] = {}
        for kind, name in self.domains:
            kinds.setdefault(kind, []).append(name)
        return any(all(n in failed for n in names) for names in kinds.values())


@dataclass(frozen=True)
class Topology:
    hosts: Mapping[str, Host]
    services: Mapping[str, Service]
    instances: tuple[Instance, ...]
    # RPC client (an os-service instance's key) -> the message-queue instances it holds connections to,
    # or held when their node went away (hatui.model.rabbitmq_clients)
    rpc: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    copies: tuple[Copies, ...] = ()  # the data and where its current copies are (durability)
    # indexes, built once: the redundancy engine asks them for every element it tries
    _index: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_service: dict[str, list[Instance]] = {}
        on_host: dict[str, list[Instance]] = {}
        for inst in self.instances:
            by_service.setdefault(inst.service, []).append(inst)
            if inst.placement.host is not None:
                on_host.setdefault(inst.placement.host, []).append(inst)
        domains: dict[str, tuple[str, list[str]]] = {}
        for h in self.hosts.values():
            for kind, name in h.domains:
                domains.setdefault(name, (kind, []))[1].append(h.name)
        self._index.update(
            by_service={k: tuple(v) for k, v in by_service.items()},
            on_host={k: tuple(v) for k, v in on_host.items()},
            alive={k: frozenset(i.key for i in v if i.up) for k, v in by_service.items()},
            by_key={i.key: i for i in self.instances},
            keys_on_host={k: tuple(i.key for i in v) for k, v in on_host.items()},
            live_service={i.key: i.service for i in self.instances if i.up},
            domains={name: (kind, tuple(hosts)) for name, (kind, hosts) in domains.items()},
        )

    def of(self, service: str) -> tuple[Instance, ...]:
        return self._index["by_service"].get(service, ())

    def on(self, host: str) -> tuple[Instance, ...]:
        return self._index["on_host"].get(host, ())

    def alive(self, service: str) -> frozenset[str]:
        """The keys of its instances serving now."""
        return self._index["alive"].get(service, frozenset())

    def instance(self, key: str) -> Instance | None:
        return self._index["by_key"].get(key)

    def keys_on(self, host: str) -> tuple[str, ...]:
        return self._index["keys_on_host"].get(host, ())

    def live_service(self, key: str) -> str | None:
        """The service of an instance serving now (None: not serving, or no such instance)."""
        return self._index["live_service"].get(key)

    def domains(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Every failure domain: name -> (kind, the hosts in it)."""
        return self._index["domains"]

    def unplaced(self, service: str) -> tuple[str, ...]:
        return tuple(i.name for i in self.of(service) if i.placement.host is None)


class _Hosts:
    """Matching what a source reports to the configured hosts."""

    def __init__(self, section: Any) -> None:
        entries = section.hosts if section is not None else []
        self.by_address = {a: h.name for h in entries for a in h.addresses}
        self.by_name = {h.name.lower(): h.name for h in entries}

    def named(self, reported: str) -> str | None:
        """A host name as a server reports it: ``ctl-1``, ``ctl-1.example.org``, ``CTL-1``."""
        name = reported.strip().lower()
        return self.by_name.get(name) or self.by_name.get(name.split(".")[0])

    def place(self, observed: list[tuple[str | None, str]], declared: str | None) -> Placement:
        """The first observed match wins; a declared one is used only when nothing was observed."""
        seen = next(((host, why) for host, why in observed if host is not None), None)
        if declared is not None and self.named(declared) is None:
            declared_words = f"declared on {declared}, which is not a configured host"
            if seen is None:
                return Placement(None, UNKNOWN, declared_words)
            return Placement(seen[0], OBSERVED, seen[1], conflict=declared_words)
        decl = self.named(declared) if declared is not None else None
        if seen is None:
            return Placement(decl, DECLARED, "runs_on in the config") if decl else Placement(None, UNKNOWN, "")
        conflict = f"declared on {decl}" if decl is not None and decl != seen[0] else ""
        return Placement(seen[0], OBSERVED, seen[1], conflict)


def _host_up(view: Any) -> bool | None:
    if view.powered_off:
        return False
    if view.reach is not None and view.reach.dead:
        return False
    if view.reach is not None and view.reach.reachable:
        return True
    return None


def _galera(cluster: Any, section: Any, hosts: _Hosts, snapshot: Any) -> tuple[Service, list[Instance]]:
    members = set(cluster.members) if cluster is not None and cluster.view is not None else set()
    instances = []
    for node in section.nodes:
        st = snapshot.get("galera", node.name) if snapshot is not None else None
        if node.name in members:
            up: bool | None = True
        elif cluster is not None and cluster.node(node.name) is not None:
            up = False  # answers, outside the Primary component: holds no vote
        elif st is not None and st.failed:
            up = False  # a fresh failure: refused, unreachable, timed out
        else:
            up = None
        placed = hosts.place([(hosts.by_address.get(node.host), f"answers at {node.host}")],
                             node.runs_on)
        instances.append(Instance(node.name, DATABASE, up, placed))
    if cluster is None or cluster.view is None:
        survival: Survival = Quorum(MappingProxyType({}), max(1, len(section.nodes)))  # no Primary: down
    else:
        q = cluster.quorum  # the members with their pc.weight
        size = cluster.size or len(members)
        survival = Quorum(MappingProxyType({f"{DATABASE}/{m}": w for m, w in q.weights.items()}), size,
                          max(0, size - len(q.weights) - len(cluster.gone)))
    return Service(DATABASE, survival), instances


def _rabbitmq(picture: Any, section: Any, hosts: _Hosts) -> tuple[Service, list[Instance]]:
    instances = []
    for node in section.nodes:
        erlang = picture.erlang(node.name) if picture is not None else None
        erlang = erlang or node.erlang_node
        up = None
        if picture is not None and picture.majority is not None and erlang is not None:
            up = erlang in picture.majority
        observed = [(hosts.by_address.get(node.host), f"answers at {node.host}")]
        if erlang and "@" in erlang:
            observed.append((hosts.named(erlang.split("@", 1)[1]), f"Erlang name {erlang}"))
        instances.append(Instance(node.name, QUEUE, up, hosts.place(observed, node.runs_on)))
    # a running member the config does not name still counts toward the majority: named as RabbitMQ names it
    named = {i.name for i in instances}
    for erlang in sorted(picture.majority or ()) if picture is not None else ():
        if picture.label(erlang) not in named:
            where = hosts.named(erlang.split("@", 1)[1]) if "@" in erlang else None
            instances.append(Instance(erlang, QUEUE, True, hosts.place([(where, f"Erlang name {erlang}")], None)))
    expected = picture.expected if picture is not None else len(section.nodes)
    return Service(QUEUE, Majority(expected)), instances


def _floor(section: Any, *names: str | None) -> AtLeast:
    """A stateless service's survival: the capacity floor the config sets for any of its names, else 1."""
    floors = getattr(section, "capacity_floor", None) or {}
    return AtLeast(next((floors[n] for n in names if n and n in floors), 1))


def _os_services(state: Any, section: Any, hosts: _Hosts) -> tuple[list[Service], list[Instance]]:
    instances: list[Instance] = []
    binaries: dict[str, None] = {}  # in the order nova and neutron list them
    for row in state.service_rows if state is not None else []:
        binaries.setdefault(row.binary, None)
        placed = hosts.place([(hosts.named(row.host), f"{row.kind} reports host {row.host}")], None)
        instances.append(Instance(f"{row.binary}@{row.host}", row.binary, row.serving, placed))
    return [Service(b, _floor(section, b), NEEDS.get(b, ())) for b in binaries], instances


def _address(url: str | None) -> str | None:
    """The host part of a URL or of ``addr:port`` (IPv6 in brackets)."""
    if not url:
        return None
    rest = url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    return rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest


def _load_balancers(state: Any, section: Any, hosts: _Hosts, snapshot: Any) -> tuple[list[Service], list[Instance]]:
    """Each HAProxy is a service of one instance (the process on its host); each of its backends a service
    that needs it, up while one server behind it is (HAProxy's own UP, backups included)."""
    services: list[Service] = []
    instances: list[Instance] = []
    backends = state.backends if state is not None else {}
    for stats in section.haproxy:
        lb = f"{LOAD_BALANCER} {stats.name}"
        st = snapshot.get("haproxy", stats.name) if snapshot is not None else None
        up = True if stats.name in backends else False if st is not None and st.failed else None
        where = _address(stats.url)
        placed = hosts.place([(hosts.by_address.get(where or ""), f"stats at {where}")], stats.runs_on)
        services.append(Service(lb, AtLeast(1)))
        instances.append(Instance(stats.name, lb, up, placed))
        for b in backends.get(stats.name, ()):
            name = f"backend {stats.name}/{b.name}"
            services.append(Service(name, _floor(section, f"{stats.name}/{b.name}"), (lb,)))
            for srv in b.servers:
                addr = _address(srv.addr)
                observed = [(hosts.by_address.get(addr or ""), f"HAProxy server at {srv.addr}"),
                            (hosts.named(srv.name), f"HAProxy server named {srv.name}")]
                instances.append(Instance(srv.name, name, srv.serving, hosts.place(observed, None)))
    return services, instances


API = " API"  # "compute (nova) API": a catalog service, through each of its URLs
API_DATABASE = {"identity", "compute", "network", "image", "placement", "volumev3", "volume", "orchestration"}


def _backend_for(name: str, kind: str | None, backends: tuple[str, ...]) -> str | None:
    """The HAProxy backend that serves a catalog service, by name as deployers write it (``keystone``,
    ``nova_api``, ``glance_api``, ``neutron_server``, ``placement-api``): its name, or its first word, is
    the catalog service's name or type. None when no backend, or more than one, says so."""
    words = {name.lower(), (kind or "").lower()} - {""}
    exact = [b for b in backends if b.lower() in words]
    if len(exact) == 1:
        return exact[0]
    first = [b for b in backends if b.lower().replace("-", "_").split("_", 1)[0] in words]
    return first[0] if len(first) == 1 else None


def _apis(state: Any, section: Any, hosts: _Hosts, lbs: Mapping[str, Instance]) -> tuple[list[Service], list[Instance]]:
    """Each catalog service is up while one of its URLs answers; a URL is on the host its address names
    (a VIP moves: its host is the one that holds it now, as far as the config's addresses say). A URL at
    an HAProxy's ``addresses`` is on that HAProxy's host, and the service then needs its backend there
    (or the HAProxy itself when no backend is named for it)."""
    rnd = state.round if state is not None else None
    known = rnd is not None  # a fresh round: the APIs' state; else where they are, from the last one
    rnd = rnd or (state.last_round if state is not None else None)
    backends = state.backends if state is not None else {}
    vips = {a: lb for lb in (section.haproxy if section is not None else []) for a in (lb.addresses or [])}
    services: dict[str, Service] = {}
    through: dict[str, set[str | None]] = {}  # API -> what each URL goes through (None: straight to a host)
    instances: list[Instance] = []
    for p in rnd.probes if rnd is not None else ():
        if p.extra or not p.service:
            continue
        name = f"{p.what}{API}"
        services.setdefault(name, Service(name, _floor(section, p.name, p.service),
                                          (DATABASE,) if p.service in API_DATABASE else ()))
        where = _address(p.url) or ""
        lb = vips.get(where)
        if lb is not None and lb.name in lbs:
            placed = Placement(lbs[lb.name].placement.host, lbs[lb.name].placement.how,
                               f"URL at {where}, an address of HAProxy {lb.name}")
            b = _backend_for(p.name, p.service, tuple(x.name for x in backends.get(lb.name, ())))
            through.setdefault(name, set()).add(f"backend {lb.name}/{b}" if b else f"{LOAD_BALANCER} {lb.name}")
        else:
            placed = hosts.place([(hosts.by_address.get(where), f"URL at {where}")], None)
            through.setdefault(name, set()).add(None)
        instances.append(Instance(p.subject, name, p.state == ENDPOINT_OK if known else None, placed))
    for name, ways in through.items():  # needs are all-of: only when every URL goes through the same one
        if len(ways) == 1 and (way := next(iter(ways))) is not None:
            services[name] = Service(name, services[name].survival, (*services[name].needs, way))
    return list(services.values()), instances


def build(areas: Mapping[str, Any], config: Any, snapshot: Any = None) -> Topology:
    """The topology at one instant, from every area's derived state (hatui.model.cloud) and the
    snapshot (a node whose latest poll is a fresh failure is down, not unknown)."""
    hosts_section = config.section("hosts")
    match = _Hosts(hosts_section)
    host_views = {v.host.name: v for v in areas["hosts"].hosts} if areas.get("hosts") is not None else {}
    hosts = {h.name: Host(h.name, h.domains, _host_up(host_views[h.name]) if h.name in host_views else None)
             for h in (hosts_section.hosts if hosts_section is not None else [])}
    services: list[Service] = []
    instances: list[Instance] = []
    copies: tuple[Copies, ...] = ()
    if config.section("galera") is not None:
        svc, inst = _galera(areas.get("galera"), config.section("galera"), match, snapshot)
        services.append(svc)
        instances += inst
        copies += database_copies(areas.get("galera"), DATABASE)
    if config.section("rabbitmq") is not None:
        svc, inst = _rabbitmq(areas.get("rabbitmq"), config.section("rabbitmq"), match)
        services.append(svc)
        instances += inst
        copies += queue_copies(areas.get("rabbitmq"), QUEUE)
    if config.section("openstack") is not None:
        svcs, inst = _os_services(areas.get("openstack"), config.section("openstack"), match)
        services += svcs
        instances += inst
        svcs, inst = _load_balancers(areas.get("openstack"), config.section("openstack"), match, snapshot)
        services += svcs
        instances += inst
        lbs = {i.name: i for i in inst if i.service.startswith(f"{LOAD_BALANCER} ")}
        svcs, inst = _apis(areas.get("openstack"), config.section("openstack"), match, lbs)
        services += svcs
        instances += inst
    names = {s.name for s in services}
    services = [Service(s.name, s.survival, tuple(n for n in s.needs if n in names)) for s in services]
    rpc = _rpc_links(areas.get("rabbitmq"), match, {i.key for i in instances})
    return Topology(MappingProxyType(hosts), MappingProxyType({s.name: s for s in services}), tuple(instances),
                    MappingProxyType(rpc), copies)


def _rpc_links(picture: Any, hosts: _Hosts, known: set[str]) -> dict[str, frozenset[str]]:
    """os-service instance key -> the queue instances it is connected to: the client's address names its
    host (``binary@host`` as nova and neutron report it), the broker's node name the queue instance."""
    clients = getattr(picture, "clients", None)
    if clients is None:
        return {}
    out: dict[str, set[str]] = {}
    for link in clients.links:
        host = hosts.by_address.get(link.peer)
        client = f"{link.binary}/{link.binary}@{host}"
        node = f"{QUEUE}/{picture.label(link.node)}"
        if host is not None and client in known and node in known:
            out.setdefault(client, set()).add(node)
    return {k: frozenset(v) for k, v in out.items()}
