"""RabbitMQ captures from the real lab as observations, made the way hatui's sources make them.

``tests/fixtures/rabbit/<state>/<endpoint>.nodeN.json`` (tests/lab/capture_rabbit.py; see its README) is
what node N's management API answered, or the error the HTTP client got. ``management_observation``
feeds those answers through the ``rabbitmq`` source's own judgement and trimming
(``RabbitManagementSource.answer``), so a test sees exactly the data or failure the source would give.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hatui.config import Config, parse
from hatui.model import FailureKind, Observation
from hatui.schedule import target_specs
from hatui.sources.base import SourceError
from hatui.sources.rabbitmq import RabbitManagementSource

FIXTURES = Path(__file__).parent / "fixtures" / "rabbit"
STATES = ("healthy", "node_killed", "stop_app", "partitioned", "mem_alarm", "disk_alarm", "node_frozen")
NAMES = {1: "mq-1", 2: "mq-2", 3: "mq-3"}
ENDPOINT_FILES = {"nodes": "nodes", "overview": "overview", "checks/alarms": "health_alarms",
                  "checks/local-alarms": "health_local_alarms", "checks/node-is-quorum-critical":
                  "health_quorum_critical"}
CAPTURE_TIMEOUT = 3  # seconds: capture_rabbit's client timeout for node_frozen


def rabbit_config(*, canary: bool = False, erlang_nodes: bool = False, canary_interval: float = 5.0,
                  **section: Any) -> Config:
    nodes = []
    for n, name in NAMES.items():
        node = {"name": name, "host": "127.0.0.1", "management_port": 15671 + n, "amqp_port": 5671 + n}
        if erlang_nodes:
            node["erlang_node"] = f"rabbit{n}@localhost"
        nodes.append(node)
    table: dict[str, Any] = {"name": "lab-mq", "nodes": nodes, **section}
    if canary:
        table["canary"] = {"user": "hatui-canary", "interval": canary_interval}
    return parse({"rabbitmq": table}, "fixture.toml", resolve_secrets=False)


def source(n: int, config: Config | None = None) -> RabbitManagementSource:
    config = config or rabbit_config()
    section = config.section("rabbitmq")
    spec = next(s for s in target_specs(config) if s.key == ("rabbitmq", NAMES[n]))
    return RabbitManagementSource(spec, section, section.nodes[n - 1])


def _answer(raw: dict) -> Any:
    """One captured endpoint answer as the source's request would have returned or raised it."""
    if "error" in raw:
        cls, _, msg = raw["error"].partition(": ")
        if "Timeout" in cls:
            return SourceError(FailureKind.TIMEOUT, f"no answer within {CAPTURE_TIMEOUT} s")
        if "refused" in msg:
            return SourceError(FailureKind.REFUSED, "management API: connection refused")
        return SourceError(FailureKind.ERROR, raw["error"])
    status = raw["status"]
    if status in (200, 503):
        return raw["body"]
    kind = {401: FailureKind.AUTH, 403: FailureKind.FORBIDDEN, 404: FailureKind.NOT_FOUND}.get(status, FailureKind.HTTP)
    return SourceError(kind, f"management API: HTTP {status}")


def management_observation(state: str, n: int, at: float = 100.0,
                           src: RabbitManagementSource | None = None) -> Observation:
    """Node n's capture in ``state`` as an observation; pass ``src`` to carry a source's memory (the
    last good /api/nodes) from one state to the next, as in a live run."""
    d = FIXTURES / state
    got = {key: _answer(json.loads((d / f"{stem}.node{n}.json").read_text())) for key, stem in ENDPOINT_FILES.items()}
    src = src or source(n)
    try:
        return Observation("rabbitmq", NAMES[n], at, 0.008, data=src.answer(got))
    except SourceError as exc:
        return Observation("rabbitmq", NAMES[n], at, 0.008, failure=src.classify(exc))


def api_data(state: str, n: int) -> dict:
    obs = management_observation(state, n)
    assert obs.ok, obs.failure
    return dict(obs.data)


def api_observation(state: str, n: int, at: float = 100.0) -> Observation:
    return management_observation(state, n, at)


def state_observations(state: str, at: float = 100.0) -> list[Observation]:
    return [management_observation(state, n, at) for n in NAMES]


def recorded(state: str) -> list[Observation]:
    """A recording's observations in the order hatui received them (``recorded/<state>.jsonl``)."""
    lines = (FIXTURES / "recorded" / f"{state}.jsonl").read_text().splitlines()
    return [Observation.from_json(raw) for raw in map(json.loads, lines) if "source" in raw]


CONNECTIONS = FIXTURES / "connections" / "cloud_lab_healthy.json"


def connections_capture() -> dict:
    """GET /api/connections (the source's columns) as the cloud lab answered it, with its hosts' addresses."""
    return json.loads(CONNECTIONS.read_text())


def clients_observation(at: float = 100.0, cluster: str = "lab-mq") -> Observation:
    """The connection list as the source reports it (rows per binary, client address and node)."""
    from hatui.model.rabbitmq_clients import summarise

    return Observation("rabbitmq-clients", cluster, at, 0.01,
                       data={"asked": "ctl-3", "links": summarise(connections_capture()["body"])})


QUEUES = FIXTURES / "queues"


def queues_observation(state: str, at: float = 100.0, cluster: str = "lab-mq", user: str = "queues") -> Observation:
    """The queue list ([rabbitmq.queues]) as the source reports it, from queues/<state>/ (``user="monitor"``:
    the list the monitor user, with no vhost permission, got)."""
    from hatui.model.rabbitmq_queues import summarise

    d = QUEUES / state
    body = json.loads((d / ("queues.json" if user == "queues" else "queues_monitor_user.json")).read_text())["body"]
    streams = json.loads((d / "streams.json").read_text())["body"]
    totals = json.loads((d / "totals.json").read_text())["body"]["object_totals"]["queues"]
    return Observation("rabbitmq-queues", cluster, at, 0.004,
                       data={"asked": "mq-1", "total": totals, **summarise(body, streams)})
