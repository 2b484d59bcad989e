"""RabbitMQ captures from the real lab as observations, made the way hatui's sources make them.

Two kinds (see tests/fixtures/rabbit/README.md):

- ``shared_lab/<state>/``: raw management API answers per node (``nodes.nodeN.json`` ...), turned
  into the ``rabbitmq`` source's data by the source's own trimming (``RabbitManagementSource._data``);
- ``recorded/<state>.jsonl``: observations recorded by hatui itself (both sources, every node) from
  tests/lab/rabbit.py with a real fault injected (``tests/integration/rabbit/capture.py``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hatui.config import Config, parse
from hatui.model import Observation
from hatui.sources.rabbitmq import RabbitManagementSource
from hatui.topology import target_specs

FIXTURES = Path(__file__).parent / "fixtures" / "rabbit"
NAMES = {1: "mq-1", 2: "mq-2", 3: "mq-3"}
CHECK_FILES = {"alarms": "health_alarms", "local-alarms": "health_local_alarms",
               "node-is-quorum-critical": "health_quorum_critical"}


def rabbit_config(*, canary: bool = False, erlang_nodes: bool = False, **section: Any) -> Config:
    nodes = []
    for n, name in NAMES.items():
        node = {"name": name, "host": "127.0.0.1", "management_port": 15671 + n, "amqp_port": 5671 + n}
        if erlang_nodes:
            node["erlang_node"] = f"rabbit{n}@localhost"
        nodes.append(node)
    table: dict[str, Any] = {"name": "lab-mq", "nodes": nodes, **section}
    if canary:
        table["canary"] = {"user": "hatui-canary"}
    return parse({"rabbitmq": table}, "fixture.toml", resolve_secrets=False)


def api_data(state: str, n: int) -> dict | None:
    """The source's data for node n in a shared_lab capture, or None if that node was not captured."""
    d = FIXTURES / "shared_lab" / state
    if not (d / f"nodes.node{n}.json").exists():
        return None
    got: dict[str, Any] = {"nodes": json.loads((d / f"nodes.node{n}.json").read_text()),
                           "overview": json.loads((d / f"overview.node{n}.json").read_text())}
    for check, stem in CHECK_FILES.items():
        got[f"checks/{check}"] = json.loads((d / f"{stem}.node{n}.json").read_text())
    config = rabbit_config()
    section = config.section("rabbitmq")
    spec = next(s for s in target_specs(config) if s.key == ("rabbitmq", NAMES[n]))
    return RabbitManagementSource(spec, section, section.nodes[n - 1])._data(got)


def api_observation(state: str, n: int, at: float = 100.0) -> Observation | None:
    data = api_data(state, n)
    return None if data is None else Observation("rabbitmq", NAMES[n], at, 0.008, data=data)


def shared_observations(state: str, at: float = 100.0) -> list[Observation]:
    return [o for n in NAMES if (o := api_observation(state, n, at)) is not None]


def recorded_observations(state: str) -> list[Observation]:
    """The last observation of each target in a recording (what the monitor holds at its end)."""
    last: dict[tuple[str, str], Observation] = {}
    for line in (FIXTURES / "recorded" / f"{state}.jsonl").read_text().splitlines():
        raw = json.loads(line)
        if "source" in raw:
            obs = Observation.from_json(raw)
            last[obs.key] = obs
    return list(last.values())
