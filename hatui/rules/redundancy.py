"""SPOFs from the model: a host or a failure domain (power feed, rack, switch) whose failure alone would
take a service down now, with the chain of what follows (hatui.model.redundancy); and a load balancer
that is the only way to its backends.

A single Galera or RabbitMQ node or os-service that is a SPOF is reported by its area's rules
(``galera.quorum_spof:db-1``, the services' 1/1 rows): these rules name what no area can see on its own.
"""
from __future__ import annotations

from collections.abc import Iterator

from hatui.model import Finding, FindingKind, Severity
from hatui.model.redundancy import HOST, INSTANCE, Loss, hosts_of
from hatui.model.topology import DATABASE, DOMAIN_WORDS, LOAD_BALANCER, QUEUE, Topology
from hatui.rules import RuleContext, finding
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


def load_balancer_spof(ctx: RuleContext) -> Iterator[Finding]:
    top = ctx.cloud.topology
    for e, losses in ctx.cloud.single_points:
        inst = top.instance(e.name) if top is not None and e.kind == INSTANCE else None
        if inst is None or not inst.service.startswith(LOAD_BALANCER):
            continue
        where = f"on {inst.placement.host}" if inst.placement.host else "on a host hatui cannot tell"
        yield finding(SOURCE, "spof", inst.name, Severity.WARNING,
                      f"{inst.name} (the only HAProxy in front of its backends, {where}): losing it takes down "
                      f"{chain(losses)}", kind=FindingKind.SPOF)


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


RULES = [equipment_spof, load_balancer_spof, durability_spof]
