"""Equipment SPOFs: a host or a failure domain (power feed, rack, switch) whose failure alone would take
a service down now, with the chain of what follows (hatui.model.redundancy).

A single instance that is a SPOF is reported by its area's rules (``galera.quorum_spof:db-1``, the
services' 1/1 rows): this rule names the equipment under them, which no area can see on its own.
"""
from __future__ import annotations

from collections.abc import Iterator

from hatui.model import Finding, FindingKind, Severity
from hatui.model.redundancy import HOST, INSTANCE, Loss
from hatui.model.topology import DOMAIN_WORDS, Topology
from hatui.rules import RuleContext, finding

SOURCE = "redundancy"


def chain(losses: dict[str, Loss]) -> str:
    """``the database (quorum lost (1 of 3 left): db-1, db-2 lost) -> nova-conductor, nova-scheduler``"""
    direct = [loss for loss in losses.values() if not loss.via]
    follow = [loss.service for loss in losses.values() if loss.via]
    words = "; ".join(f"the {loss.service} ({loss.why})" for loss in direct)
    return words + (f" -> {', '.join(follow)}" if follow else "")


def _what(top: Topology, kind: str, name: str) -> str:
    if kind == HOST:
        on = sorted(i.name for i in top.on(name) if i.up)
        return f"{name} (host of {', '.join(on)})" if on else f"{name} (host)"
    domain, hosts = top.domains()[name]
    return f"{name} ({DOMAIN_WORDS[domain]} of {', '.join(hosts)})"


def equipment_spof(ctx: RuleContext) -> Iterator[Finding]:
    top = ctx.cloud.topology
    if top is None or not top.hosts:
        return
    for element, losses in ctx.cloud.single_points:
        if element.kind == INSTANCE:
            continue  # the area rules name a single instance
        yield finding(SOURCE, "spof", element.name, Severity.WARNING,
                      f"{_what(top, element.kind, element.name)}: losing it takes down {chain(losses)}",
                      kind=FindingKind.SPOF)


RULES = [equipment_spof]
