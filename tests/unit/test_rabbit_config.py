"""The [rabbitmq] section: targets per node (API and canary), secrets by reference, strict keys."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hatui.config import ConfigError, parse
from hatui.schedule import target_specs

NODE = {"name": "mq-1", "host": "10.0.0.21"}


def test_example_config_watches_each_node_twice_with_a_slower_canary(monkeypatch):
    monkeypatch.setenv("HATUI_RABBIT_PASSWORD", "mon-secret")
    monkeypatch.setenv("HATUI_RABBIT_CANARY_PASSWORD", "canary-secret")
    doc = tomllib.loads((Path(__file__).parents[2] / "hatui.example.toml").read_text())
    cfg = parse({"hatui": doc["hatui"], "rabbitmq": doc["rabbitmq"]}, "hatui.example.toml")  # this section alone
    section = cfg.section("rabbitmq")
    assert section.size_expected == 3
    assert section.password.reveal() == "mon-secret" and section.canary.password.reveal() == "canary-secret"
    specs = {s.key: s for s in target_specs(cfg) if s.source.startswith("rabbitmq")}
    assert sorted(specs) == sorted([(src, f"mq-{n}") for src in ("rabbitmq", "rabbitmq-amqp") for n in (1, 2, 3)])
    assert specs[("rabbitmq", "mq-1")].interval == 1.0 and specs[("rabbitmq-amqp", "mq-1")].interval == 5.0
    assert "canary-secret" not in repr(cfg.sections)


def test_no_canary_section_no_canary_targets():
    cfg = parse({"rabbitmq": {"nodes": [NODE]}}, "t.toml", resolve_secrets=False)
    assert [s.key for s in target_specs(cfg)] == [("rabbitmq", "mq-1")]


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
