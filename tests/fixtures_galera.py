"""Load the Galera captures in tests/fixtures/galera as observations (as the source would make them)."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pymysql

from hatui.config import parse
from hatui.model import Observation
from hatui.sources.galera import classify_mysql_error

FIXTURES = Path(__file__).parent / "fixtures" / "galera"
NAMES = {1: "db-1", 2: "db-2", 3: "db-3"}
CONFIG = parse({"galera": {"name": "lab-db", "nodes": [{"name": n, "host": "127.0.0.1"} for n in NAMES.values()]}},
               "fixture.toml", resolve_secrets=False)


def node_observation(state: str, n: int, at: float = 100.0) -> Observation:
    raw = json.loads((FIXTURES / state / f"node{n}.json").read_text())
    if "error" in raw:
        # "OperationalError: (2003, \"Can't connect ...\")" -> the pymysql exception the source saw
        cls_name, _, args = raw["error"].partition(": ")
        exc = getattr(pymysql.err, cls_name)(*ast.literal_eval(args))
        return Observation("galera", NAMES[n], at, 0.001, failure=classify_mysql_error(exc))
    return Observation("galera", NAMES[n], at, 0.002, data={"status": raw, "variables": {}})


def state_observations(state: str, at: float = 100.0) -> list[Observation]:
    return [node_observation(state, n, at) for n in NAMES]
