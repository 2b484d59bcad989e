"""The annotated example config is valid: what the README tells people to copy must load."""
from pathlib import Path

from hatui.config import load

CLOUDS_YAML = """clouds:
  mycloud:
    auth:
      auth_url: https://api.example.com:5000/v3
      username: hatui
      password: example
      project_name: ops
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
"""


def test_example_config_loads(monkeypatch, tmp_path):
    for var in ("HATUI_GALERA_PASSWORD", "HATUI_RABBIT_PASSWORD", "HATUI_RABBIT_CANARY_PASSWORD",
                "HATUI_BMC_PASSWORD", "HATUI_IPMI_PASSWORD"):
        monkeypatch.setenv(var, "example")
    (tmp_path / "clouds.yaml").write_text(CLOUDS_YAML)  # [openstack] reads its cloud as the openstack CLI does
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    cfg = load(str(Path(__file__).parents[2] / "hatui.example.toml"))
    assert cfg.galera.size_expected == 3
    assert cfg.section("openstack").label == "mycloud"
