"""Root cause: a failure explained by another through the model carries ``caused_by`` (the root's id).

- a host powered off (its BMC says Off) or unreachable explains its instances' failures and its other
  network findings; a power feed with every host off, or a switch with every host unreachable
  (hatui.rules.hosts), explains those hosts' findings in turn;
- a cluster that lost members (``galera.size``, ``rabbitmq.size``) or its quorum (no Primary component,
  no majority) is explained when every missing member is on hosts explained by one root;
- the HAProxy's own findings and Keystone's follow their host (Keystone's: the identity API's URLs);
  an API endpoint (or Keystone's login, or a service list through its API) slow or down while a server
  behind its backend, or behind Keystone's (every API checks tokens with it), is on a host in trouble
  follows that host's cause (HAProxy retries the dead server until its health check marks it DOWN);
  the service lists (nova, neutron) follow a failing login (Keystone) or a failing API endpoint;
- an os-service down while a RabbitMQ node it was connected to (its RPC connection, hatui.model.
  rabbitmq_clients) is down follows that node's cause: the client waits for its heartbeat to give up;
  so does one down while an instance of a service it calls died with its host (a call in flight is lost);
- the database without a Primary component, or the message queue without a majority or blocking its
  publishers, explains the os-services that need it (hatui.model.topology.NEEDS);
- a rack whose every host takes in hot air (``sensors.cooling``, hatui.rules.facility) explains its hosts'
  temperature findings.

Only failures are folded: a SPOF a failure leaves behind stays in view, it is what not to touch next.
A finding never explains itself; a group explains a child only when all its members failed (the
domain rules say so). Pure: findings and the topology in, the same findings with ``caused_by`` out.
"""
from __future__ import annotations

from dataclasses import replace

from hatui.model import Finding, FindingKind
from hatui.model.topology import API, DATABASE, LOAD_BALANCER, QUEUE, Instance, Topology

INSTANCE_SOURCES = {"galera": DATABASE, "rabbitmq": QUEUE, "rabbitmq-amqp": QUEUE}
# findings that mean a service everyone needs is out, by condition
SERVICE_OUT = {("galera", "no_primary"): DATABASE, ("galera", "non_primary"): DATABASE,  # cluster first
               ("rabbitmq", "no_majority"): QUEUE, ("rabbitmq", "publishers_blocked"): QUEUE,
               ("rabbitmq", "mem_alarm"): QUEUE, ("rabbitmq", "disk_alarm"): QUEUE}
# a cluster short of members, or out of quorum (a survivor left in a non-Primary component among them)
CLUSTER_SIZE = {("galera", "size"): DATABASE, ("rabbitmq", "size"): QUEUE, ("galera", "no_primary"): DATABASE,
                ("galera", "non_primary"): DATABASE, ("rabbitmq", "no_majority"): QUEUE,
                ("rabbitmq-clients", "unreachable"): QUEUE}  # no node left to list the connections
# APIs and the os-service lists (their targets are "nova", "neutron") answer from the database
# (each project's architecture: every API worker reads its state there)
API_NEEDS = {"identity": DATABASE, "compute": DATABASE, "network": DATABASE, "image": DATABASE,
             "placement": DATABASE, "volumev3": DATABASE, "nova": DATABASE, "neutron": DATABASE}
ALARMS = ("mem_alarm", "disk_alarm")
LIST_API = {"nova": "compute", "neutron": "network"}  # service-list target -> the catalog API it asks


def _host_roots(findings: list[Finding], top: Topology) -> dict[str, str]:
    """Host -> the id of the finding that is the root of its trouble (a domain's, else its own)."""
    own: dict[str, str] = {}
    for f in findings:
        if f.source == "hosts" and f.condition == "power_off":
            own[f.subject] = f.id
        elif f.source == "hosts" and f.condition == "unreachable":
            own.setdefault(f.subject, f.id)
    domains = top.domains()
    down = [f for f in findings if f.source == "hosts" and f.condition in ("feed_off", "switch_down")
            and f.subject in domains]
    failed = {f.subject for f in down}
    for f in down:  # the hosts it takes down (a host on two switches needs both gone)
        for host in domains[f.subject][1]:
            if top.hosts[host].lost_with(failed):
                own[host] = f.id
    return own


def _instance_hosts(top: Topology) -> dict[str, str]:
    return {i.key: i.placement.host for i in top.instances if i.placement.host is not None}


def instance_key(f: Finding) -> str | None:
    """The instance a finding is about (``database/db-2``, ``nova-conductor/nova-conductor@ctl-1``)."""
    if f.source in INSTANCE_SOURCES:
        return f"{INSTANCE_SOURCES[f.source]}/{f.subject}"
    if f.source == "services" and "@" in f.subject:
        return _service_key(f.subject)
    return None


