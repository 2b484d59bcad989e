"""Which RabbitMQ node each RPC client is on (hatui.model.rabbitmq_clients), from the cloud lab's real
connection list, and what the model does with it: a client down because its node died is explained by
that node's cause, and ok-to-stop names the clients a stop cuts off."""
from __future__ import annotations

from types import MappingProxyType, SimpleNamespace

from hatui.model import Observation
from hatui.model.rabbitmq_clients import KEEP_GONE, ClientsGarbled, clients_of, summarise
from hatui.model.redundancy import Element, reconnecting
from hatui.model.topology import QUEUE, Topology, _Hosts, _rpc_links
from hatui.rules.causes import causes
from hatui.schedule import target_specs
from hatui.sources.rabbitmq_clients import RabbitClientsSource
from tests import fixtures_rabbit
from tests.unit.test_causes import f
from tests.unit.test_redundancy import HOSTS, inst

CAPTURE = fixtures_rabbit.connections_capture()
CMP1 = CAPTURE["hosts"]["cmp-1"]


def test_the_lab_connection_list_says_which_node_each_client_is_on():
    clients = clients_of(fixtures_rabbit.clients_observation())
    assert clients.nodes_of("nova-compute", CMP1) == {"rabbit@ctl-1", "rabbit@ctl-2", "rabbit@ctl-3"}
    assert clients.nodes_of("nova-scheduler", CAPTURE["hosts"]["ctl-2"]) == {"rabbit@ctl-1"}
    assert sum(x.connections for x in clients.links) == len(CAPTURE["body"])  # every one an oslo client


def test_connections_that_are_not_oslo_clients_are_left_out_and_nonsense_is_garbled():
    body = [{"node": "rabbit@ctl-1", "peer_host": "10.0.0.5", "client_properties": {"product": "pika"}},
            {"node": "rabbit@ctl-1", "peer_host": "10.0.0.5",
             "client_properties": {"connection_name": "nova-compute:12:abc"}}]
    assert summarise(body) == [{"binary": "nova-compute", "peer": "10.0.0.5", "node": "rabbit@ctl-1",
                                "connections": 1}]
    for bad in ({"error": "x"}, ["<html>"]):
        try:
            summarise(bad)
        except ClientsGarbled as exc:
            assert "connection list" in str(exc)
        else:
            raise AssertionError(f"{bad!r} read as a connection list")


def test_a_node_that_vanishes_keeps_its_last_clients_for_a_while():
    config = fixtures_rabbit.rabbit_config()
    spec = next(s for s in target_specs(config) if s.source == "rabbitmq-clients")
    src = RabbitClientsSource(spec, config.section("rabbitmq"))
    links = summarise(CAPTURE["body"])
    src._remember(links, 100.0)
    later = src._remember([x for x in links if x["node"] != "rabbit@ctl-2"], 110.0)
    kept = [x for x in later if x["node"] == "rabbit@ctl-2"]
    assert kept and all(x["gone_since"] == 100.0 for x in kept)
    obs = Observation("rabbitmq-clients", spec.name, 110.0, 0.01, data={"asked": "mq-1", "links": later})
    assert "rabbit@ctl-2" in clients_of(obs).nodes_of("nova-compute", CMP1)
    gone = src._remember([x for x in links if x["node"] != "rabbit@ctl-2"], 100.0 + KEEP_GONE + 1)
    assert not [x for x in gone if x["node"] == "rabbit@ctl-2"]


def _cloud_lab_topology(mq2_up: bool = True) -> Topology:
    """ctl-1..3 each with a queue node mq-N, cmp-1 (on ctl-3's feed) running nova-compute."""
    from tests.unit.test_redundancy import host

    hosts = [*HOSTS, host("cmp-1", "pdu-b", "sw-3", "r3")]
    instances = [inst(f"mq-{n}", QUEUE, f"ctl-{n}", up=mq2_up or n != 2) for n in (1, 2, 3)]
    instances.append(inst("nova-compute@cmp-1", "nova-compute", "cmp-1", up=False))
    section = SimpleNamespace(hosts=[SimpleNamespace(name=n, addresses=[CAPTURE["hosts"][n]]) for n in
                                     ("ctl-1", "ctl-2", "ctl-3", "cmp-1")])
    picture = SimpleNamespace(clients=clients_of(fixtures_rabbit.clients_observation()),
                              label=lambda erlang: "mq-" + erlang.rsplit("-", 1)[1])
    rpc = _rpc_links(picture, _Hosts(section), {i.key for i in instances})
    return Topology(MappingProxyType({h.name: h for h in hosts}), MappingProxyType({}), tuple(instances),
                    MappingProxyType(rpc))


def test_a_compute_down_while_its_node_is_powered_off_is_explained_by_the_power_cut():
    top = _cloud_lab_topology(mq2_up=False)
    assert top.rpc["nova-compute/nova-compute@cmp-1"] == {f"{QUEUE}/mq-{n}" for n in (1, 2, 3)}
    found = [f("hosts.power_off:ctl-2"), f("rabbitmq.unreachable:mq-2"), f("services.down:nova-compute@cmp-1"),
             f("services.none_up:nova-compute")]
    got = causes(found, top)
    assert got["services.down:nova-compute@cmp-1"] == got["services.none_up:nova-compute"] == "hosts.power_off:ctl-2"
    # every node it is on up: its trouble is its own
    assert "services.down:nova-compute@cmp-1" not in causes([f("services.down:nova-compute@cmp-1")],
                                                             _cloud_lab_topology())


def test_ok_to_stop_names_the_clients_a_stop_cuts_off_their_node():
    top = _cloud_lab_topology()
    assert reconnecting(top, [Element("host", "ctl-2")]) == {"mq-2": ("nova-compute@cmp-1",)}
    assert reconnecting(top, [Element("host", "cmp-1")]) == {}  # the client itself stops


def test_a_compute_down_while_a_conductor_died_with_its_host_follows_that_host():
    from hatui.model.survival import AtLeast
    from hatui.model.topology import Service
    top = _cloud_lab_topology()
    conductors = [inst(f"nova-conductor@ctl-{n}", "nova-conductor", f"ctl-{n}", up=n != 2) for n in (1, 2, 3)]
    services = {"nova-compute": Service("nova-compute", AtLeast(1), ("nova-conductor",)),
                "nova-conductor": Service("nova-conductor", AtLeast(1))}
    top = Topology(top.hosts, MappingProxyType(services), top.instances + tuple(conductors),
                   MappingProxyType({}))  # no RPC link to a dead node
    found = [f("hosts.power_off:ctl-2"), f("services.down:nova-conductor@ctl-2"),
             f("services.down:nova-compute@cmp-1")]
    assert causes(found, top)["services.down:nova-compute@cmp-1"] == "hosts.power_off:ctl-2"
