"""What runs where (hatui.model.topology): placement matched from addresses and reported names, declared
where nothing can be seen, conflicts kept, the unknown left unknown."""
from __future__ import annotations

from hatui.config import load
from hatui.model.topology import DATABASE, DECLARED, OBSERVED, QUEUE, UNKNOWN, build

CONFIG = """
[galera]
password_env = "PW"
[[galera.nodes]]
name = "db-1"
host = "10.0.0.11"
[[galera.nodes]]
name = "db-2"
host = "10.0.9.99"
runs_on = "ctl-2"
[[galera.nodes]]
name = "db-3"
host = "10.0.9.98"

[rabbitmq]
password_env = "PW"
[[rabbitmq.nodes]]
name = "mq-1"
host = "10.0.5.1"
erlang_node = "rabbit@CTL-1.example.org"
[[rabbitmq.nodes]]
name = "mq-2"
host = "10.0.0.12"
runs_on = "ctl-3"

[hosts]
[[hosts.host]]
name = "ctl-1"
addresses = ["10.0.0.11"]
power_feed = "pdu-a"
[[hosts.host]]
name = "ctl-2"
addresses = ["10.0.0.12"]
power_feed = "pdu-a"
switch = "sw-1"
[[hosts.host]]
name = "ctl-3"
addresses = ["10.0.0.13"]
"""


def topology(tmp_path, monkeypatch):
    monkeypatch.setenv("PW", "x")
    p = tmp_path / "hatui.toml"
    p.write_text(CONFIG)
    return build({}, load(str(p)))


def test_placement_learned_declared_conflicting_and_unknown(tmp_path, monkeypatch):
    top = topology(tmp_path, monkeypatch)
    placed = {i.name: i.placement for i in top.instances}
    assert (placed["db-1"].host, placed["db-1"].how) == ("ctl-1", OBSERVED)
    assert placed["db-1"].evidence == "answers at 10.0.0.11"
    assert (placed["db-2"].host, placed["db-2"].how) == ("ctl-2", DECLARED)
    assert (placed["db-3"].host, placed["db-3"].how) == (None, UNKNOWN)
    # the Erlang name's host part, whatever its case and domain
    assert (placed["mq-1"].host, placed["mq-1"].evidence) == ("ctl-1", "Erlang name rabbit@CTL-1.example.org")
    # seen at ctl-2's address, declared on ctl-3: the observed one is used, the conflict kept
    assert (placed["mq-2"].host, placed["mq-2"].how, placed["mq-2"].conflict) == ("ctl-2", OBSERVED,
                                                                                  "declared on ctl-3")
    assert top.unplaced(DATABASE) == ("db-3",) and top.unplaced(QUEUE) == ()


def test_no_answer_yet_means_unknown_state_and_domains_group_hosts(tmp_path, monkeypatch):
    top = topology(tmp_path, monkeypatch)
    assert {i.up for i in top.instances} == {None}  # nothing polled: nothing is called up
    assert top.domains() == {"pdu-a": ("power", ("ctl-1", "ctl-2")), "sw-1": ("switch", ("ctl-2",))}
    assert {h.up for h in top.hosts.values()} == {None}
    assert [i.name for i in top.on("ctl-2")] == ["db-2", "mq-2"]


LB_CONFIG = """
[openstack]
cloud = "c"
[[openstack.haproxy]]
name = "lb"
url = "http://10.0.0.11:8404/;csv"
addresses = ["10.0.0.10"]

[hosts]
[[hosts.host]]
name = "ctl-1"
addresses = ["10.0.0.11"]
[[hosts.host]]
name = "ctl-2"
addresses = ["10.0.0.12"]
"""


def _probe(service: str, name: str, url: str, status: int = 300):
    from hatui.model.endpoints import EndpointProbe
    return EndpointProbe(subject=name, service=service, name=name, interfaces=("public",), region=None,
                         url=url, extra=False, status=status, latency=0.01, versions=("v1",),
                         content_type="application/json", location=None, tls_verified=None, cert_days=None,
                         error=None)


