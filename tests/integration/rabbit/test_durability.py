"""Durability N-1 on the real RabbitMQ lab (issue 14): a quorum queue at its replica minimum.

hatui reads the queue list with the lab's ``hatui-queues`` account (tag monitoring, a permission entry on
``/`` that matches nothing); the harness declares the queue as the lab's administrator (hatui only reads).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pika
import pytest

from tests.integration.hatui_proc import Watcher, hatui_env
from tests.integration.rabbit.capture import QUORUM_QUEUE, declare_quorum_queue, delete_quorum_queue
from tests.integration.rabbit.conftest import CANARY_PW_ENV, MONITOR_PW_ENV, rabbit_toml
from tests.lab import rabbit as rabbit_lab

pytestmark = [pytest.mark.lab, pytest.mark.timeout(120)]

QUEUES_PW_ENV = "HATUI_LAB_RABBIT_QUEUES_PW"


def queues_toml() -> str:
    return rabbit_toml() + (f'[rabbitmq.queues]\nuser = "{rabbit_lab.QUEUES_USER}"\npassword_env = "{QUEUES_PW_ENV}"\n'
                            'interval = 1\n')


@pytest.fixture
def queues_env() -> dict[str, str]:
    return hatui_env({MONITOR_PW_ENV: rabbit_lab.MONITOR_PASSWORD, CANARY_PW_ENV: rabbit_lab.CANARY_PASSWORD,
                      QUEUES_PW_ENV: rabbit_lab.QUEUES_PASSWORD})


def ok_to_stop(config: Path, env: dict[str, str], *names: str) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "hatui", "ok-to-stop", "--json", "--config", str(config), *names],
                          capture_output=True, text=True, timeout=60, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_queues_account_lists_queues_and_touches_none(rabbit_healthy):
    """The README's least-privilege claim for [rabbitmq.queues]: tag monitoring and an empty permission entry
    list the vhost's queues (the monitor user, without the entry, gets an empty list); the account may not
    declare, read or purge anything."""
    declare_quorum_queue(rabbit_healthy)
    try:
        def names(user: str, password: str) -> list[str]:
            r = httpx.get(rabbit_healthy.url(1, "/api/queues?disable_stats=true&columns=name"), auth=(user, password),
                          timeout=5, trust_env=False)
            return [q["name"] for q in r.json()]

        assert QUORUM_QUEUE in names(rabbit_lab.QUEUES_USER, rabbit_lab.QUEUES_PASSWORD)
        assert names(rabbit_lab.MONITOR_USER, rabbit_lab.MONITOR_PASSWORD) == []
        creds = pika.PlainCredentials(rabbit_lab.QUEUES_USER, rabbit_lab.QUEUES_PASSWORD)
        params = pika.ConnectionParameters("127.0.0.1", rabbit_lab.amqp_port(1), connection_attempts=1,
                                           socket_timeout=3, credentials=creds)
        conn = pika.BlockingConnection(params)
        try:
            for act in (lambda ch: ch.basic_get(QUORUM_QUEUE), lambda ch: ch.queue_declare("", exclusive=True),
                        lambda ch: ch.queue_purge(QUORUM_QUEUE)):
                with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
                    act(conn.channel())
        finally:
            conn.close()
        r = httpx.delete(rabbit_healthy.url(1, f"/api/queues/%2F/{QUORUM_QUEUE}/contents"),
                         auth=(rabbit_lab.QUEUES_USER, rabbit_lab.QUEUES_PASSWORD), timeout=5, trust_env=False)
        assert r.status_code in (401, 403)
    finally:
        delete_quorum_queue(rabbit_healthy)


def test_quorum_queue_at_its_minimum_is_a_durability_spof_of_each_survivor(rabbit_healthy, tmp_path, queues_env):
    """A 3-member quorum queue with rabbit3's app stopped: 2 of 3 online, exactly its majority: losing mq-1
    or mq-2 loses it; ok-to-stop mq-1 says NOT OK; the findings clear once rabbit3 is back."""
    # A name of its own each run: after a node's app was stopped and started under it, RabbitMQ 3.10 may
    # fail to start that node's member of a later queue of the same name ({error,enoent} on recovery),
    # and the quorum-critical test, which declares QUORUM_QUEUE, found rabbit3's member never online.
    queue = f"hatui-dur-qq-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "hatui.toml"
    config.write_text(queues_toml())
    declare_quorum_queue(rabbit_healthy, queue)
    w = Watcher(config, queues_env)
    try:
        w.wait_quiet(20)
        t0 = time.monotonic()
        rabbit_healthy.stop_app(3)
        for n in (1, 2):
            _, ev = w.wait_opened(f"rabbitmq.durability_spof:mq-{n}", 15, after=t0)
            assert ev["finding"]["kind"] == "spof"
            assert ev["finding"]["summary"] == (f"mq-{n} (rabbit{n}@localhost): 1 quorum queue would lose its majority "
                                                f"({queue})")
        rc, doc = ok_to_stop(config, queues_env, "mq-1")
        assert rc == 2 and doc["data_loss"] == [f"1 quorum queue would lose its majority ({queue})"]
        t1 = time.monotonic()
        rabbit_healthy.start_app(3)
        for n in (1, 2):
            w.wait_cleared(f"rabbitmq.durability_spof:mq-{n}", 30, after=t1)
    finally:
        w.stop()
        delete_quorum_queue(rabbit_healthy, queue)  # rabbit_healthy resets the lab (rabbit3's app) afterwards
