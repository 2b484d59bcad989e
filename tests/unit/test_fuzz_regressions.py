"""What the fuzz tests found (tests/unit/test_fuzz_*.py), each as its minimal failing example.

Before the fix, each of these raised something else than Garbled / SourceError / ConfigError (or was
accepted, and crashed a rule or polled at a NaN interval later).
"""
from __future__ import annotations

import math

import pytest

from hatui.config import ConfigError, parse
from hatui.model import Garbled
from hatui.model.endpoints import parse_endpoint_round
from hatui.model.galera import StatusGarbled, parse_wsrep_status
from hatui.model.haproxy import HaproxyGarbled, parse_haproxy_stats
from hatui.model.hosts import HostDataGarbled, parse_links, parse_power, parse_probes
from hatui.model.keystone import KeystoneGarbled, parse_token
from hatui.model.rabbitmq import (
    RabbitGarbled,
    parse_canary,
    parse_health_check,
    parse_management,
    parse_node_entry,
    version_tuple,
)
from hatui.model.services import ServicesGarbled, parse_nova_services
from hatui.monitor import Monitor
from hatui.sources.base import SourceError
from tests import fixtures_openstack, fixtures_rabbit

PRIMARY = {"wsrep_cluster_status": "Primary"}


@pytest.mark.parametrize("data", [
    {"status": {**PRIMARY, "wsrep_cluster_size": ["3"]}},    # TypeError in float()
    {"status": {**PRIMARY, "wsrep_cluster_size": "1e999"}},  # OverflowError: int(inf)
    {"status": {**PRIMARY, "wsrep_cluster_size": "3"}, "variables": ["x"]},  # AttributeError: list.get
])
def test_galera(data):
    with pytest.raises(StatusGarbled):
        parse_wsrep_status(data)


@pytest.mark.parametrize("entry", [
    {"name": "rabbit@a", "mem_used": math.nan},       # ValueError: int(nan)
    {"name": "rabbit@a", "mem_used": math.inf},       # OverflowError: int(inf)
    {"name": "rabbit@a", "fd_used": 10**400, "fd_total": 3},  # parsed, then usage() overflowed in a rule
])
def test_rabbit_node_numbers(entry):
    with pytest.raises(RabbitGarbled):
        parse_node_entry(entry)


def test_rabbit_health_check_alarms_not_a_list():
    with pytest.raises(RabbitGarbled):  # TypeError: int is not iterable
        parse_health_check({"status": "failed", "alarms": 2147483648})


@pytest.mark.parametrize("data", [
    {"overview": {"node": "rabbit@a"}, "checks": []},  # AttributeError: list.items
    {"overview": {"node": "rabbit@a"}, "errors": "x"},
    {"overview": {"node": "rabbit@a"}, "last_nodes": {"at": "x", "nodes": [{"name": "rabbit@a"}]}},  # float("x")
])
def test_rabbit_management(data):
    with pytest.raises(RabbitGarbled):
        parse_management(data)


def test_rabbit_version_with_a_superscript_digit():
    assert version_tuple("3.²") == (3,)  # "²".isdigit() but int("²") raised ValueError (khepri_possible, rules)


def test_rabbit_canary_time_beyond_a_float():
    with pytest.raises(RabbitGarbled):  # OverflowError: float(10**400)
        parse_canary({"connect": 10**400, "round_trip": 0.001, "blocked": None})


def test_rabbit_source_overview_not_an_object():
    """The management source itself raised AttributeError on an overview that is a list."""
    src = fixtures_rabbit.source(1)
    data = src.answer({"overview": [], "checks/local-alarms": {"status": "ok"}})
    assert data["overview"] == []
    with pytest.raises(RabbitGarbled):
        parse_management(data)


def test_keystone_roles_not_a_list():
    with pytest.raises(KeystoneGarbled):  # TypeError: int is not iterable
        parse_token({"roles": 5, "catalog": []})


@pytest.mark.parametrize("token", [
    {"roles": ["admin"]},            # AttributeError: str.get
    {"catalog": 5},                  # TypeError: int is not iterable
    {"catalog": ["identity"]},       # AttributeError: str.get
    {"catalog": [{"endpoints": 1}]},
])
def test_keystone_token_document_garbled(token):
    from hatui.sources.keystone import token_data

    with pytest.raises(SourceError) as err:
        token_data("http://k/v3", {"token": token})
    assert err.value.kind == "garbled"


def test_keystone_token_user_and_project_as_names():
    from hatui.sources.keystone import token_data

    # AttributeError: str.get / list.get; now read as what they say
    data = token_data("http://k/v3", {"token": {"user": "bob", "project": ["p"], "roles": [], "catalog": []}})
    assert data["user"] == "bob" and data["scope"] == "project ['p']"


def test_catalog_with_a_numeric_region_groups():
    from hatui.sources.endpoints import catalog_groups
    from hatui.sources.keystone import trim_catalog

    catalog = trim_catalog([{"type": "compute", "endpoints": [{"url": "http://a", "region_id": 1},
                                                              {"url": "http://b", "region_id": "r"}]}])
    # TypeError in the sort: '<' between int and str (the endpoint round failed on every poll)
    assert [g["region"] for g in catalog_groups(catalog)] == ["1", "r"]


def test_endpoint_status_as_text_is_garbled_not_a_rule_error():
    """Parsed as it was, "200" reached the rules: TypeError '>=' between str and int (hatui.rule_error)."""
    obs = fixtures_openstack.endpoints_obs({"http://127.0.0.1:8774/v2.1": {
        **fixtures_openstack.version_answer("versions/nova_8774_v2.1.json"), "status": "200"}})
    with pytest.raises(Garbled):
        parse_endpoint_round(obs.data)
    m = Monitor(fixtures_openstack.lab_config(), started_at=99.0)
    for o in fixtures_openstack.healthy():
        m.ingest(obs if o.key == obs.key else o)
    ids = {f.id for f in m.assess(100.01).findings}
    assert "endpoint.garbled:endpoints" in ids and not any(i.startswith("hatui.") for i in ids)


