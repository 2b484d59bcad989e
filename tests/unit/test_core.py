"""The reshaped core: every answer parsed once, every garbled answer reported, a raising rule contained.

Driven through the Monitor with the annotated example config (every area, every source), so what is
asserted is what `check`, `watch` and the panes would say.
"""
from __future__ import annotations

import ast
import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hatui import rules
from hatui.areas import AREAS, FEEDS
from hatui.config import parse
from hatui.faces.check import summary_line
from hatui.model import Observation, Severity
from hatui.monitor import Monitor

ROOT = Path(__file__).parents[2]
CONFIG = parse(tomllib.loads((ROOT / "hatui.example.toml").read_text()), "hatui.example.toml",
               resolve_secrets=False)
TARGET = {spec.source: spec.name for spec in Monitor(CONFIG).specs}

# JSON-shaped nonsense: what a wrong server, a proxy's error page or a truncated answer parses into
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=4), max_leaves=12)


def test_every_source_of_the_example_config_is_polled():
    assert set(TARGET) == set(FEEDS), "a source without a target in the example config is never tested here"


@pytest.mark.parametrize("source", sorted(FEEDS))
@pytest.mark.parametrize("data", [{"garbage": [1, "x"]}, {"status": "ok"}, {"rows": "<html>502</html>"}])
def test_a_garbled_answer_from_any_source_is_its_garbled_finding_and_not_ok(source, data):
    m = Monitor(CONFIG, started_at=100.0)
    m.ingest(Observation(source, TARGET[source], 100.0, 0.01, data=data))
    a = m.assess(100.1)
    f = next(f for f in a.findings if f.id == f"{source}.garbled:{TARGET[source]}")
    assert f.severity == Severity.UNKNOWN and f.summary.startswith(TARGET[source])
    assert a.status != Severity.OK and "garbled" not in summary_line(a).split(" - ")[0]
    assert a.snapshot.get(source, TARGET[source]).parsed is None  # nothing judges what was not understood


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.sampled_from(sorted(FEEDS)), data=st.dictionaries(st.text(max_size=16), JSON, max_size=6))
def test_any_answer_is_understood_or_reported_never_a_crash(source, data):
    m = Monitor(CONFIG, started_at=100.0)
    m.ingest(Observation(source, TARGET[source], 100.0, 0.01, data=data))
    a = m.assess(100.1)
    state = a.snapshot.get(source, TARGET[source])
    ids = {f.id for f in a.findings}
    assert "hatui.rule_error" not in " ".join(ids), [f.summary for f in a.findings]
    assert not a.cloud.errors
    if state.garbled is not None:
        assert f"{source}.garbled:{TARGET[source]}" in ids


def test_the_previous_answer_is_kept_parsed_for_rules_that_compare_two_polls():
    from tests.fixtures_galera import CONFIG as GALERA
    from tests.fixtures_galera import node_observation

    m = Monitor(GALERA, started_at=99.0)
    m.ingest(node_observation("healthy", 1, at=100.0))
    m.ingest(node_observation("healthy", 1, at=101.0))
    node = m.assess(101.0).cloud.galera.node("db-1")
    assert node.previous is not None and node.interval == pytest.approx(1.0)


@pytest.fixture
def fresh_refs():
    """hatui.areas.load caches what a "module:attr" names: let a test's monkeypatch be seen, then forget it."""
    from hatui.areas import load

    load.cache_clear()
    yield
    load.cache_clear()


def _assess(config, observations):
    m = Monitor(config, started_at=99.0)
    for o in observations:
        m.ingest(o)
    return m.assess(100.0)


def test_a_raising_rule_is_an_unknown_finding_naming_it_and_the_others_still_run(monkeypatch, fresh_refs):
    from tests.fixtures_galera import CONFIG as GALERA
    from tests.fixtures_galera import state_observations

    def broken_rule(ctx):
        raise KeyError("wsrep_cluster_size")
        yield  # pragma: no cover

    import hatui.rules.galera as galera_rules

    monkeypatch.setattr(galera_rules, "RULES", [broken_rule, *galera_rules.RULES])
    a = _assess(GALERA, state_observations("one_killed"))
    f = next(f for f in a.findings if f.id == "hatui.rule_error:broken_rule")
    assert f.severity == Severity.UNKNOWN and "broken_rule failed" in f.summary and "KeyError" in f.summary
    assert any(f.id.startswith("galera.spof:") for f in a.findings)  # the other rules ran


def test_a_state_that_cannot_be_derived_is_unknown_not_healthy(monkeypatch, fresh_refs):
    import hatui.model.galera as galera_model
    from tests.fixtures_galera import CONFIG as GALERA
    from tests.fixtures_galera import state_observations

    def broken(snapshot, section):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(galera_model, "derive", broken)
    a = _assess(GALERA, state_observations("healthy"))
    assert a.status == Severity.UNKNOWN
    assert "hatui.state_error:galera" in {f.id for f in a.findings}


def _imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.type is not None:
            names |= {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
            names |= {n.attr for n in ast.walk(node.type) if isinstance(n, ast.Attribute)}
    return names


@pytest.mark.parametrize("layer", ["rules", "ui", "faces"])
def test_no_rule_face_or_pane_parses_an_answer_or_catches_a_garbled_one(layer):
    offenders = {}
    for path in sorted((ROOT / "hatui" / layer).rglob("*.py")):
        bad = {n for n in _imported_names(path) if n.startswith("parse_") or n.endswith("Garbled") or n == "Garbled"}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert not offenders, f"parse once, in the monitor: {json.dumps(offenders)}"


def test_one_declaration_per_area_names_modules_that_exist():
    from hatui.areas import load

    for area in AREAS:
        for ref in (area.section, area.sources, area.derive, *(f.parser for f in area.feeds),
                    *(p.view for p in area.panes)):
            assert callable(load(ref)), ref
        assert isinstance(load(f"{area.rules}:RULES"), list)
    keys = [p.key for a in AREAS for p in a.panes]
    assert len(keys) == len(set(keys)) and "q" not in keys and "f" not in keys
    assert rules  # the package imports without any area configured
