"""SPOFs from the model, one engine and one vocabulary: every element whose failure alone would take a
service down now (hatui.model.redundancy's N-1) is ``<area>.spof:<element>``, and every one whose failure
alone would lose data ``<area>.durability_spof:<element>``, with the chain of what follows.

The area is the element's: a Galera node ``galera.spof:db-1``, a RabbitMQ node ``rabbitmq.spof:mq-1``, an
os-service ``services.spof:nova-conductor@ctl-1``, an HAProxy ``haproxy.spof:lb-1`` and a server behind it
``haproxy.spof:lb-1/nova_api/ctl-1``; a host or a failure domain, which belongs to no area,
``redundancy.spof:ctl-1``. Each area words its own (its module's ``spof_words``); these rules run whenever
anything changed, since a chain crosses areas.
"""
from __future__ import annotations

from collections.abc import Iterator

from hatui.model import Finding, FindingKind, Severity
from hatui.model.redundancy import HOST, INSTANCE, Loss, hosts_of
from hatui.model.survival import AtLeast
from hatui.model.topology import API, DATABASE, DOMAIN_WORDS, LOAD_BALANCER, QUEUE, Instance, Topology
from hatui.rules import RuleContext, finding, galera, rabbitmq
from hatui.rules.openstack import haproxy, services
from hatui.words import data_words

SOURCE = "redundancy"


def chain(losses: dict[str, Loss]) -> str:
    """``the database (quorum lost (1 of 3 left): db-1, db-2 lost) -> nova-conductor, nova-scheduler``"""
    direct = [loss for loss in losses.values() if not loss.via]
    follow = [loss.service for loss in losses.values() if loss.via]
    words = "; ".join(f"the {loss.service} ({loss.why})" for loss in direct)
    return words + (f" -> {', '.join(follow)}" if follow else "")


def _what(top: Topology, kind: str, name: str) -> str:
    if kind == HOST:
        runs = sorted({i.service for i in top.on(name) if i.up})
        return f"{name} (host running {', '.join(runs)})" if runs else f"{name} (host)"
    domain, hosts = top.domains()[name]
    return f"{name} ({DOMAIN_WORDS[domain]} of {', '.join(hosts)})"


def equipment_spof(ctx: RuleContext) -> Iterator[Finding]:
    """One finding per host or domain that alone takes a service down. A domain that does so only
    through one of its hosts (the same losses) is said in that host's finding, not on its own."""
    top = ctx.cloud.topology
    if top is None or not top.hosts:
        return
    points = [(e, losses) for e, losses in ctx.cloud.single_points if e.kind != INSTANCE]  # instances: areas'
    by_host = {e.name: losses for e, losses in points if e.kind == HOST}
    domains = top.domains()
    via: dict[str, list[str]] = {}  # host -> its domains said with it
    for e, losses in points:
        if e.kind == HOST:
            continue
        host = next((h for h in domains[e.name][1] if by_host.get(h) == losses), None)
        if host is not None:
            via.setdefault(host, []).append(f"{DOMAIN_WORDS[e.kind]} {e.name}")
            continue
        yield finding(SOURCE, "spof", e.name, Severity.WARNING,
                      f"{_what(top, e.kind, e.name)}: losing it takes down {chain(losses)}", kind=FindingKind.SPOF)
    for name, losses in by_host.items():
        also = f" (or its {', '.join(via[name])})" if name in via else ""
        yield finding(SOURCE, "spof", name, Severity.WARNING,
                      f"{_what(top, HOST, name)}: losing it{also} takes down {chain(losses)}", kind=FindingKind.SPOF)


BACKEND = "backend "  # a backend's service name: "backend <lb>/<backend>"


def follows(losses: dict[str, Loss], own: str) -> str:
    """What else an instance's loss takes down beyond its own service: `` -> nova-conductor, ...``."""
    rest = [loss.service for loss in losses.values() if loss.service != own]
    return f" -> {', '.join(rest)}" if rest else ""


def _lb_words(inst: Instance) -> str:
    where = f"on {inst.placement.host}" if inst.placement.host else "on a host hatui cannot tell"
    return f"{inst.name}: the only HAProxy in front of its backends, {where}: its loss takes down {inst.service}"


