"""The redundancy engine (hatui.model.redundancy) on small clouds, one case per layout an operator meets:
which single host, feed, rack or switch would take a service down now, and what ok-to-stop answers."""
from __future__ import annotations

from types import MappingProxyType

import pytest

from hatui.model.redundancy import HOST, INSTANCE, Element, down, find, ok_to_stop, pairs, single_points
from hatui.model.survival import AtLeast, Majority, Quorum
from hatui.model.topology import (
    DATABASE,
    DECLARED,
    NEEDS,
    OBSERVED,
    QUEUE,
    UNKNOWN,
    Host,
    Instance,
    Placement,
    Service,
    Topology,
)


def host(name, feed, switch, rack="r1", up=True):
    return Host(name, (("power", feed), ("rack", rack), ("switch", switch)), up)


def inst(name, service, on, up=True):
    placed = Placement(on, OBSERVED, f"answers on {on}") if on else Placement(None, UNKNOWN, "")
    return Instance(name, service, up, placed)


def cloud(hosts, instances, services):
    return Topology(MappingProxyType({h.name: h for h in hosts}), MappingProxyType({s.name: s for s in services}),
                    tuple(instances))


def galera(members, size=None):
    return Service(DATABASE, Quorum(MappingProxyType({f"{DATABASE}/{m}": 1.0 for m in members}), size or len(members)))


def spof_names(top, instances=True):
    return {e.name.split("/")[-1]: set(losses) for e, losses in single_points(top, instances)}


# ctl-1 and ctl-2 on feed pdu-a, ctl-3 on pdu-b; every controller on its own switch and rack
HOSTS = [host("ctl-1", "pdu-a", "sw-1", "r1"), host("ctl-2", "pdu-a", "sw-2", "r2"),
         host("ctl-3", "pdu-b", "sw-3", "r3")]
DB = [inst(f"db-{n}", DATABASE, f"ctl-{n}") for n in (1, 2, 3)]


def test_two_of_three_galera_nodes_on_one_feed_make_that_feed_the_spof():
    top = cloud(HOSTS, DB, [galera(["db-1", "db-2", "db-3"])])
    assert down(top) == {}
    assert spof_names(top) == {"pdu-a": {DATABASE}}  # no host, no node alone: 2 of 3 keep quorum
    loss = down(top, [Element("power", "pdu-a")])[DATABASE]
    assert "quorum lost (1 of 3 left)" in loss.why and "db-1, db-2 lost" in loss.why


def test_every_controller_on_one_switch_makes_the_switch_the_spof():
    hosts = [host(f"ctl-{n}", f"pdu-{n}", "sw-1", rack=f"r{n}") for n in (1, 2, 3)]
    top = cloud(hosts, DB, [galera(["db-1", "db-2", "db-3"])])
    assert spof_names(top) == {"sw-1": {DATABASE}}


def test_a_two_node_galera_makes_each_node_and_its_host_a_spof():
    hosts = [host("ctl-1", "pdu-a", "sw-1", "r1"), host("ctl-2", "pdu-b", "sw-2", "r2")]
    top = cloud(hosts, DB[:2], [galera(["db-1", "db-2"])])
    assert spof_names(top) == {n: {DATABASE} for n in ("ctl-1", "ctl-2", "pdu-a", "pdu-b", "sw-1", "sw-2",
                                                        "r1", "r2", "db-1", "db-2")}


