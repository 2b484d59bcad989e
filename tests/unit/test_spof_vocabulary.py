"""One SPOF engine, one vocabulary (issue 11): every single point of failure is found by the model's N-1
(hatui.model.redundancy) and named ``<area>.spof:<element>``, worded by its area; a capacity floor above
one is honoured by the same engine. On the real lab captures (tests/fixtures/...)."""
from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from hatui.config import ConfigError, parse
from hatui.model import FindingKind, Severity
from hatui.model.redundancy import find, ok_to_stop
from hatui.model.survival import AtLeast, Quorum
from tests.fixtures_openstack import healthy, lab_config, nova_obs
from tests.fixtures_rabbit import rabbit_config, state_observations
from tests.unit.test_openstack_rules import assess, by_id, ids, replace
from tests.unit.test_rabbit_rules import assess as rabbit_assess

FLOOR = {"capacity_floor": {"nova-conductor": 2}}


def spofs(a) -> dict[str, str]:
    return {f.id: f.summary for f in a.findings if f.kind == FindingKind.SPOF}


def test_every_spof_is_area_dot_spof_and_no_other_condition_is_a_spof():
    a = assess(replace(healthy(), nova_obs("nova_os_services_conductor_down.json")))
    conditions = {(f.source, f.condition) for f in a.findings if f.kind == FindingKind.SPOF}
    assert conditions == {("haproxy", "spof"), ("services", "spof")}
    # the one left is named, as nova names it everywhere else (services.down:<binary>@<host>)
    assert "services.spof:nova-conductor@lab-ctl-0" in spofs(a)


def test_a_capacity_floor_of_two_makes_each_of_two_conductors_a_spof():
    a = assess(healthy(), lab_config(**FLOOR))
    got = {i: s for i, s in spofs(a).items() if i.startswith("services.")}
    assert got == {
        "services.spof:nova-conductor@lab-ctl-0":
            "nova-conductor@lab-ctl-0: 2 of 2 up, the capacity floor; losing it stops nova-conductor",
        "services.spof:nova-conductor@lab-ctl-1":
            "nova-conductor@lab-ctl-1: 2 of 2 up, the capacity floor; losing it stops nova-conductor"}
    assert not any(i.startswith("services.spof:nova-scheduler") for i in ids(a))  # no floor: one may go
    top = a.cloud.topology
    assert top.services["nova-conductor"].survival == AtLeast(2)
    assert ok_to_stop(top, [find(top, "nova-conductor@lab-ctl-1")]).code == 2  # below the floor: down


def test_below_the_capacity_floor_is_critical_and_the_survivor_is_no_spof():
    a = assess(replace(healthy(), nova_obs("nova_os_services_conductor_down.json")), lab_config(**FLOOR))
    f = by_id(a)["redundancy.below_floor:nova-conductor"]
    assert f.severity == Severity.CRITICAL and a.status == Severity.CRITICAL
    assert f.summary == "nova-conductor: 1 serving, below its capacity floor of 2"
    assert not any(i.startswith("services.spof:nova-conductor") for i in ids(a))  # down already: not a SPOF
    assert "nova-conductor" in a.cloud.down


def test_a_floor_on_a_binary_not_listed_redundant_counts_it_too():
    a = assess(healthy(), lab_config(redundant=[], capacity_floor={"nova-scheduler": 2}))
    assert {i for i in ids(a) if i.startswith("services.spof:")} == {
        "services.spof:nova-scheduler@lab-ctl-0", "services.spof:nova-scheduler@lab-ctl-1"}


def test_without_a_floor_nothing_changes():
    a = assess(healthy(), lab_config(capacity_floor={"nova-conductor": 1}))
    assert not any(i.startswith(("services.", "redundancy.below_floor")) for i in ids(a))


@pytest.mark.parametrize("floor, expected", [
    (0, "a whole number >= 1"),
    ("two", "an integer"),
])
def test_a_wrong_capacity_floor_names_the_key(floor, expected):
    with pytest.raises(ConfigError) as exc:
        lab_config(capacity_floor={"nova-conductor": floor})
    assert "openstack.capacity_floor.nova-conductor" in str(exc.value) and expected in str(exc.value)


def test_capacity_floor_must_be_a_table():
    with pytest.raises(ConfigError) as exc:
        parse({"openstack": {"capacity_floor": ["nova-conductor"]}}, "f.toml", resolve_secrets=False)
    assert "openstack.capacity_floor" in str(exc.value) and "a table of integers" in str(exc.value)


def test_a_running_rabbitmq_node_the_config_leaves_out_still_counts_toward_the_majority():
    """The healthy capture has three nodes running; a config naming two of them (3 expected) must not make
    each a SPOF: the third runs, and the engine counts it, named as RabbitMQ names it."""
    cfg = rabbit_config(expected_size=3)
    section = cfg.section("rabbitmq")
    two = dataclasses.replace(cfg, sections={**cfg.sections, "rabbitmq": dataclasses.replace(
        section, nodes=section.nodes[:2])})
    obs = [o for o in state_observations("healthy") if o.target != "mq-3"]
    a = rabbit_assess(obs, two, hold=2.0)
    assert not spofs(a), spofs(a)
    top = a.cloud.topology
    assert sorted(i.name for i in top.of("message queue")) == ["mq-1", "mq-2", "rabbit3@localhost"]


def test_a_member_hatui_cannot_see_votes_alive():
    """An arbitrator (garbd) or a node not polled: the component counts it; so does the engine."""
    two_and_arbitrator = Quorum(MappingProxyType({"database/db-1": 1.0, "database/db-2": 1.0}), 3, unseen=1)
    alive = frozenset({"database/db-1", "database/db-2"})
    assert two_and_arbitrator.survives(alive) and two_and_arbitrator.survives(alive - {"database/db-1"})
    assert two_and_arbitrator.fatal(alive) == 2
    assert not Quorum(MappingProxyType({"database/db-1": 1.0, "database/db-2": 1.0}), 3).survives(
        alive - {"database/db-1"})  # the third gone (counted, not seen): one more loss is fatal
