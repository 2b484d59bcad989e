"""The [rabbitmq] section: targets per node (API and canary), secrets by reference, strict keys."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hatui.config import ConfigError, parse
from hatui.schedule import target_specs

NODE = {"name": "mq-1", "host": "10.0.0.21"}


def test_example_config_watches_each_node_twice_with_a_slower_canary_and_lists_clients_once(monkeypatch):
    monkeypatch.setenv("HATUI_RABBIT_PASSWORD", "mon-secret")
    monkeypatch.setenv("HATUI_RABBIT_CANARY_PASSWORD", "canary-secret")
    doc = tomllib.loads((Path(__file__).parents[2] / "hatui.example.toml").read_text())
    cfg = parse({"hatui": doc["hatui"], "rabbitmq": doc["rabbitmq"]}, "hatui.example.toml")  # this section alone
    section = cfg.section("rabbitmq")
    assert section.size_expected == 3
    assert section.password.reveal() == "mon-secret" and section.canary.password.reveal() == "canary-secret"
    specs = {s.key: s for s in target_specs(cfg) if s.source.startswith("rabbitmq")}
    assert sorted(specs) == sorted([(src, f"mq-{n}") for src in ("rabbitmq", "rabbitmq-amqp") for n in (1, 2, 3)]
                                   + [("rabbitmq-clients", "openstack-mq"), ("rabbitmq-queues", "openstack-mq")])
    assert specs[("rabbitmq", "mq-1")].interval == 1.0 and specs[("rabbitmq-amqp", "mq-1")].interval == 5.0
    clients = specs[("rabbitmq-clients", "openstack-mq")]
    assert (clients.interval, clients.timeout) == (30.0, 1.0)  # the cluster's list, slowly; [hatui]'s timeout
    queues = specs[("rabbitmq-queues", "openstack-mq")]
    assert (queues.interval, queues.timeout) == (30.0, 1.0)  # the queue list too: durability, not every second
    assert "canary-secret" not in repr(cfg.sections)


def test_no_canary_section_no_canary_targets():
    cfg = parse({"rabbitmq": {"nodes": [NODE]}}, "t.toml", resolve_secrets=False)
    assert [s.key for s in target_specs(cfg)] == [("rabbitmq", "mq-1"), ("rabbitmq-clients", "rabbitmq")]
    cfg = parse({"rabbitmq": {"nodes": [NODE], "clients_interval": 0}}, "t.toml", resolve_secrets=False)
    assert [s.key for s in target_specs(cfg)] == [("rabbitmq", "mq-1")]


def test_a_recording_made_before_the_connection_list_replays_without_it(tmp_path):
    import gzip
    import json

    from hatui.feed.recording import read_recording
    from hatui.model import Observation
    from tests.ui.scenario import INCIDENT

    doc, observations = read_recording(INCIDENT)  # recorded before hatui listed connections
    assert not any(o.source == "rabbitmq-clients" for o in observations)
    assert ("rabbitmq-clients", doc["rabbitmq"].get("name", "rabbitmq")) not in {
        s.key for s in target_specs(parse(doc, "rec", resolve_secrets=False))}
    header = json.dumps({"hatui_recording": json.loads(gzip.open(INCIDENT, "rt").readline())["hatui_recording"],
                         "config": {"rabbitmq": {"nodes": [NODE]}}})
    listed = Observation("rabbitmq-clients", "rabbitmq", 1.0, 0.1, data={"asked": "mq-1", "links": []})
    obs = json.dumps(listed.to_json())
    (tmp_path / "r.jsonl").write_text(header + "\n" + obs + "\n")
    doc, _ = read_recording(tmp_path / "r.jsonl")  # one that has it keeps it
    assert ("rabbitmq-clients", "rabbitmq") in {s.key for s in target_specs(parse(doc, "rec", resolve_secrets=False))}


@pytest.mark.parametrize("table, key, expected", [
    ({"nodes": []}, "rabbitmq.nodes", "at least one node"),
    ({"scheme": "ftp", "nodes": [NODE]}, "rabbitmq.scheme", '"http" or "https"'),
    ({"canary": {"password_env": "X"}, "nodes": [NODE]}, "rabbitmq.canary.user", "(required)"),
    ({"canary": {"user": "c", "password_env": "HATUI_UNSET_RABBIT_VAR"}, "nodes": [NODE]},
     "rabbitmq.canary.password_env", "HATUI_UNSET_RABBIT_VAR to be set"),
    ({"nodes": [dict(NODE, amqp=5672)]}, "rabbitmq.nodes[0].amqp", "one of the known keys"),
])
def test_bad_rabbit_config_names_the_key(table, key, expected):
    with pytest.raises(ConfigError) as err:
        parse({"rabbitmq": table}, "t.toml")
    assert err.value.key == key and expected in err.value.expected
