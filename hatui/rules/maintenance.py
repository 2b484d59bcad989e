"""Maintenance: the failures an operator caused on purpose are muted, the redundancy they cost is not.

An element under maintenance is a host, a failure domain (power feed, rack, switch: its hosts) or an
instance (``db-2``, ``database/db-2``), named as ``ok-to-stop`` names them. A failure is muted when it
is about such an element (its subject, its instance, or the host it is on), or when its root cause is a
muted failure (the host powered off for maintenance explains its Galera node's silence). A muted
finding stays in view, marked, and leaves the status alone (``check``'s exit code, the header, the
alerts). A SPOF is never muted: what the maintenance leaves without redundancy is what not to touch
next. Pure: findings, the topology and the names in; the same findings, some with ``maintenance``, out.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from hatui.model import Finding, FindingKind
from hatui.model.redundancy import INSTANCE, find, hosts_of
from hatui.model.topology import Topology
from hatui.rules.causes import host_of, instance_key


def mute(findings: list[Finding], top: Topology | None, names: Iterable[str]) -> list[Finding]:
    names = sorted(set(names))
    if not names:
        return findings
    hosts: dict[str, str] = {}      # host -> the name under maintenance that covers it
    instances: dict[str, str] = {}  # instance key -> that name
    if top is not None:
        for name in names:
            e = find(top, name)
            if e is None:
                continue
            if e.kind == INSTANCE:
                instances[e.name] = name
            else:
                for h in hosts_of(top, [e]):
                    hosts.setdefault(h, name)
    direct = set(names)

    def why(f: Finding) -> str | None:
        if f.subject in direct:
            return f.subject
        key = instance_key(f)
        if key is not None and key in instances:
            return instances[key]
        host = host_of(f, top) if top is not None else None
        return hosts.get(host) if host is not None else None

    muted = {f.id: m for f in findings if f.kind == FindingKind.FAILURE and (m := why(f)) is not None}
    for f in findings:  # consequences of a muted root: its cause was planned
        if f.kind == FindingKind.FAILURE and f.id not in muted and f.caused_by in muted:
            muted[f.id] = muted[f.caused_by]
    return [replace(f, maintenance=muted[f.id]) if f.id in muted else f for f in findings]
