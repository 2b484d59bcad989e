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
from hatui.model.topology import DATABASE, QUEUE, Topology

INSTANCE_SOURCES = {"galera": DATABASE, "rabbitmq": QUEUE, "rabbitmq-amqp": QUEUE}
# findings that mean a service everyone needs is out, by condition
SERVICE_OUT = {("galera", "no_primary"): DATABASE, ("galera", "non_primary"): DATABASE,
               ("rabbitmq", "no_majority"): QUEUE, ("rabbitmq", "publishers_blocked"): QUEUE,
               ("rabbitmq", "mem_alarm"): QUEUE, ("rabbitmq", "disk_alarm"): QUEUE}
CLUSTER_SIZE = {("galera", "size"): DATABASE, ("rabbitmq", "size"): QUEUE}


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
    out_services = {name: f.id for f in findings if (name := SERVICE_OUT.get((f.source, f.condition)))}
    for f in findings:  # os-services failing on a service they need
        if f.kind != FindingKind.FAILURE or f.source != "services" or f.id in out:
            continue
        binary = f.subject.split("@", 1)[0]
        service = top.services.get(binary)
        need = next((n for n in (service.needs if service else ()) if n in out_services), None)
        if need is not None:
            cause = out_services[need]
            out[f.id] = out.get(cause, cause)
    return out


def explain(findings: list[Finding], top: Topology | None) -> list[Finding]:
    found = causes(findings, top)
    return [replace(f, caused_by=found[f.id]) if f.id in found else f for f in findings]