def host_of(f: Finding, top: Topology, placed: dict[str, str] | None = None) -> str | None:
    """The host a finding is about: its own subject, its instance's host, the host of the API's URLs."""
    placed = placed if placed is not None else _instance_hosts(top)
    if f.source == "hosts" and f.subject in top.hosts:
        return f.subject
    if (key := instance_key(f)) is not None:
        return placed.get(key)
    if f.source == "haproxy" and f.condition == "server_down":
        return _host_named(top, f.subject.rsplit("/", 1)[-1])
    if f.source == "endpoint":
        return _api_host(top, f.subject)
    if f.source == "haproxy":  # the HAProxy itself: its stats do not answer
        return next((i.placement.host for i in top.instances
                     if i.name == f.subject and i.service.startswith(LOAD_BALANCER)), None)
    if f.source == "keystone":  # the login goes to the identity API, wherever its URLs are
        return _api_host(top, "identity")
    return None


def causes(findings: list[Finding], top: Topology | None) -> dict[str, str]:
    """Finding id -> the id of its root cause, for every failure the model explains."""
    if top is None:
        return {}
    roots = _host_roots(findings, top)
    placed = _instance_hosts(top)
    out: dict[str, str] = {}
    for f in findings:
        if f.kind != FindingKind.FAILURE:
            continue
        host = host_of(f, top, placed)
        root = roots.get(host) if host is not None else None
        if root is not None and root != f.id:
            out[f.id] = root
    for f in findings:  # a cluster short of members, or out of quorum, for one reason
        cluster = CLUSTER_SIZE.get((f.source, f.condition))
        if cluster is None or f.id in out:
            continue
        root = _cluster_root(top.of(cluster), {i.key: roots.get(placed.get(i.key, "")) for i in top.of(cluster)})
        if root is not None:
            out[f.id] = root
    for f in findings:  # an RPC client whose connection was on a node that went away, or whose call was in
        # the hands of a server instance that died (nova-compute reports through nova-conductor: a conductor
        # killed with the request unanswered loses it, and the report times out)
        if f.kind != FindingKind.FAILURE or f.source != "services" or f.id in out or "@" not in f.subject:
            continue
        why = {_node_cause(top, node, roots, placed, findings) for node in top.rpc.get(_service_key(f.subject), ())}
        client = top.services.get(f.subject.split("@", 1)[0])
        for called in client.needs if client else ():
            why |= {roots.get(i.placement.host or "") for i in top.of(called) if i.up is False}
        why.discard(None)
        if len(why) == 1:
            cause = why.pop()
            assert cause is not None
            out[f.id] = out.get(cause, cause)
    for f in findings:  # no instance of a binary up, every one down for one reason
        if f.kind != FindingKind.FAILURE or f.source != "services" or f.condition != "none_up" or f.id in out:
            continue
        why = {out.get(g.id) for g in findings if g.source == "services" and g.condition == "down"
               and g.subject.split("@", 1)[0] == f.subject}
        if len(why) == 1 and (root := why.pop()) is not None:
            out[f.id] = root
    for f in findings:  # an API slow or failing while a server behind its backend is down with its host
        api = _api_asked(f)
        if f.kind != FindingKind.FAILURE or api is None or f.id in out:
            continue
        # (on the server's host's root: HAProxy takes a few checks to mark a dead server DOWN). Every API
        # also asks Keystone about the caller's token (keystonemiddleware): Keystone's servers count too.
        backends = _backends_of(top, api) | _backends_of(top, "identity")
        hosts = {i.placement.host for b in backends for i in top.of(f"backend {b}")}
        behind = {roots[h] for h in hosts if h is not None and h in roots}
        if len(behind) == 1:
            out[f.id] = behind.pop()
    # The service lists log in through Keystone and then ask the API: no token or no API explains them
    # before anything behind the API does.
    login = next((f.id for f in findings if f.source == "keystone" and f.kind == FindingKind.FAILURE), None)
    for f in findings:
        if f.source != "services" or f.subject not in LIST_API or f.kind != FindingKind.FAILURE or f.id in out:
            continue
        api = next((g.id for g in findings if g.source == "endpoint" and g.subject == LIST_API[f.subject]
                    and g.kind == FindingKind.FAILURE), None)
        cause = login or api
        if cause is not None:
            out[f.id] = out.get(cause, cause)
    alarm = next((f.id for f in findings if f.source == "rabbitmq" and f.condition in ALARMS), None)
    for f in findings:  # publishers blocked by a node's resource alarm
        if f.source == "rabbitmq" and f.condition == "publishers_blocked" and alarm is not None:
            out[f.id] = alarm
    out_services: dict[str, str] = {}  # service -> the finding saying it is out, the first in SERVICE_OUT's order
    for (source, condition), name in SERVICE_OUT.items():
        hit = next((f.id for f in findings if (f.source, f.condition) == (source, condition)), None)
        if hit is not None:
            out_services.setdefault(name, hit)
    for f in findings:  # os-services and APIs failing on a service they need
        if f.kind != FindingKind.FAILURE or f.id in out:
            continue
        needs: tuple[str, ...] = ()
        if f.source == "services" and f.subject in API_NEEDS:
            needs = (API_NEEDS[f.subject],)  # the service list itself: the API answers from the database
        elif f.source == "services":
            service = top.services.get(f.subject.split("@", 1)[0])
            needs = service.needs if service else ()
        elif f.source == "endpoint" and f.subject in API_NEEDS:
            needs = (API_NEEDS[f.subject],)
        elif f.source == "keystone" and f.condition in ("unreachable", "slow"):
            needs = (API_NEEDS["identity"],)  # the token check reads users, roles and the catalog there
        need = next((n for n in needs if n in out_services), None)
        if need is not None:
            cause = out_services[need]
            out[f.id] = out.get(cause, cause)
    cooling = {f.subject: f.id for f in findings if f.source == "sensors" and f.condition == "cooling"}
    if cooling:  # a host running hot in a rack whose every host does: the rack's (or room's) cooling
        racks = {name: hosts for name, (kind, hosts) in top.domains().items() if kind == "rack" and name in cooling}
        for f in findings:
            if f.source == "sensors" and f.condition == "temperature" and f.id not in out:
                rack = next((r for r, hosts in racks.items() if f.subject in hosts), None)
                if rack is not None:
                    out[f.id] = cooling[rack]
    # each to its root: a step above may have named a cause that a later step explained (the service lists
    # follow Keystone's login, which follows the database)
    for fid in list(out):
        root, seen = out[fid], {fid}
        while root in out and root not in seen:
            seen.add(root)
            root = out[root]
        if root != fid:  # never its own cause, even through a loop
            out[fid] = root
    return out


