"""Mutated real answers through the real Monitor: a garbled one is its target's garbled finding and nothing
else; one that parses, however odd, is judged without any rule or derivation crashing.

A world is a config and one round of captured observations (a lab state). A case takes one target's
answer in it, mutates it (tests/unit/fuzz_strategies.py) and assesses the world with it. The reference is
the same world without that target's answer (not polled yet): a garbled answer must give exactly that
world's findings plus ``<source>.garbled:<target>`` (UNKNOWN), and `check` must not say OK.
"""
from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hatui.areas import FEEDS, area_of, feed, load
from hatui.faces.check import summary_line
from hatui.model import Garbled, Observation, Severity
from hatui.monitor import Monitor
from hatui.ui.views import pane_model
from tests import fixtures_galera, fixtures_hosts, fixtures_openstack, fixtures_rabbit
from tests.unit.fuzz_strategies import fuzz, mutated, plain

AT = 100.0


def _at(obs: list[Observation]) -> tuple[Observation, ...]:
    """One round: every observation made at AT (the captures' own times differ by state)."""
    return tuple(Observation(o.source, o.target, AT, o.latency, o.data, o.failure) for o in obs)


def _rabbit_round(state: str) -> list[Observation]:
    canary = {}
    for o in fixtures_rabbit.recorded("mem_alarm") + fixtures_rabbit.recorded("node_killed"):
        if o.source == "rabbitmq-amqp" and o.ok:
            canary.setdefault((o.target, o.data.get("blocked") is None), o)
    wanted = [canary[k] for k in sorted(canary) if k[1] == (state != "mem_alarm")]
    return fixtures_rabbit.state_observations(state) + wanted + [fixtures_rabbit.clients_observation()]


def _worlds() -> dict[str, tuple]:
    worlds = {}
    for state in ("healthy", "desynced_node2", "one_killed", "thawed_stale_view", "isolated_node3"):
        worlds[f"galera/{state}"] = (fixtures_galera.CONFIG, _at(fixtures_galera.state_observations(state)))
    rabbit = fixtures_rabbit.rabbit_config(canary=True)
    for state in ("healthy", "mem_alarm", "partitioned", "node_killed"):
        worlds[f"rabbitmq/{state}"] = (rabbit, _at(_rabbit_round(state)))
    queues = fixtures_rabbit.rabbit_config(canary=True, queues={"interval": 5})
    for state, queue_state in (("healthy", "mirror_unsynced"), ("stop_app", "node3_app_stopped")):
        worlds[f"rabbitmq/{state}+queues"] = (queues, _at(_rabbit_round(state)
                                                          + [fixtures_rabbit.queues_observation(queue_state)]))
    o = fixtures_openstack
    worlds["openstack/healthy"] = (o.lab_config(), _at(o.healthy()))
    worlds["openstack/degraded"] = (o.lab_config(), _at([
        o.keystone_obs("token_catalog_system_reader.json"), o.endpoints_obs({
            "http://127.0.0.1:8774/v2.1": o.failed_answer("timeout", "no answer within 2 s")}),
        o.nova_obs("nova_os_services_conductor_down.json"), o.neutron_obs("neutron_agents_one_dead.json", ["admin"]),
        o.haproxy_obs("haproxy_stats_keystone_backend_down.csv")]))
    for name in ("healthy", "redfish_off", "ipmi_off", "link_down", "listener_killed", "reject", "bmc_misdirected"):
        doc = fixtures_hosts.scenario(name)
        worlds[f"hosts/{name}"] = (fixtures_hosts.config_of(doc["config"]), _at(fixtures_hosts.observations(name)))
    for name in ("healthy", "supply_failed", "inlet_warm", "fan_stopped", "one_feed"):  # the BMCs' sensors
        doc = fixtures_hosts.sensors_scenario(name)
        worlds[f"hosts/sensors/{name}"] = (fixtures_hosts.config_of(doc["config"]),
                                           _at(fixtures_hosts.sensors_observations(name)))
    return worlds


WORLDS = _worlds()
# source -> (world, target) of every good answer in the worlds: what a case may mutate
CHOICES = {src: [(w, o.target) for w, (_c, obs) in WORLDS.items() for o in obs if o.source == src and o.ok]
           for src in FEEDS}


def _assess(world: str, replace: tuple[str, str], obs: Observation | None, before: Observation | None = None):
    """The world's round with ``obs`` in place of that target's answer (``before``: its answer one second
    earlier, for the rules that compare two polls)."""
    config, round_ = WORLDS[world]
    m = Monitor(config, started_at=AT - 2)
    if before is not None:
        m.ingest(before)
    for o in round_:
        if o.key != replace:
            m.ingest(o)
    if obs is not None:
        m.ingest(obs)
    return m.assess(AT + 0.01)


@cache
def _without(world: str, key: tuple[str, str]) -> frozenset[str]:
    """The world's findings when that target has not answered yet."""
    a = _assess(world, key, None)
    _no_hatui_bug(a)
    return frozenset(f.id for f in a.findings)


def _no_hatui_bug(a) -> None:
    bugs = [f.summary for f in a.findings if f.id.startswith(("hatui.rule_error", "hatui.state_error"))]
    assert not bugs and not a.cloud.errors, bugs or dict(a.cloud.errors)


@st.composite
def cases(draw, source: str):
    world, target = draw(st.sampled_from(CHOICES[source]))
    base = next(o for o in WORLDS[world][1] if o.key == (source, target))
    return world, target, draw(mutated(plain(base.data)))


def test_every_source_has_worlds():
    assert all(CHOICES[s] for s in FEEDS), [s for s in FEEDS if not CHOICES[s]]


@pytest.mark.parametrize("source", sorted(FEEDS))
@fuzz(250)
@given(data=st.data())
def test_fuzz_monitor(source, data):
    world, target, answer = data.draw(cases(source))
    history = data.draw(st.sampled_from(["alone", "after the real answer", "before the real answer"]))
    config = WORLDS[world][0]
    base = next(o for o in WORLDS[world][1] if o.key == (source, target))
    obs = Observation(source, target, AT, 0.01, data=answer)
    before = None
    if history == "after the real answer":
        before = Observation(source, target, AT - 1, base.latency, base.data)
    elif history == "before the real answer":  # the odd answer is the previous poll, the real one the latest
        before, obs = Observation(source, target, AT - 1, 0.01, data=answer), base
    try:
        load(feed(source).parser)(obs, config.section(area_of(source).name))
        garbled = False
    except Garbled:
        garbled = True
    a = _assess(world, obs.key, obs, before)
    _no_hatui_bug(a)
    for area in {feed(s).pane for s in FEEDS if area_of(s).name in config.sections} | {"findings"}:
        pane_model(area, a, config)  # every pane still draws
    state = a.snapshot.get(source, target)
    assert (state.garbled is not None) == garbled
    if garbled:
        gid = f"{source}.garbled:{target}"
        if before is None:  # exactly what the world says without that answer, and that it is garbled
            assert {f.id for f in a.findings} == _without(world, obs.key) | {gid}
        finding = next(f for f in a.findings if f.id == gid)
        assert finding.severity == Severity.UNKNOWN and state.parsed is None
        assert a.status != Severity.OK and a.status.exit_code != 0
        assert not summary_line(a).startswith("HATUI OK")
