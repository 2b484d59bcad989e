"""``hatui ok-to-stop ELEMENT...``: can these hosts, domains or instances be taken down now?

One poll round (as ``check``), then the redundancy engine on the topology it shows. Exit codes:
0 every service stays up and redundant; 1 every service stays up, but some would then have a single
point of failure; 2 a service would go down; 3 cannot tell (an unknown element, no poll answered).
"""
from __future__ import annotations

import asyncio
import json

from hatui.config import Config
from hatui.faces.check import one_round
from hatui.faces.jsonout import iso
from hatui.model.redundancy import HOST, INSTANCE, Element, Verdict, find, ok_to_stop
from hatui.model.topology import Topology

WORDS = {0: "OK to stop", 1: "OK to stop, but without redundancy after", 2: "NOT OK to stop",
         3: "cannot tell whether it is OK to stop"}


def _names(top: Topology, elements: tuple[Element, ...]) -> list[str]:
    """Hosts and domains by name; an instance as ``database ctl-2``, and left out when its host is listed."""
    hosts = {e.name for e in elements if e.kind == HOST}
    out = []
    for e in elements:
        inst = top.instance(e.name) if e.kind == INSTANCE else None
        if inst is None:
            out.append(e.name)
        elif inst.placement.host not in hosts:
            out.append(f"{inst.service} {inst.name}")
    return out


def verdict_json(v: Verdict, top: Topology) -> dict:
    return {
        "verdict": WORDS[v.code], "code": v.code, "stop": _names(top, v.stopped),
        "down": {name: {"why": loss.why, "via": loss.via or None} for name, loss in v.down.items()},
        "without_redundancy": {name: _names(top, by) for name, by in v.exposed.items()},
        "without_redundancy_now": {name: _names(top, by) for name, by in v.exposed_now.items()},
        "placement_unknown": {name: list(inst) for name, inst in v.unplaced.items()},
        "down_now": {name: loss.why for name, loss in v.down_now.items()},
        "state_unknown": {name: list(inst) for name, inst in v.unknown.items()},
        "runs_there": {e.name: sorted(i.name for i in top.on(e.name)) for e in v.stopped if e.kind == HOST},
    }


def verdict_text(v: Verdict, top: Topology) -> list[str]:
    lines = [f"{WORDS[v.code]}: {', '.join(_names(top, v.stopped))}"]
    for name, loss in v.down_now.items():
        lines.append(f"  down already: {name} ({loss.why})")
    for name, loss in v.down.items():
        lines.append(f"  goes down: {name} ({loss.why})")
    for name, inst in v.unknown.items():
        lines.append(f"  state unknown: {', '.join(inst)} ({name}): no fresh answer")
    for name, by in v.exposed.items():
        now = v.exposed_now.get(name, ())
        was = f"; now only {', '.join(_names(top, now))}" if now else "; now none"
        if set(by) == set(now):
            was = " (as now)"
        lines.append(f"  left without redundancy: {name}: then down with any one of {', '.join(_names(top, by))}{was}")
    for name, inst in v.unplaced.items():
        lines.append(f"  cannot tell where {', '.join(inst)} ({name}) run: a shared host would be a SPOF")
    return lines


def run_ok_to_stop(config: Config, names: list[str], as_json: bool) -> int:
    a = asyncio.run(one_round(config))
    top = a.cloud.topology
    if top is None:
        print(f"hatui: cannot tell: the topology could not be built ({a.cloud.errors.get('topology')})")
        return 3
    elements: list[Element] = []
    unknown: list[str] = []
    for name in names:
        e = find(top, name)
        if e is None:
            unknown.append(name)
        else:
            elements.append(e)
    if unknown:
        known = sorted({*top.hosts, *top.domains(), *(i.key for i in top.instances)})
        print(f"hatui: cannot tell: no element named {', '.join(unknown)} (known: {', '.join(known)})")
        return 3
    v = ok_to_stop(top, elements)
    if as_json:
        print(json.dumps({"checked_at": iso(a.snapshot.taken_at), **verdict_json(v, top)}, indent=2))
    else:
        print("\n".join(verdict_text(v, top)))
    return v.code
