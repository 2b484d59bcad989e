"""The config loader on mutated real configs: it loads, or raises ConfigError naming the file and the key.

Bases: the annotated example config, the lab's configs (the captures' own), and the clouds.yaml /
secure.yaml the OpenStack tests use. Mutated as TOML documents (tables, types, numbers), as TOML text
(truncated, cut, garbage inserted) and as clouds.yaml / secure.yaml, both as YAML documents and as text.
"""
from __future__ import annotations

import datetime
import json
import os
import tempfile
import tomllib
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from hatui.config import Config, ConfigError, load, parse
from tests import fixtures_hosts, fixtures_openstack, fixtures_rabbit
from tests.unit.fuzz_strategies import fuzz, mutated, mutated_text

ROOT = Path(__file__).parents[2]
EXAMPLE = (ROOT / "hatui.example.toml").read_text()
SECRETS = {"HATUI_GALERA_PASSWORD": "g-pw", "HATUI_RABBIT_PASSWORD": "r-pw", "HATUI_RABBIT_CANARY_PASSWORD": "c-pw",
           "HATUI_BMC_PASSWORD": "b-pw", "HATUI_IPMI_PASSWORD": "i-pw", "HATUI_LAB_BMC_PW": "l-pw"}
CLOUDS = {"clouds": {"mycloud": {
    "auth": {"auth_url": "https://keystone.example:5000/v3", "username": "hatui", "project_name": "ops",
             "user_domain_name": "Default", "project_domain_name": "Default"},
    "region_name": "RegionOne", "interface": "internal", "verify": True}}}
SECURE = {"clouds": {"mycloud": {"auth": {"password": "secure-yaml-pw"}}}}


def _documents() -> list[dict]:
    docs = [tomllib.loads(EXAMPLE)]
    for name in ("healthy", "redfish_off", "ipmi_off", "link_down"):
        docs.append(tomllib.loads(fixtures_hosts.scenario(name)["config"]))
    docs.append(dict(fixtures_rabbit.rabbit_config(canary=True, erlang_nodes=True).document))
    docs.append(dict(fixtures_openstack.lab_config().document))
    return [json.loads(json.dumps(d)) for d in docs]


DOCUMENTS = _documents()
# what TOML can hold that JSON cannot: times and dates; and it has no null
TOML_ONLY = [datetime.datetime(2026, 12, 3, 11, 0), datetime.date(2026, 12, 3), datetime.time(11, 0)]


