"""The cloud lab's own claims (tests/lab/cloud.py): guard routes, no way out of the namespaces, a switch cuts
exactly its hosts, hatui sees every os-service on its host. (A power cut killing every process of its host
at once, and a feed's BMCs reporting Off, are asserted with hatui watching: tests/integration/cloud.)

They run last in the suite (tests/conftest.py), on the lab tests/run-all.sh starts in the background."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.hatui_proc import check_json
from tests.lab import cloud
from tests.lab.common import port_open, run, wait_until
from tests.lab.fixtures import lab_fixtures

pytestmark = [pytest.mark.lab, pytest.mark.cloud]

lab, clean = lab_fixtures(cloud.Lab)


def test_guard_route_and_no_way_out(lab):
    out = run(["ip", "route", "show", "exact", cloud.CIDR]).stdout
    assert "unreachable" in out and f"metric {cloud.GUARD_METRIC}" in out
    for h in cloud.HOSTS.values():
        routes = run(["ip", "-n", h.netns, "route", "show"]).stdout
        assert "default" not in routes, routes
        probe = run(["ip", "netns", "exec", h.netns, "ip", "route", "get", "192.0.2.1"], check=False)
        assert probe.returncode != 0  # Network is unreachable: nothing leaves through a namespace


def test_hosts_reach_each_other_by_name(lab):
    out = run(["ip", "netns", "exec", "hc-ctl-1", "getent", "hosts", "ctl-2"]).stdout
    assert out.split()[0] == cloud.HOSTS["ctl-2"].address


def test_switch_down_cuts_exactly_its_hosts(lab):
    lab.switch("sw-2", False)
    wait_until(lambda: not port_open("10.216.2.12", 22, 0.3) and not port_open("10.216.2.21", 22, 0.3), 10)
    assert port_open("10.216.1.11", 22, 1) and port_open("10.216.1.13", 22, 1)


# ---------------------------------------------------------------------------------------------- OpenStack
# the rows of nova os-services and neutron agents: (binary, host), each bound to the host that runs it
SERVICES = {(b, h) for h, svcs in cloud.OPENSTACK.items() for b, _ in svcs
            if (b.startswith("nova-") and b != "nova-api") or b.endswith("-agent")}


@pytest.fixture
def hatui_config(lab, tmp_path) -> tuple[Path, dict[str, str]]:
    """What ``python -m tests.lab config`` prints, and the environment its references need."""
    path = tmp_path / "hatui.toml"
    path.write_text(lab.config())
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(cloud.Lab.secrets_env(), XDG_CACHE_HOME=str(tmp_path / "cache"))
    return path, env


def _services_as_hatui_sees_them(config: Path, env: dict[str, str]) -> dict[tuple[str, str], str]:
    """(binary, host) -> up|down, from the last nova os-services and neutron agents answers of a short
    ``hatui record`` (the config's account is a reader with the README's two policy lines)."""
    out = config.parent / "rec.jsonl"
    out.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "hatui", "record", "-o", str(out), "--duration", "4", "--config",
                    str(config)], env=env, capture_output=True, timeout=60, check=True)
    last: dict[str, dict[tuple[str, str], str]] = {}
    for line in out.read_text().splitlines():
        obs = json.loads(line)
        data = obs.get("data") if obs.get("source") == "services" else None
        if data and obs.get("target") == "nova":
            last["nova"] = {(r["binary"], r["host"]): r["state"] for r in data["services"]}
        elif data and obs.get("target") == "neutron":
            last["neutron"] = {(a["binary"], a["host"]): "up" if a["alive"] else "down" for a in data["agents"]}
    return {k: v for rows in last.values() for k, v in rows.items()}


def test_hatui_sees_every_os_service_up_on_its_host(lab, hatui_config):
    config, env = hatui_config
    want = {key: "up" for key in SERVICES}
    assert {h for _, h in want} == {"ctl-1", "ctl-2", "ctl-3", "cmp-1"}
    wait_until(lambda: _services_as_hatui_sees_them(config, env) == want, 60, 0, "hatui to see every service up")
    _, doc = check_json(config, env)  # (its status is not asserted: the SPOFs by construction are open)
    found = {f["id"] for f in doc["findings"]}
    assert not {i for i in found if i.startswith(("services.", "keystone.", "endpoint."))}, doc
    assert cloud.KNOWN_SPOFS <= found  # one glance-api, one neutron-server behind the VIP
    assert not {i for i in found if i.startswith("haproxy.") and i not in cloud.KNOWN_SPOFS}, doc
