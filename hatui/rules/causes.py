"""Root cause: a failure explained by another through the model carries ``caused_by`` (the root's id).

- a host powered off (its BMC says Off) or unreachable explains its instances' failures and its other
  network findings; a power feed with every host off, or a switch with every host unreachable
  (hatui.rules.hosts), explains those hosts' findings in turn;
- a cluster that lost members (``galera.size``, ``rabbitmq.size``) is explained when every missing member
  is on hosts explained by one root;
- the database without a Primary component, or the message queue without a majority or blocking its
  publishers, explains the os-services that need it (hatui.model.topology.NEEDS).

Only failures are folded: a SPOF a failure leaves behind stays in view, it is what not to touch next.
A finding never explains itself; a group explains a child only when all its members failed (the
domain rules say so). Pure: findings and the topology in, the same findings with ``caused_by`` out.
"""
from __future__ import annotations

from dataclasses import replace

from hatui.model import Finding, FindingKind
from hatui.model.topology import API, DATABASE, QUEUE, Topology

INSTANCE_SOURCES = {"galera": DATABASE, "rabbitmq": QUEUE, "rabbitmq-amqp": QUEUE}
# findings that mean a service everyone needs is out, by condition
SERVICE_OUT = {("galera", "no_primary"): DATABASE, ("galera", "non_primary"): DATABASE,  # cluster first
               ("rabbitmq", "no_majority"): QUEUE, ("rabbitmq", "publishers_blocked"): QUEUE,
               ("rabbitmq", "mem_alarm"): QUEUE, ("rabbitmq", "disk_alarm"): QUEUE}
CLUSTER_SIZE = {("galera", "size"): DATABASE, ("rabbitmq", "size"): QUEUE}
# APIs and the os-service lists (their targets are "nova", "neutron") answer from the database
# (each project's architecture: every API worker reads its state there)
API_NEEDS = {"identity": DATABASE, "compute": DATABASE, "network": DATABASE, "image": DATABASE,
             "placement": DATABASE, "volumev3": DATABASE, "nova": DATABASE, "neutron": DATABASE}
ALARMS = ("mem_alarm", "disk_alarm")


def _host_roots(findings: list[Finding], top: Topology) -> dict[str, str]:
    """Host -> the id of the finding that is the root of its trouble (a domain's, else its own)."""
    own: dict[str, str] = {}
    for f in findings:
        if f.source == "hosts" and f.condition == "power_off":
            own[f.subject] = f.id
        elif f.source == "hosts" and f.condition == "unreachable":
            own.setdefault(f.subject, f.id)
    domains = top.domains()
    for f in findings:
        if f.source == "hosts" and f.condition in ("feed_off", "switch_down") and f.subject in domains:
            for host in domains[f.subject][1]:
                own[host] = f.id
    return own


def _instance_hosts(top: Topology) -> dict[str, str]:
    return {i.key: i.placement.host for i in top.instances if i.placement.host is not None}


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
        host = None
        if f.source == "hosts" and f.subject in top.hosts:
            host = f.subject
        elif f.source in INSTANCE_SOURCES:
            host = placed.get(f"{INSTANCE_SOURCES[f.source]}/{f.subject}")
        elif f.source == "services":
            host = placed.get(f"{f.subject.split('@', 1)[0]}/{f.subject}")
        elif f.source == "haproxy" and f.condition == "server_down":
            host = _host_named(top, f.subject.rsplit("/", 1)[-1])
        elif f.source == "endpoint":
            host = next((i.placement.host for i in top.instances if i.name == f.subject and i.service.endswith(API)),
                        None)
        root = roots.get(host) if host is not None else None
        if root is not None and root != f.id:
            out[f.id] = root
    for f in findings:  # a cluster short of members, every missing one down for one reason
        cluster = CLUSTER_SIZE.get((f.source, f.condition))
        if cluster is None or f.id in out:
            continue
        missing = [i for i in top.of(cluster) if not i.up]
        why = {roots.get(placed.get(i.key, "")) for i in missing}
        root = next(iter(why)) if missing and len(why) == 1 else None
        if root is not None:
            out[f.id] = root
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
        need = next((n for n in needs if n in out_services), None)
        if need is not None:
            cause = out_services[need]
            out[f.id] = out.get(cause, cause)
    return out


def _host_named(top: Topology, name: str) -> str | None:
    return name if name in top.hosts else None


def explain(findings: list[Finding], top: Topology | None) -> list[Finding]:
    found = causes(findings, top)
    return [replace(f, caused_by=found[f.id]) if f.id in found else f for f in findings]