def test_one_conductor_left_makes_its_host_a_spof_and_the_chain_names_what_follows():
    hosts = [host(f"ctl-{n}", f"pdu-{n}", f"sw-{n}", f"r{n}") for n in (1, 2, 3)] + [host("cmp-1", "pdu-1", "sw-1")]
    conductors = [inst("nova-conductor@ctl-1", "nova-conductor", "ctl-1"),
                  inst("nova-conductor@ctl-2", "nova-conductor", "ctl-2", up=False),
                  inst("nova-conductor@ctl-3", "nova-conductor", "ctl-3", up=False)]
    compute = [inst("nova-compute@cmp-1", "nova-compute", "cmp-1"), inst("nova-compute@ctl-2", "nova-compute", "ctl-2")]
    top = cloud(hosts, conductors + compute, [Service("nova-conductor", AtLeast(1)),
                                              Service("nova-compute", AtLeast(1), ("nova-conductor",))])
    found = dict(single_points(top, instances=False))
    assert {e.name for e in found} == {"ctl-1", "pdu-1", "sw-1", "r1"}
    hit = found[Element(HOST, "ctl-1")]
    assert hit["nova-conductor"].why.startswith("no instance left") and hit["nova-compute"].via == "nova-conductor"


def test_a_database_without_quorum_is_down_now_and_not_a_spof_of_anything():
    top = cloud(HOSTS, [DB[0], inst("db-2", DATABASE, "ctl-2", up=False), inst("db-3", DATABASE, "ctl-3", up=False)],
                [Service(DATABASE, Quorum(MappingProxyType({}), 3))])
    assert set(down(top)) == {DATABASE}
    assert single_points(top) == []
    assert ok_to_stop(top, [Element(HOST, "ctl-3")]).code == 2  # down already: not OK


def test_rabbitmq_majority():
    mq = [inst(f"mq-{n}", QUEUE, f"ctl-{n}") for n in (1, 2, 3)]
    top = cloud(HOSTS, mq, [Service(QUEUE, Majority(3))])
    assert spof_names(top) == {"pdu-a": {QUEUE}}
    assert "2 needed" in down(top, [Element("power", "pdu-a")])[QUEUE].why


@pytest.mark.parametrize("stop, code, goes_down", [
    (["ctl-3"], 1, set()),               # stays up; then ctl-1, ctl-2 or pdu-a would take it down
    (["ctl-1"], 1, set()),
    (["ctl-1", "ctl-3"], 2, {DATABASE}),
    (["pdu-a"], 2, {DATABASE}),
])
def test_ok_to_stop(stop, code, goes_down):
    top = cloud(HOSTS, DB, [galera(["db-1", "db-2", "db-3"])])
    v = ok_to_stop(top, [find(top, name) for name in stop])
    assert (v.code, set(v.down)) == (code, goes_down)
    if code == 1:
        left = {e.name for e in v.exposed[DATABASE]}
        assert {h.name for h in HOSTS if h.name not in stop} <= left
        assert {e.name for e in v.exposed_now[DATABASE]} == {"pdu-a"}


def test_ok_to_stop_is_0_only_when_everything_stays_redundant():
    hosts = [host(f"ctl-{n}", f"pdu-{n}", f"sw-{n}", f"r{n}") for n in range(1, 6)]
    db = [inst(f"db-{n}", DATABASE, f"ctl-{n}") for n in range(1, 6)]
    top = cloud(hosts, db, [galera([i.name for i in db])])
    assert ok_to_stop(top, [find(top, "ctl-1")]).code == 0   # 4 of 5 left can still lose one
    assert ok_to_stop(top, [find(top, "ctl-1"), find(top, "ctl-2")]).code == 1
    # and it says the margins: 5 can lose 2; with 2 stopped, 3 of the 5 left can lose none
    assert ok_to_stop(top, [find(top, "ctl-1")]).margins == {DATABASE: (2, 1)}
    assert ok_to_stop(top, [find(top, "ctl-1"), find(top, "ctl-2")]).margins == {DATABASE: (2, 0)}
    assert ok_to_stop(top, [find(top, n) for n in ("ctl-1", "ctl-2", "ctl-3")]).margins == {DATABASE: (2, None)}


