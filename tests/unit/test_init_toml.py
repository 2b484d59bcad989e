"""``hatui init``'s TOML writing: values stay inside their strings, comments inside their line, blanks are
comments, and what it writes loads with hatui's own loader and holds no secret."""
from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hatui.config import ConfigError, parse
from hatui.faces import init_toml
from hatui.faces.init_discovery import CloudFacts, Facts, GaleraFacts, HaproxyFacts, PasswordRef, RabbitFacts, Request
from hatui.faces.init_plan import plan
from hatui.faces.init_render import render

NASTY = ['a "quoted" name', "back\\slash", "new\nline", "tab\there", "bell\x07 and del\x7f", "ctl-1 # not a comment",
         "]] [[hosts.host]]", "ünïcødé ☃ 𝄞", "'single'", '"""triple"""']


@pytest.mark.parametrize("text", NASTY)
def test_a_string_reads_back_as_written(text):
    assert tomllib.loads(f"k = {init_toml.string(text)}\n") == {"k": text}


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_any_string_reads_back_as_written(text):
    assert tomllib.loads(f"k = {init_toml.string(text)}\n") == {"k": text}


def test_values_of_every_type_hatui_reads():
    doc = init_toml.Document()
    doc.set("s", "x"), doc.set("i", 3306), doc.set("f", 1.0), doc.set("b", False), doc.set("l", ["a", 'b"'])
    doc.set("empty", [])
    assert tomllib.loads(doc.text()) == {"s": "x", "i": 3306, "f": 1.0, "b": False, "l": ["a", 'b"'], "empty": []}
    with pytest.raises(ValueError):
        init_toml.value(float("nan"))


def test_a_comment_cannot_end_early_and_start_a_line_of_its_own():
    doc = init_toml.Document()
    doc.table("t", "evil\n[x]\nk = 1")
    doc.set("a", 1, "also\r\nk = 2")
    doc.comment("one\nb = 3")
    doc.blank("c", "d\ne = 4", "f\ng = 5")
    doc.blank("bmc", '{ type = "ipmi" }\nh = 6', raw=True)
    assert tomllib.loads(doc.text()) == {"t": {"a": 1}}


def test_blanks_are_comments_the_operator_uncomments():
    doc = init_toml.Document()
    doc.table("hosts.host", array=True)
    doc.set("name", "ctl-1")
    doc.blank("power_feed", "", "failure domain")
    doc.blank("ports", [22])
    text = doc.text()
    assert '# power_feed = ""' in text and "# ports = [22]" in text
    assert tomllib.loads(text) == {"hosts": {"host": [{"name": "ctl-1"}]}}
    # uncommented without a value, it is refused by hatui's loader (not silently empty)
    with pytest.raises(ConfigError, match='power_feed: expected .*got ""'):
        parse(tomllib.loads(text.replace('# power_feed = ""', 'power_feed = ""')), "x.toml", resolve_secrets=False)


def test_a_key_that_is_not_bare_is_quoted():
    assert init_toml.key("name") == "name" and init_toml.key("a b") == '"a b"'


def _facts(host_name: str = "ctl-1") -> Facts:
    req = Request(cloud="prod \"east\"", db_hosts=(("10.0.0.11", 3306),), db_password=PasswordRef("DB_PW"),
                  mq_urls=("http://10.0.0.11:15672",), mq_user="mon", mq_password=PasswordRef(file="/etc/hatui/mq"),
                  haproxy_urls=("http://10.0.0.11:8404/;csv",))
    cloud = CloudFacts(name=req.cloud, auth_url="https://api.example.com:5000/v3",
                       catalog=[{"type": "compute", "name": "nova", "endpoints": [
                           {"interface": "public", "region": "R1", "url": "https://api.example.com:8774/v2.1"},
                           {"interface": "internal", "region": "R1", "url": "http://10.0.0.10:8774/v2.1"}]}],
                       services={"nova": [{"binary": "nova-compute", "host": "cmp-1.example.com"},
                                          {"binary": "nova-conductor", "host": host_name}],
                                 "neutron": []},
                       errors={"neutron": "not allowed: neutron returns an empty agent list"})
    galera = GaleraFacts(addresses=[("10.0.0.11", 3306), ("10.0.0.12", 3306), ("10.0.0.99", 3306)],
                         answered=[("10.0.0.11", 3306)])
    rabbit = RabbitFacts(nodes=[f"rabbit@{host_name}", "rabbit@ctl-2"], running={"rabbit@ctl-2": False},
                         answered={f"rabbit@{host_name}": ("10.0.0.11", 15672)},
                         amqp={"rabbit@ctl-2": ("10.0.0.12", 5673)})
    lb = HaproxyFacts("lb", "http://10.0.0.11:8404/;csv",
                      backends=[("nova_api", [(host_name, ""), ("ctl-2", "10.0.0.12:8774"), ("other", "10.0.0.50:1")])])
    return Facts(request=req, cloud=cloud, galera=galera, rabbit=rabbit, haproxy=[lb])