def test_haproxy_csv_with_a_stray_carriage_return():
    from hatui.sources.haproxy import stat_rows

    data = stat_rows("# pxname,\rsvname\nx,y\n")  # csv.Error: new-line character seen in unquoted field
    with pytest.raises(HaproxyGarbled):
        parse_haproxy_stats(data)


def test_nova_server_time_not_a_number():
    row = {"binary": "nova-conductor", "host": "h", "state": "up", "status": "enabled", "updated_at": None}
    with pytest.raises(ServicesGarbled):  # TypeError: str - float
        parse_nova_services({"services": [row], "server_time": "Thu"}, 100.0)


@pytest.mark.parametrize("call", [
    lambda: parse_power({"via": "redfish", "system": None, "members": 5}),        # TypeError: not iterable
    lambda: parse_power({"via": "redfish", "system": {"PowerState": ["On"]}}),    # TypeError: unhashable
    lambda: parse_probes({"probes": [{"address": "a", "probe": "icmp", "outcome": ["open"]}]}),  # unhashable
    lambda: parse_probes({"probes": [{"address": "a", "probe": "icmp", "outcome": "open", "latency": ""}]}),
    lambda: parse_links({"interfaces": {"bond0": {"exists": True, "bond": {"slaves": ["eth0"]}}}}),  # list.items
    lambda: parse_links({"interfaces": {"eth0": {"exists": True, "errin": math.inf}}}),  # OverflowError
])
def test_hosts(call):
    with pytest.raises(HostDataGarbled):
        call()


@pytest.mark.parametrize("doc, key", [
    ({"hatui": {"interval": math.nan}}, "hatui.interval"),   # accepted: polled at a NaN interval
    ({"hatui": {"timeout": math.inf}}, "hatui.timeout"),
    ({"hatui": {"interval": 10**400}}, "hatui.interval"),    # OverflowError: int too large to convert to float
    ({"": 1}, '""'),                                         # named the key as nothing at all
])
def test_config_numbers_and_names(doc, key):
    with pytest.raises(ConfigError) as err:
        parse(doc, "t.toml", resolve_secrets=False)
    assert err.value.key == key and str(err.value).startswith(f"t.toml: {key}: expected")


@pytest.mark.parametrize("clouds", [
    "clouds: 5\n",                                           # TypeError inside openstacksdk
    "clouds:\n  lab:\n    auth: 7\n",                        # TypeError inside openstacksdk
    "clouds:\n  lab:\n    auth:\n      auth_url: 12\n      username: u\n      password: p\n",  # AttributeError
])
def test_clouds_yaml_openstacksdk_cannot_read(clouds, tmp_path, monkeypatch):
    path = tmp_path / "clouds.yaml"
    path.write_text(clouds)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    for var in ("OS_CLOUD", "OS_AUTH_URL", "OS_PASSWORD", "OS_USERNAME"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError) as err:
        parse({"openstack": {"cloud": "lab"}}, "t.toml")
    assert (err.value.file, err.value.key) in ((str(path), "clouds.lab"), ("t.toml", "openstack.cloud"))


def test_ping_time_that_is_not_a_number():
    from hatui.sources.icmp import ping_outcome

    text = "64 bytes from 10.0.0.9: icmp_seq=1 ttl=64 time=1.2.3 ms\n"  # ValueError: float("1.2.3")
    assert ping_outcome("10.0.0.9", 0, text, 0.5)["outcome"] == "open"


def test_bond_slave_name_with_a_nul(tmp_path):
    from hatui.sources.local import bond_state

    (tmp_path / "bond0" / "bonding").mkdir(parents=True)
    (tmp_path / "bond0" / "bonding" / "slaves").write_text("eth0 e\x00th1\n")  # ValueError: embedded null byte
    (tmp_path / "bond0" / "bonding" / "mode").write_bytes(b"active-backup \xff1\n")  # UnicodeDecodeError
    bond = bond_state("bond0", tmp_path)
    assert bond == {"mode": "", "slaves": {"eth0": "unknown", "e\x00th1": "unknown"}, "active": None}


@pytest.mark.parametrize("line, why", [
    ('{"source": "galera", "target": "db-1", "at": 1e400}', "not a time"),       # at = inf: fresh for ever
    ('{"source": "galera", "target": "db-1", "at": NaN}', "not a time"),
    ('{"source": "galera", "target": "db-1", "at": 1' + "0" * 400 + "}", "int too large"),  # OverflowError
])
def test_recording_line_with_a_time_that_is_not_one(tmp_path, line, why):
    from hatui.feed.recording import RecordingError, read_recording

    path = tmp_path / "r.jsonl"
    path.write_text('{"hatui_recording": 1, "config": {}}\n' + line + "\n")
    with pytest.raises(RecordingError, match=f"line 2: not an observation .*{why}"):
        read_recording(path)


@pytest.mark.parametrize("config", ["5", "[{}]"])
def test_recording_header_config_not_a_table(tmp_path, config):
    from hatui.feed.recording import RecordingError, read_recording

    path = tmp_path / "r.jsonl"
    path.write_text('{"hatui_recording": 1, "config": ' + config + "}\n")
    with pytest.raises(RecordingError, match="line 1: the header's config is not a table"):
        read_recording(path)  # parse() then raised TypeError: 'int' is not iterable / unhashable dict