def test_the_margins_follow_pc_weight():
    """db-1 weighs 3 of 5: stopping ctl-1 leaves 2 of 5, no quorum; stopping ctl-2 leaves 4 of 5, and then
    losing db-1 would still cost it (2 of 5): no margin left."""
    db = [inst(f"db-{n}", DATABASE, f"ctl-{n}") for n in (1, 2, 3)]
    weighted = Service(DATABASE, Quorum(MappingProxyType({"database/db-1": 3.0, "database/db-2": 1.0,
                                                          "database/db-3": 1.0}), 3))
    top = cloud(HOSTS, db, [weighted])
    assert ok_to_stop(top, [find(top, "ctl-1")]).margins == {DATABASE: (0, None)}
    assert ok_to_stop(top, [find(top, "ctl-1")]).code == 2
    assert ok_to_stop(top, [find(top, "ctl-2")]).margins == {DATABASE: (0, 0)}
    assert ok_to_stop(top, [find(top, "ctl-2")]).code == 1


def test_unknown_state_or_placement_is_never_counted_as_safe():
    db = [DB[0], DB[1], inst("db-3", DATABASE, None)]
    top = cloud(HOSTS, db, [galera(["db-1", "db-2", "db-3"])])
    v = ok_to_stop(top, [find(top, "ctl-3")])
    assert v.unplaced == {DATABASE: ("db-3",)}
    stale = cloud(HOSTS, [DB[0], DB[1], inst("db-3", DATABASE, "ctl-3", up=None)], [galera(["db-1", "db-2"], 3)])
    v = ok_to_stop(stale, [find(stale, "ctl-3")])
    assert v.unknown == {DATABASE: ("db-3",)} and v.code == 3 and not v.down_now


def test_find_and_instances():
    top = cloud(HOSTS, DB, [galera(["db-1", "db-2", "db-3"])])
    assert find(top, "ctl-1") == Element(HOST, "ctl-1") and find(top, "pdu-b") == Element("power", "pdu-b")
    assert find(top, "db-2") == Element(INSTANCE, "database/db-2") == find(top, "database/db-2")
    assert find(top, "nope") is None


def test_pairs_are_risks_neither_of_which_is_a_spof_alone():
    top = cloud(HOSTS, DB, [galera(["db-1", "db-2", "db-3"])])
    found = {frozenset((a.name, b.name)) for a, b, _ in pairs(top)}
    assert frozenset(("ctl-1", "ctl-3")) in found and frozenset(("sw-1", "sw-2")) in found
    assert not any("pdu-a" in p for p in found)  # a SPOF alone already


def test_needs_only_name_services_hatui_knows():
    assert set(NEEDS["nova-conductor"]) == {DATABASE, QUEUE}


def test_the_load_balancer_on_one_host_makes_that_host_a_spof_of_every_backend_behind_it():
    from hatui.model.topology import LOAD_BALANCER

    lb = f"{LOAD_BALANCER} lb"
    servers = [inst(f"ctl-{n}", f"backend lb/{api}", f"ctl-{n}") for api in ("keystone", "nova_api") for n in (1, 2, 3)]
    top = cloud(HOSTS, [inst("lb", lb, "ctl-1"), *servers],
                [Service(lb, AtLeast(1)), Service("backend lb/keystone", AtLeast(1), (lb,)),
                 Service("backend lb/nova_api", AtLeast(1), (lb,))])
    found = {e.name: hit for e, hit in single_points(top, instances=False)}
    assert set(found) == {"ctl-1", "pdu-a", "r1", "sw-1"}
    assert set(found["ctl-1"]) == {lb, "backend lb/keystone", "backend lb/nova_api"}
    assert found["ctl-1"]["backend lb/keystone"].via == lb  # its servers on ctl-2, ctl-3 are up, unreachable