def _cluster_root(members: tuple[Instance, ...], lost_to: dict[str, str | None]) -> str | None:
    """The one root that took members of a cluster down, when it explains all that is wrong with it:
    every other member is up, or the others are no majority by themselves (the survivors of a power
    feed's loss sit in a non-Primary component, or paused, because of it). A member down on a healthy
    host while the others could have kept quorum is a second failure: nothing is folded."""
    rooted = {r for r in lost_to.values() if r is not None}
    if len(rooted) != 1:
        return None
    rest = [i for i in members if lost_to[i.key] is None]
    if all(i.up for i in rest) or 2 * len(rest) <= len(members):
        return next(iter(rooted))
    return None


def _service_key(subject: str) -> str:
    """``nova-compute@cmp-1`` -> its instance key ``nova-compute/nova-compute@cmp-1``."""
    return f"{subject.split('@', 1)[0]}/{subject}"


def _node_cause(top: Topology, node: str, roots: dict[str, str], placed: dict[str, str],
                findings: list[Finding]) -> str | None:
    """Why a queue instance is down: its host's root, else its own failure; None while it is up."""
    inst = top.instance(node)
    if inst is None or inst.up is not False:
        return None
    root = roots.get(placed.get(node, ""))
    if root is not None:
        return root
    name = node.split("/", 1)[1]
    return next((f.id for f in findings if f.source == "rabbitmq" and f.subject == name
                 and f.kind == FindingKind.FAILURE), None)


def _api_asked(f: Finding) -> str | None:
    """The catalog type of the API a target's polls go to: an endpoint's own, Keystone's login, the
    service lists' compute and network APIs."""
    if f.source == "endpoint":
        return f.subject
    if f.source == "keystone":
        return "identity"
    if f.source == "services":
        return LIST_API.get(f.subject)
    return None


def _backends_of(top: Topology, catalog_type: str) -> set[str]:
    """``lb/nova_api`` for the compute API when all its URLs go through that backend (what it needs)."""
    services = {i.service for i in top.instances if i.name == catalog_type and i.service.endswith(API)}
    return {n.removeprefix("backend ") for s in services if s in top.services
            for n in top.services[s].needs if n.startswith("backend ")}


def _api_host(top: Topology, catalog_type: str) -> str | None:
    """The one host every URL of a catalog service is on (None: none known, or several)."""
    on = {i.placement.host for i in top.instances if i.name == catalog_type and i.service.endswith(API)}
    return next(iter(on)) if len(on) == 1 else None


def _host_named(top: Topology, name: str) -> str | None:
    return name if name in top.hosts else None


def explain(findings: list[Finding], top: Topology | None) -> list[Finding]:
    found = causes(findings, top)
    return [replace(f, caused_by=found[f.id]) if f.id in found else f for f in findings]
