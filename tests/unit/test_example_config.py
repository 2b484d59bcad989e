"""The annotated example config is valid: what the README tells people to copy must load."""
from pathlib import Path

from hatui.config import load


def test_example_config_loads(monkeypatch):
    for var in ("HATUI_GALERA_PASSWORD", "HATUI_RABBIT_PASSWORD", "HATUI_RABBIT_CANARY_PASSWORD",
                "HATUI_BMC_PASSWORD", "HATUI_IPMI_PASSWORD"):
        monkeypatch.setenv(var, "example")
    cfg = load(str(Path(__file__).parents[2] / "hatui.example.toml"))
    assert cfg.galera.size_expected == 3