def test_pruned_pairs_are_exactly_the_brute_force_pairs():
    """N-2's pruning (by each service's fatal count) drops no pair that a full search finds."""
    import itertools
    import random

    from hatui.model.redundancy import elements, impact

    rng = random.Random(7)
    for _ in range(30):
        hosts = [host(f"h{n}", f"pdu-{rng.randint(1, 3)}", f"sw-{rng.randint(1, 3)}", f"r{rng.randint(1, 4)}")
                 for n in range(6)]
        db = [inst(f"db-{n}", DATABASE, f"h{rng.randint(0, 5)}") for n in range(rng.choice((3, 5)))]
        mq = [inst(f"mq-{n}", QUEUE, f"h{rng.randint(0, 5)}") for n in range(3)]
        cond = [inst(f"c{n}", "nova-conductor", f"h{rng.randint(0, 5)}") for n in range(rng.randint(1, 4))]
        top = cloud(hosts, db + mq + cond, [galera([i.name for i in db]), Service(QUEUE, Majority(3)),
                                            Service("nova-conductor", AtLeast(rng.randint(1, 2)), (DATABASE,))])
        alone = {e for e, _ in single_points(top, instances=False)}
        cands = [e for e in elements(top, instances=False) if e not in alone]
        brute = {(a, b) for a, b in itertools.combinations(sorted(cands), 2) if impact(top, [a, b])}
        assert {(a, b) for a, b, _ in pairs(top)} == brute


def bonded(name, feeds, switches, rack="r1"):
    """A host fed by every feed listed (one per power supply) and bonded to every switch listed."""
    return Host(name, (*(("power", f) for f in feeds), ("rack", rack), *(("switch", s) for s in switches)), True)


def test_a_host_bonded_to_two_switches_survives_either_and_breaks_the_switch_spof():
    single = [host("ctl-1", "pdu-a", "sw-1", "r1"), host("ctl-2", "pdu-b", "sw-1", "r2"),
              host("ctl-3", "pdu-c", "sw-2", "r3")]
    assert spof_names(cloud(single, DB, [galera(["db-1", "db-2", "db-3"])])) == {"sw-1": {DATABASE}}
    hosts = [single[0], bonded("ctl-2", ["pdu-b"], ["sw-1", "sw-2"], "r2"), single[2]]
    top = cloud(hosts, DB, [galera(["db-1", "db-2", "db-3"])])
    assert spof_names(top) == {}  # sw-1 now takes ctl-1 only; sw-2 ctl-3 only
    assert DATABASE in down(top, [Element("switch", "sw-1"), Element("switch", "sw-2")])  # both: all three


def test_a_host_on_two_feeds_is_lost_only_when_both_are():
    hosts = [bonded("ctl-1", ["pdu-a", "pdu-b"], ["sw-1"], "r1"), host("ctl-2", "pdu-a", "sw-2", "r2"),
             host("ctl-3", "pdu-b", "sw-3", "r3")]
    top = cloud(hosts, DB, [galera(["db-1", "db-2", "db-3"])])
    assert spof_names(top) == {}
    assert ok_to_stop(top, [Element("power", "pdu-a")]).down == {}  # ctl-1 on pdu-b, ctl-3: quorum kept
    loss = down(top, [Element("power", "pdu-a"), Element("power", "pdu-b")])[DATABASE]
    assert "db-1, db-2, db-3 lost" in loss.why


def test_ok_to_stop_says_how_it_knows_what_runs_on_a_host():
    from hatui.words import placement_lines

    db = [inst("db-1", DATABASE, "ctl-1"), inst("db-2", DATABASE, "ctl-2"), inst("db-3", DATABASE, "ctl-3"),
          Instance("mq-1", QUEUE, True, Placement("ctl-1", DECLARED, "runs_on in the config")),
          Instance("mq-2", QUEUE, True, Placement("ctl-1", OBSERVED, "answers at 10.0.0.11", "declared on ctl-2"))]
    top = cloud(HOSTS, db, [galera(["db-1", "db-2", "db-3"]), Service(QUEUE, Majority(3))])
    lines = placement_lines(ok_to_stop(top, [find(top, "ctl-1")]), top)
    assert lines == ["  on ctl-1: seen db-1; declared mq-1 (runs_on)",
                     "  placement conflict: mq-2 seen on ctl-1 (answers at 10.0.0.11), but declared on ctl-2"]
