"""Integration fixtures: the real lab servers (started idempotently) and hatui configs for them."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.hatui_proc import Watcher, hatui_env
from tests.lab import galera as galera_lab

GALERA_PW_ENV = "HATUI_LAB_GALERA_PW"


def galera_toml(extra: str = "") -> str:
    nodes = "".join(f'[[galera.nodes]]\nname = "db-{n}"\nhost = "{host}"\nport = {port}\n'
                    for n, (_name, host, port) in enumerate(galera_lab.Lab().nodes(), start=1))
    return (f'[galera]\nname = "lab-db"\nuser = "{galera_lab.MONITOR_USER}"\n'
            f'password_env = "{GALERA_PW_ENV}"\n{extra}{nodes}')


@pytest.fixture(scope="session")
def galera():
    lab = galera_lab.Lab()
    lab.up()
    yield lab
    lab.reset()


@pytest.fixture
def galera_healthy(galera):
    galera.reset()
    yield galera
    galera.reset()


@pytest.fixture
def galera_config(tmp_path) -> Path:
    p = tmp_path / "hatui.toml"
    p.write_text(galera_toml())
    return p


@pytest.fixture
def env() -> dict[str, str]:
    return hatui_env({GALERA_PW_ENV: galera_lab.MONITOR_PASSWORD})


@pytest.fixture
def watcher_factory(env):
    started: list[Watcher] = []

    def start(config: Path) -> Watcher:
        w = Watcher(config, env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
