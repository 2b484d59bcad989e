"""Fixtures of the hosts integration tests: the real hosts lab (BMCs, namespaces), reset around each test,
and hatui configs and processes pointed at it."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.hatui_proc import hatui_env
from tests.integration.hosts.lab_config import BMC_PW_ENV, hosts_toml
from tests.lab import hosts as hosts_lab
from tests.lab.common import run


def bridge(up: bool) -> None:
    """The jump host's own link to the lab network (the lab bridge): the uplink-down fault."""
    run(["ip", "link", "set", hosts_lab.BRIDGE, "up" if up else "down"], timeout=10)


@pytest.fixture(scope="session")
def hosts_lab_up():
    lab = hosts_lab.Lab()
    lab.up()
    yield lab
    bridge(True)
    lab.reset()


@pytest.fixture
def lab(hosts_lab_up):
    """The lab in its default state (all BMCs On and thawed, links up, no iptables fault, listeners up)."""
    bridge(True)
    hosts_lab_up.reset()
    yield hosts_lab_up
    bridge(True)
    hosts_lab_up.reset()


@pytest.fixture
def hosts_env() -> dict[str, str]:
    return hatui_env({BMC_PW_ENV: hosts_lab.BMC_PASSWORD, "HATUI_WRONG_PW": "wrong-password"})


@pytest.fixture
def write_config(tmp_path):
    def write(text: str | None = None, **kw) -> Path:
        p = tmp_path / "hatui.toml"
        p.write_text(text if text is not None else hosts_toml(**kw))
        return p
    return write


@pytest.fixture
def env(hosts_env) -> dict[str, str]:
    return hosts_env


@pytest.fixture
def watch(watcher_factory):
    """``hatui watch`` runs started here are stopped after the test (tests/integration/conftest.py)."""
    return watcher_factory