def _load(text: str) -> dict:
    doc = tomllib.loads(text)
    parse(doc, "init.toml", resolve_secrets=False)  # hatui's own loader and validation
    return doc


def test_the_written_config_loads_and_says_what_was_learned():
    doc = _load(render(plan(_facts()), now=0))
    hosts = {h["name"]: h for h in doc["hosts"]["host"]}
    assert set(hosts) == {"cmp-1", "ctl-1", "ctl-2", "10.0.0.99"}  # cmp-1.example.com: the short name
    assert hosts["ctl-1"]["addresses"] == ["10.0.0.11"] and hosts["ctl-2"]["addresses"] == ["10.0.0.12"]
    assert "addresses" not in hosts["cmp-1"]  # not learned: a commented blank
    assert all(k not in h for h in hosts.values() for k in ("bmc", "power_feed", "rack", "switch"))
    assert [(n["name"], n["host"]) for n in doc["galera"]["nodes"]] == [
        ("ctl-1", "10.0.0.11"), ("ctl-2", "10.0.0.12"), ("10.0.0.99", "10.0.0.99")]
    assert [(n["name"], n["host"], n.get("amqp_port")) for n in doc["rabbitmq"]["nodes"]] == [
        ("ctl-1", "10.0.0.11", None), ("ctl-2", "10.0.0.12", 5673)]
    assert doc["galera"]["password_env"] == "DB_PW" and doc["rabbitmq"]["password_file"] == "/etc/hatui/mq"
    assert doc["openstack"]["cloud"] == 'prod "east"'
    # the catalog's URLs at no host's address are the HAProxy's VIPs
    assert doc["openstack"]["haproxy"] == [{"name": "lb", "url": "http://10.0.0.11:8404/;csv",
                                            "addresses": ["api.example.com", "10.0.0.10"]}]


def test_what_could_not_be_read_is_said_where_it_would_have_gone():
    text = render(plan(_facts()), now=0)
    assert "# neutron: not read at init: not allowed" in text
    assert "#   openstack neutron: not allowed" in text
    ctl2 = text[text.index('name = "ctl-2"'):]
    assert "not running at init" in text[text.index('erlang_node = "rabbit@ctl-1"'):]
    assert "# bmc = {" in ctl2 and '# power_feed = ""' in ctl2


@pytest.mark.parametrize("name", NASTY)
def test_names_from_the_cloud_stay_inside_their_strings(name):
    facts = _facts(host_name=name)
    doc = _load(render(plan(facts), now=0))
    names = [h["name"] for h in doc["hosts"]["host"]]
    assert name.split(".")[0] in names  # one host, however it is spelled; nothing else made of it
    assert doc["rabbitmq"]["nodes"][0]["erlang_node"] == f"rabbit@{name}"


def test_no_secret_in_what_is_written():
    text = render(plan(_facts()), now=0)
    assert "password =" not in text and "password=" not in text
    keys = {line.split("=")[0].strip() for line in text.splitlines() if "password" in line and not line.startswith("#")}
    assert keys == {"password_env", "password_file"}


def test_two_nodes_on_one_host_get_names_of_their_own():
    facts = _facts()
    facts.rabbit.nodes.append("hare@ctl-1")
    facts.galera.addresses.append(("10.0.0.11", 3307))
    doc = _load(render(plan(facts), now=0))
    assert [n["name"] for n in doc["rabbitmq"]["nodes"]] == ["ctl-1", "ctl-2", "ctl-1-hare"]
    assert [n["name"] for n in doc["galera"]["nodes"]] == ["ctl-1", "ctl-2", "10.0.0.99", "ctl-1-3307"]


def test_without_an_haproxy_the_catalog_s_vips_are_said():
    facts = _facts()
    facts.haproxy.clear()
    text = render(plan(facts), now=0)
    assert "# Catalog URLs at api.example.com, 10.0.0.10: at no host's address (a VIP?)" in text
    assert "haproxy" not in _load(text)["openstack"]
