"""OpenStack integration fixtures: one lab session for the whole module (it is heavy: ~2.6 GB, ~1-2 min
to start), brought back to healthy only when a test left it otherwise (``Lab.reset()`` is a quick no-op
when nothing is wrong), and hatui configs that reach the lab only through its clouds.yaml."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.hatui_proc import hatui_env
from tests.lab import openstack as os_lab

# The lab's nova/neutron heartbeat every 2 s and are called down after 6 s (tests/lab/openstack.py).
LAB_TIMING = (f"service_down_time = {os_lab.SERVICE_DOWN_TIME}\nreport_interval = {os_lab.REPORT_INTERVAL}\n"
              f"agent_down_time = {os_lab.AGENT_DOWN_TIME}\nagent_report_interval = {os_lab.AGENT_REPORT_INTERVAL}\n")
EXTRA_URLS = {"keystone-vip": "http://127.0.0.1:15000/", "keystone-2": "http://127.0.0.1:5001/",
              "nova-vip": "http://127.0.0.1:18774/"}
BACKENDS = ["keystone", "nova_api", "placement", "glance_api", "neutron_api"]  # the Galera VIP is not ours
# HAProxy fronts one placement, one glance-api and one neutron-server, and is itself the only HAProxy:
# SPOFs by construction.
LAB_SPOFS = {"haproxy.spof:lb/placement/lab-ctl-0", "haproxy.spof:lb/glance_api/lab-ctl-0",
             "haproxy.spof:lb/neutron_api/lab-ctl-0", "haproxy.spof:lb"}


def admin_toml(interval: float = 1.0) -> str:
    """The lab seen by its admin (services listed), every extra URL and the HAProxy stats page."""
    extra = "".join(f'[[openstack.endpoints]]\nname = "{n}"\nurl = "{u}"\n' for n, u in EXTRA_URLS.items())
    return (f'[openstack]\ncloud = "hatui-lab-admin"\nname = "lab"\ninterval = {interval}\ntimeout = 2\n'
            f'{LAB_TIMING}{extra}'
            f'[[openstack.haproxy]]\nname = "lb"\nurl = "{os_lab.HAPROXY_STATS_URL}"\nbackends = {BACKENDS!r}\n'
            .replace("'", '"'))


@pytest.fixture(scope="session")
def openstack_lab():
    lab = os_lab.Lab()
    lab.up()
    yield lab
    lab.reset()


@pytest.fixture
def lab(openstack_lab):
    """The lab, healthy at the start of the test; whatever the test broke is repaired after it."""
    openstack_lab.reset()
    yield openstack_lab
    openstack_lab.reset()


@pytest.fixture
def os_env(openstack_lab, tmp_path) -> dict[str, str]:
    """Only the lab's clouds.yaml, as the openstack CLI would use it; a private catalog cache."""
    env = {k: v for k, v in hatui_env().items() if not k.startswith("OS_")}  # no stray OS_CLOUD / OS_AUTH_URL
    env.update(OS_CLIENT_CONFIG_FILE=str(openstack_lab.clouds_yaml()), XDG_CACHE_HOME=str(tmp_path / "cache"))
    return env


@pytest.fixture
def admin_config(tmp_path) -> Path:
    p = tmp_path / "hatui.toml"
    p.write_text(admin_toml())
    return p


@pytest.fixture
def env(os_env) -> dict[str, str]:
    return os_env


@pytest.fixture
def watch(watcher_factory):
    """``hatui watch`` runs started here are stopped after the test (tests/integration/conftest.py)."""
    return watcher_factory
