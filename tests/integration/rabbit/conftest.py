"""Fixtures for hatui against the real 3-node RabbitMQ lab (tests/lab/rabbit.py): lab up once, reset
to healthy around each test, and a hatui config naming the nodes mq-1..mq-3 as an operator would."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.hatui_proc import hatui_env
from tests.lab import rabbit as rabbit_lab

MONITOR_PW_ENV = "HATUI_LAB_RABBIT_PW"
CANARY_PW_ENV = "HATUI_LAB_RABBIT_CANARY_PW"
CLUSTER = rabbit_lab.CLUSTER_NAME


def rabbit_toml(extra: str = "", canary_interval: float = 2.0) -> str:
    """No ``erlang_node``: hatui must learn the names (and name a node down since its start)."""
    nodes = "".join(f'[[rabbitmq.nodes]]\nname = "mq-{i}"\nhost = "{host}"\nmanagement_port = {mgmt}\n'
                    f'amqp_port = {amqp}\n'
                    for i, (_erlang, host, amqp, mgmt) in enumerate(rabbit_lab.Lab().nodes(), start=1))
    return (f'[rabbitmq]\nname = "{CLUSTER}"\nuser = "{rabbit_lab.MONITOR_USER}"\npassword_env = "{MONITOR_PW_ENV}"\n'
            f'{extra}'
            f'[rabbitmq.canary]\nuser = "{rabbit_lab.CANARY_USER}"\npassword_env = "{CANARY_PW_ENV}"\n'
            f'interval = {canary_interval}\n{nodes}')


@pytest.fixture(scope="session")
def rabbit():
    lab = rabbit_lab.Lab()
    lab.up()
    yield lab
    lab.reset()


@pytest.fixture
def rabbit_healthy(rabbit):
    rabbit.reset()
    yield rabbit
    rabbit.reset()


@pytest.fixture
def rabbit_config(tmp_path) -> Path:
    p = tmp_path / "hatui.toml"
    p.write_text(rabbit_toml())
    return p


@pytest.fixture
def env() -> dict[str, str]:
    return hatui_env({MONITOR_PW_ENV: rabbit_lab.MONITOR_PASSWORD, CANARY_PW_ENV: rabbit_lab.CANARY_PASSWORD})

# watcher_factory: tests/integration/conftest.py, run with this directory's ``env``