def tomlable(value):
    """A mutated document as tomllib could have read it: no None, string keys, times allowed."""
    if isinstance(value, dict):
        return {str(k): tomlable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [tomlable(v) for v in value]
    if value is None:
        return TOML_ONLY[len(str(value)) % 3]
    return value


def loads_or_names_the_key(call, file: str):
    try:
        config = call()
    except ConfigError as exc:
        assert exc.file == file and exc.key and exc.expected, exc
        assert str(exc).startswith(f"{file}: {exc.key}: expected "), exc
        return None
    assert isinstance(config, Config)
    return config


@pytest.fixture(scope="module")
def environment():
    """The example's password variables set, and a clouds.yaml + secure.yaml for its cloud."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as d:
        clouds, secure = Path(d) / "clouds.yaml", Path(d) / "secure.yaml"
        clouds.write_text(yaml.safe_dump(CLOUDS))
        secure.write_text(yaml.safe_dump(SECURE))
        for var in ("OS_CLOUD", "OS_AUTH_URL", "OS_PASSWORD", "OS_USERNAME"):
            os.environ.pop(var, None)
        os.environ.update(SECRETS, OS_CLIENT_CONFIG_FILE=str(clouds), OS_CLIENT_SECURE_FILE=str(secure),
                          XDG_CACHE_HOME=d)
        try:
            yield Path(d)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def test_the_bases_load(environment):
    for doc in DOCUMENTS:
        assert isinstance(parse(doc, "fuzz.toml", resolve_secrets=False), Config)
    path = environment / "hatui.toml"
    path.write_text(EXAMPLE)
    assert load(str(path)).section("openstack").cloud_region.config["auth"]["password"] == "secure-yaml-pw"


@fuzz(600)
@given(st.sampled_from(DOCUMENTS).flatmap(mutated).map(tomlable))
def test_fuzz_config_document(doc):
    loads_or_names_the_key(lambda: parse(doc, "fuzz.toml", resolve_secrets=False), "fuzz.toml")


@fuzz(200)
@given(st.sampled_from(DOCUMENTS[:1]).flatmap(mutated).map(tomlable))
def test_fuzz_config_document_with_secrets_and_cloud(environment, doc):
    """Resolving the references too: password_env / password_file, and the cloud through openstacksdk."""
    loads_or_names_the_key(lambda: parse(doc, "fuzz.toml"), "fuzz.toml")


@fuzz(250)
@given(mutated_text(EXAMPLE))
def test_fuzz_config_text(environment, text):
    path = environment / "hatui.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    loads_or_names_the_key(lambda: load(str(path)), str(path))


def _cloud_loads_or_names_the_key(environment: Path, name: str, text: str) -> None:
    """With ``name`` (clouds.yaml or secure.yaml) holding ``text``: the cloud loads, or the error names hatui's
    key or the clouds file and the cloud's entry."""
    (environment / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        try:
            config = parse({"openstack": {"cloud": "mycloud"}}, "fuzz.toml")
        except ConfigError as exc:
            assert exc.file in ("fuzz.toml", str(environment / "clouds.yaml"), str(environment / "secure.yaml")), exc
            assert exc.key in ("openstack.cloud", "openstack.region", "clouds.mycloud"), exc
            assert str(exc).startswith(f"{exc.file}: {exc.key}: expected "), exc
            return
        assert isinstance(config, Config)
    finally:
        (environment / "clouds.yaml").write_text(yaml.safe_dump(CLOUDS))
        (environment / "secure.yaml").write_text(yaml.safe_dump(SECURE))


@fuzz(150)
@given(st.sampled_from(["clouds.yaml", "secure.yaml"]).flatmap(
    lambda n: st.tuples(st.just(n), mutated(CLOUDS if n == "clouds.yaml" else SECURE))))
def test_fuzz_clouds_yaml(environment, name_doc):
    name, doc = name_doc
    _cloud_loads_or_names_the_key(environment, name, yaml.safe_dump(doc, allow_unicode=True))


@fuzz(100)
@given(st.sampled_from(["clouds.yaml", "secure.yaml"]).flatmap(
    lambda n: st.tuples(st.just(n), mutated_text(yaml.safe_dump(CLOUDS if n == "clouds.yaml" else SECURE)))))
def test_fuzz_clouds_yaml_text(environment, name_text):
    _cloud_loads_or_names_the_key(environment, *name_text)


RECORDING = (ROOT / "tests" / "fixtures" / "rabbit" / "recorded" / "mem_alarm.jsonl").read_text().splitlines()[:12]


@fuzz(120)
@given(st.integers(0, len(RECORDING) - 1).flatmap(lambda i: st.tuples(st.just(i), mutated(json.loads(RECORDING[i])))),
       st.booleans())
def test_fuzz_recording(environment, row_line, and_text):
    """A recording (replay, demo) with a mutated line: it is read, or RecordingError names the file; what is
    read replays through the Monitor with its own config without a hatui bug."""
    from hatui.feed.recording import RecordingError, read_recording
    from hatui.monitor import Monitor

    row, line = row_line
    lines = list(RECORDING)
    lines[row] = json.dumps(line, allow_nan=True, default=str)
    if and_text:  # the line cut short too, as a recording whose writer died mid-line
        lines[row] = lines[row][: len(lines[row]) * 2 // 3]
    path = environment / "fuzz.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    try:
        doc, observations = read_recording(path)
    except RecordingError as exc:
        assert str(exc).startswith(f"{path}: "), exc
        return
    try:
        config = parse(doc, str(path), resolve_secrets=False)
    except ConfigError:
        return
    m = Monitor(config, started_at=min((o.observed_at for o in observations), default=0.0))
    for o in observations:
        m.ingest(o)
    a = m.assess(max((o.observed_at for o in observations), default=0.0) + 0.01)
    assert not [f for f in a.findings if f.id.startswith(("hatui.rule_error", "hatui.state_error"))]
