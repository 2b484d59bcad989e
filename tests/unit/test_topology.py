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