def test_backend_named_for_a_catalog_service_as_deployers_name_them():
    from hatui.model.topology import _backend_for
    kolla = ("keystone_internal", "nova_api", "nova_metadata", "glance_api", "neutron_server", "placement_api")
    assert _backend_for("glance", "image", kolla) == "glance_api"
    assert _backend_for("neutron", "network", kolla) == "neutron_server"
    assert _backend_for("placement", "placement", kolla) == "placement_api"
    assert _backend_for("nova", "compute", kolla) is None  # nova_api or nova_metadata: cannot tell
    assert _backend_for("keystone", "identity", ("keystone", "keystone_admin")) == "keystone"  # exact wins
    assert _backend_for("cinderv3", "volumev3", kolla) is None


def test_catalog_urls_at_an_haproxy_address_go_through_it(tmp_path, monkeypatch):
    """The VIP is held where the HAProxy runs, and each API then needs its backend: losing the host of a
    lone HAProxy takes every API behind it down, and one backend's last server takes its API down."""
    from types import SimpleNamespace

    from hatui.model.endpoints import EndpointRound
    from hatui.model.haproxy import parse_haproxy_stats
    from hatui.model.redundancy import find, impact
    (tmp_path / "clouds.yaml").write_text("clouds:\n  c:\n    auth:\n      auth_url: http://10.0.0.10:5000/v3\n"
                                          "      username: u\n      password: p\n      project_name: x\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    p = tmp_path / "hatui.toml"
    p.write_text(LB_CONFIG)
    rows = [{"pxname": b, "svname": "BACKEND", "type": "1", "status": "UP"} for b in ("keystone", "glance_api")]
    rows += [{"pxname": "keystone", "svname": n, "type": "2", "status": "UP", "addr": f"{a}:5000"}
             for n, a in (("ctl-1", "10.0.0.11"), ("ctl-2", "10.0.0.12"))]
    rows += [{"pxname": "glance_api", "svname": "ctl-2", "type": "2", "status": "UP", "addr": "10.0.0.12:9292"}]
    backends = {"lb": parse_haproxy_stats({"rows": rows})}
    rnd = EndpointRound("keystone", 0.0, None, "public", (
        _probe("identity", "keystone", "http://10.0.0.10:5000/v3"),
        _probe("image", "glance", "http://10.0.0.10:9292/"),
        _probe("placement", "placement", "http://10.0.0.12:8778/")))
    top = build({"openstack": SimpleNamespace(round=rnd, backends=backends, service_rows=())}, load(str(p)))
    urls = {i.name: i.placement for i in top.instances if i.service.endswith(" API")}
    assert (urls["keystone"].host, urls["keystone"].evidence) == ("ctl-1", "URL at 10.0.0.10, an address of "
                                                                           "HAProxy lb")
    assert top.services["identity (keystone) API"].needs == ("backend lb/keystone",)
    assert top.services["image (glance) API"].needs == ("backend lb/glance_api",)
    assert top.services["placement API"].needs == ()  # no database configured: no edge to it
    assert urls["placement"].host == "ctl-2"  # straight to a host: on that host, no load balancer
    lost = impact(top, [find(top, "ctl-1")])
    assert {"identity (keystone) API", "image (glance) API"} <= set(lost) and "placement API" not in lost
    lost = impact(top, [find(top, "ctl-2")])  # glance's only server: its API, not keystone's
    assert "image (glance) API" in lost and "identity (keystone) API" not in lost
    # the round fails now: the APIs stay where the last round put them, their state unknown
    top = build({"openstack": SimpleNamespace(round=None, last_round=rnd, backends=backends, service_rows=())},
                load(str(p)))
    apis = {i.name: i for i in top.instances if i.service.endswith(" API")}
    assert apis["keystone"].placement.host == "ctl-1" and {i.up for i in apis.values()} == {None}
    assert top.services["identity (keystone) API"].needs == ("backend lb/keystone",)
