"""``hatui ok-to-stop ELEMENT...``: can these hosts, domains or instances be taken down now?

One poll round (as ``check``), then the redundancy engine on the topology it shows. Exit codes:
0 every service stays up and redundant; 1 every service stays up, but some would then have a single
point of failure; 2 a service would go down; 3 cannot tell (an unknown element, no poll answered).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

from hatui.config import Config
from hatui.faces.check import one_round
from hatui.faces.jsonout import iso
from hatui.model.redundancy import HOST, Element, Verdict, find, ok_to_stop, reconnecting
from hatui.model.topology import Topology
from hatui.words import (
    VERDICT_WORDS,
    data_words,
    element_names,
    placement_lines,
    rabbit_says,
    reconnect_lines,
    verdict_lines,
)


def verdict_json(v: Verdict, top: Topology, rabbit: Any = None) -> dict:
    return {
        "verdict": VERDICT_WORDS[v.code], "code": v.code, "stop": element_names(top, v.stopped),
        "down": {name: {"why": loss.why, "via": loss.via or None} for name, loss in v.down.items()},
        "without_redundancy": {name: element_names(top, by) for name, by in v.exposed.items()},
        "without_redundancy_now": {name: element_names(top, by) for name, by in v.exposed_now.items()},
        "placement_unknown": {name: list(inst) for name, inst in v.unplaced.items()},
        "down_now": {name: loss.why for name, loss in v.down_now.items()},
        "state_unknown": {name: list(inst) for name, inst in v.unknown.items()},
        "quorum_margins": {name: {"now": now, "after": after} for name, (now, after) in v.margins.items()},
        # durability: data the stop would lose, data with fewer copies than it needs already, and data the stop
        # leaves (or finds) with one copy to lose: the instances any one of which would lose it
        "data_loss": data_words(v.data_lost),
        "data_loss_now": data_words(v.data_lost_now),
        "data_one_copy_left": [{"data": data_words((c,), top=False)[0], "lost_with": [k.split("/", 1)[1] for k in left],
                                "already": same} for c, left, same in v.data_exposed],
        "rabbitmq_says": [line.strip() for line in rabbit_says(v, top, rabbit)],
        "rpc_reconnect": {node: list(clients) for node, clients in reconnecting(top, v.stopped).items()},
        "runs_there": {e.name: sorted(i.key for i in top.on(e.name)) for e in v.stopped if e.kind == HOST},
        # how hatui knows: each placement observed (and from what) or declared, and any conflict
        "placement": {i.key: _placement(i.placement) for e in v.stopped if e.kind == HOST for i in top.on(e.name)},
    }


def _placement(p: Any) -> dict:
    return {"host": p.host, "how": p.how, "evidence": p.evidence, "conflict": p.conflict or None}


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
        print(json.dumps({"checked_at": iso(a.snapshot.taken_at), **verdict_json(v, top, a.cloud.rabbitmq)}, indent=2))
    else:
        print("\n".join(verdict_lines(v, top) + rabbit_says(v, top, a.cloud.rabbitmq) + reconnect_lines(v, top)
                        + placement_lines(v, top)))
    return v.code