def _spof(ctx: RuleContext, inst: Instance) -> tuple[str, str, str | None] | None:
    """(area, subject, words) of a SPOF instance; None where no area claims it: a catalog URL is not a
    process (its host, or the HAProxy it goes through, is the single point)."""
    service = inst.service
    if service == DATABASE:
        return "galera", inst.name, galera.spof_words(ctx, inst.name)
    if service == QUEUE:
        return "rabbitmq", inst.name, rabbitmq.spof_words(ctx, inst.name)
    if service.startswith(LOAD_BALANCER):
        return "haproxy", inst.name, _lb_words(inst)
    if service.startswith(BACKEND):
        lb, backend = service.removeprefix(BACKEND).split("/", 1)
        return "haproxy", f"{lb}/{backend}/{inst.name}", haproxy.spof_words(ctx, lb, backend, inst.name)
    if service.endswith(API):
        return None
    binary, _, host = inst.name.partition("@")
    return "services", inst.name, services.spof_words(ctx, binary, host)


def instance_spof(ctx: RuleContext) -> Iterator[Finding]:
    """One finding per instance whose loss alone takes its service down, in its area's words, with what
    follows from it (``db-1: ... without quorum (non-Primary) -> nova-conductor, nova-scheduler``)."""
    top = ctx.cloud.topology
    for e, losses in ctx.cloud.single_points:
        inst = top.instance(e.name) if top is not None and e.kind == INSTANCE else None
        said = _spof(ctx, inst) if inst is not None else None
        if inst is None or said is None or said[2] is None:
            continue
        area, subject, words = said
        yield finding(area, "spof", subject, Severity.WARNING, f"{words}{follows(losses, inst.service)}",
                      kind=FindingKind.SPOF)


def below_floor(ctx: RuleContext) -> Iterator[Finding]:
    """A service still serving, but on fewer instances than its configured capacity floor: down as the
    model counts it (what needs it follows), and said here, since no area's rule knows the floor."""
    top = ctx.cloud.topology
    for name, loss in ctx.cloud.down.items():
        svc = top.services.get(name) if top is not None else None
        floor = svc.survival.k if svc is not None and isinstance(svc.survival, AtLeast) else 1
        up = len(top.alive(name)) if top is not None else 0
        if floor > 1 and not loss.via and up:
            yield finding(SOURCE, "below_floor", name, Severity.CRITICAL,
                          f"{name}: {up} serving, below its capacity floor of {floor}")


DATA_SOURCES = {DATABASE: "galera", QUEUE: "rabbitmq"}  # an instance's durability finding: its area's


def durability_spof(ctx: RuleContext) -> Iterator[Finding]:
    """Durability N-1: each element whose failure alone would lose data now (the only synced copy of the
    database; quorum queues and streams at their majority; classic mirrored queues without a synchronised
    mirror). An instance's finding is its area's (``galera.durability_spof:db-1``); a host or domain has its
    own (``redundancy.durability_spof:pdu-a``) unless it loses exactly what one of its instances does."""
    top = ctx.cloud.topology
    if top is None:
        return
    by_instance = {e.name: hit for e, hit in ctx.cloud.durability if e.kind == INSTANCE}
    for e, hit in ctx.cloud.durability:
        if e.kind == INSTANCE:
            inst = top.instance(e.name)
            if inst is None or inst.service not in DATA_SOURCES:
                continue
            details = []
            erlang = ctx.cloud.rabbitmq.erlang(inst.name) if inst.service == QUEUE and ctx.cloud.rabbitmq else None
            if erlang:
                details.append(erlang)
            if inst.placement.host:
                details.append(f"on {inst.placement.host}")
            who = inst.name + (f" ({', '.join(details)})" if details else "")
            yield finding(DATA_SOURCES[inst.service], "durability_spof", inst.name, Severity.WARNING,
                          f"{who}: {'; '.join(data_words(hit))}", kind=FindingKind.SPOF)
            continue
        hosts = {e.name} if e.kind == HOST else hosts_of(top, [e])
        if any(by_instance.get(k) == hit for h in hosts for k in top.keys_on(h)):
            continue  # said by that instance's finding
        what = _what(top, e.kind, e.name) if e.kind == HOST or e.name in top.domains() else e.name
        yield finding(SOURCE, "durability_spof", e.name, Severity.WARNING,
                      f"{what}: losing it loses data: {'; '.join(data_words(hit))}", kind=FindingKind.SPOF)


RULES = [equipment_spof, instance_spof, below_floor, durability_spof]
