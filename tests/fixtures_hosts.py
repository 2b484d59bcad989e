"""Load the hosts captures (tests/fixtures/hosts/observations, verbose) as hatui would see them."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

from hatui.config import Config, parse
from hatui.model import Observation
from hatui.monitor import Assessment, Monitor

FIXTURES = Path(__file__).parent / "fixtures" / "hosts"


def scenario(name: str) -> dict:
    return json.loads((FIXTURES / "observations" / f"{name}.json").read_text())


def config_of(toml: str) -> Config:
    return parse(tomllib.loads(toml), "fixture.toml", resolve_secrets=False)


def observations(name: str, at: float | None = None) -> list[Observation]:
    """The scenario's observations, all made at ``at`` (default: as captured)."""
    out = []
    for raw in scenario(name)["observations"]:
        if at is not None:
            raw = {**raw, "at": at}
        out.append(Observation.from_json(raw))
    return out


def assess(config: Config, obs: list[Observation], *rounds: list[Observation]) -> Assessment:
    """Ingest ``obs`` (then each later round) and assess just after the last one."""
    latest = max(o.observed_at for o in [*obs, *(o for r in rounds for o in r)])
    m = Monitor(config, started_at=latest - 1)
    for o in obs:
        m.ingest(o)
    for r in rounds:
        for o in r:
            m.ingest(o)
    return m.assess(latest + 0.01)


def assess_scenario(name: str) -> Assessment:
    doc = scenario(name)
    return assess(config_of(doc["config"]), observations(name))


def sensors_scenario(name: str) -> dict:
    """A capture of the BMCs' sensors (tests/fixtures/hosts/sensors): supplies, temperatures, fans."""
    return json.loads((FIXTURES / "sensors" / f"{name}.json").read_text())


def sensors_observations(name: str) -> list[Observation]:
    return [Observation.from_json(raw) for raw in sensors_scenario(name)["observations"]]


def ipmitool_capture(name: str) -> dict:
    return json.loads((FIXTURES / "verbose" / f"ipmitool_{name}.json").read_text())
