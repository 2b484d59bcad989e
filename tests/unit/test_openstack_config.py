"""The [openstack] section: the cloud is read as the openstack CLI reads it, and mistakes are named."""
from __future__ import annotations

import pytest

from hatui.config import ConfigError, parse
from hatui.schedule import target_specs
from hatui.secrets import redact

CLOUDS = """clouds:
  lab:
    auth:
      auth_url: https://keystone.example:5000/v3
      username: hatui
      password: {password}
      project_name: ops
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: internal
{extra}"""


@pytest.fixture
def clouds(tmp_path, monkeypatch):
    def write(password: str = "clouds-yaml-pw", extra: str = "") -> None:
        p = tmp_path / "clouds.yaml"
        p.write_text(CLOUDS.format(password=password, extra=extra))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(p))
        for var in ("OS_CLOUD", "OS_AUTH_URL", "OS_PASSWORD", "OS_USERNAME"):
            monkeypatch.delenv(var, raising=False)
    write()
    return write


def test_clouds_yaml_region_interface_and_default_schedule(clouds):
    cfg = parse({"openstack": {"cloud": "lab"}}, "t.toml")
    sec = cfg.section("openstack")
    region = sec.cloud_region
    assert (region.region_name, region.get_interface(), sec.label, sec.insecure) == ("RegionOne", "internal", "lab",
                                                                                     False)
    specs = {s.key: s for s in target_specs(cfg)}
    assert set(specs) == {("keystone", "lab"), ("endpoint", "endpoints"), ("services", "nova"),
                          ("services", "neutron")}
    assert (specs[("keystone", "lab")].interval, specs[("keystone", "lab")].timeout) == (5.0, 3.0)
    assert specs[("endpoint", "endpoints")].timeout == 12.0  # the round's budget: 4 x the request timeout
    assert "clouds-yaml-pw" not in redact("login with clouds-yaml-pw failed")  # registered for redaction


def test_os_cloud_and_overrides(clouds, monkeypatch):
    clouds(extra="    verify: false\n    regions: [RegionOne, RegionTwo]\n")
    monkeypatch.setenv("OS_CLOUD", "lab")
    monkeypatch.setenv("HATUI_OS_PW", "from-env-pw")
    sec = parse({"openstack": {"interface": "public", "region": "RegionTwo", "password_env": "HATUI_OS_PW"}},
                "t.toml").section("openstack")
    assert sec.insecure is True  # clouds.yaml verify: false shows as TLS NOT VERIFIED on the status bar
    assert sec.cloud_region.get_interface() == "public" and sec.cloud_region.region_name == "RegionTwo"
    assert sec.cloud_region.config["auth"]["password"] == "from-env-pw"


def test_os_variables_alone(monkeypatch, tmp_path):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "none.yaml"))
    monkeypatch.delenv("OS_CLOUD", raising=False)
    for k, v in {"OS_AUTH_URL": "http://k:5000/v3", "OS_USERNAME": "u", "OS_PASSWORD": "env-pw-123",
                 "OS_PROJECT_NAME": "p", "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default"}.items():
        monkeypatch.setenv(k, v)
    sec = parse({"openstack": {}}, "t.toml").section("openstack")
    assert sec.cloud_region.get_auth().auth_url == "http://k:5000/v3" and sec.label == "openstack"


@pytest.mark.parametrize("table, key, expected", [
    ({"cloud": "nope"}, "openstack.cloud", "a cloud defined in clouds.yaml"),
    ({"cloud": "lab", "services": ["nova", "cinder"]}, "openstack.services[1]", "one of nova, neutron"),
    ({"cloud": "lab", "interface": "private"}, "openstack.interface", "one of public, internal, admin"),
    ({"cloud": "lab", "haproxy": [{"name": "lb"}]}, "openstack.haproxy[0].url", "either url"),
    ({"cloud": "lab", "haproxy": [{"name": "lb", "url": "h", "socket": "/s"}]}, "openstack.haproxy[0].url",
     "either url"),
    ({"cloud": "lab", "endpoints": [{"name": "vip", "url": "keystone:5000"}]}, "openstack.endpoints[0].url",
     "an http:// or https:// URL"),
    ({"cloud": "lab", "haproxy": [{"name": "lb", "url": "http://10.0.0.11:8404/;csv",
                                   "addresses": ["10.0.0.10", "http://10.0.0.10:5000"]}]},
     "openstack.haproxy[0].addresses[1]", "no scheme, no port"),
    ({"cloud": "lab", "region": "RegionX"}, "openstack.region", "a region of cloud 'lab'"),
    ({"cloud": "lab", "timeout": 0}, "openstack.timeout", "> 0"),
    ({"cloud": "lab", "password_env": "HATUI_UNSET_OS_PW"}, "openstack.password_env", "to be set"),
])
def test_mistakes_name_the_key(clouds, table, key, expected):
    with pytest.raises(ConfigError) as err:
        parse({"openstack": table}, "t.toml")
    assert err.value.key == key and expected in str(err.value)


def test_haproxy_addresses_are_spelled_as_the_catalog_spells_them(clouds):
    lb = {"name": "lb", "url": "http://10.0.0.11:8404/;csv",
          "addresses": ["10.0.0.10", "api.cloud.example", "fd00::10"]}
    sec = parse({"openstack": {"cloud": "lab", "haproxy": [lb]}}, "t.toml").section("openstack")
    assert sec.haproxy[0].addresses == ["10.0.0.10", "api.cloud.example", "fd00::10"]


def test_no_credentials_at_all(monkeypatch, tmp_path):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "none.yaml"))
    for var in ("OS_CLOUD", "OS_AUTH_URL"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError) as err:
        parse({"openstack": {}}, "t.toml")
    assert err.value.key == "openstack.cloud" and "auth_url" in str(err.value)


def test_replay_needs_no_clouds_yaml(monkeypatch, tmp_path):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "none.yaml"))
    sec = parse({"openstack": {"cloud": "gone"}}, "rec", resolve_secrets=False).section("openstack")
    assert sec.cloud_region is None and sec.label == "gone"


@pytest.mark.parametrize("where", ["endpoints", "haproxy"])
def test_a_url_with_credentials_is_refused_without_echoing_them(where):
    """A password pasted into a URL would be shown wherever the URL is: refused, and never repeated."""
    url = "http://stats:s3cret-in-url@127.0.0.1:8404/;csv"
    with pytest.raises(ConfigError) as err:
        parse({"openstack": {"cloud": "lab", where: [{"name": "x", "url": url}]}}, "h.toml", resolve_secrets=False)
    assert f"openstack.{where}[0].url" in str(err.value) and "without credentials" in str(err.value)
    assert "s3cret" not in str(err.value) and "stats" not in str(err.value)


def test_reading_clouds_yaml_leaves_the_rest_of_openstacksdk_unloaded(clouds):
    """`check` starts in a fraction of a second: openstacksdk's clouds.yaml loader comes without the SDK's
    every service proxy (openstack.connection: ten times the loader's import time); code that does use the
    SDK still gets all of it."""
    import os
    import subprocess
    import sys

    code = ("import sys\nfrom hatui.config import parse\n"
            "sec = parse({'openstack': {'cloud': 'lab'}}, 't.toml').section('openstack')\n"
            "print(sec.cloud_region.region_name, 'openstack.connection' in sys.modules)\n"
            "import openstack\nprint(callable(openstack.connect), 'openstack.connection' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["RegionOne", "False", "True", "True"]
