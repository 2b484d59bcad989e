"""Record what hatui itself observes (both RabbitMQ sources, every node) while a real fault is on.

    .venv/bin/python -m tests.integration.rabbit.capture [state ...]

Writes tests/fixtures/rabbit/recorded/<state>.jsonl with ``hatui record`` (a recording: header, then one
observation per line) against tests/lab/rabbit.py, the fault injected a few seconds in and still on when
the recording stops; the lab is healed afterwards. The canary's observations (blocked, timed out) exist
only here: the management API captures beside them are tests/lab/capture_rabbit.py's.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.integration.hatui_proc import hatui_env
from tests.integration.rabbit.conftest import CANARY_PW_ENV, MONITOR_PW_ENV, rabbit_toml
from tests.lab import rabbit as rabbit_lab

OUT = Path(__file__).resolve().parents[2] / "fixtures" / "rabbit" / "recorded"

QUORUM_QUEUE = "hatui-test-qq"


def declare_quorum_queue(lab: rabbit_lab.Lab, name: str = QUORUM_QUEUE) -> None:
    """A durable quorum queue with a replica on every node (3.10: the initial group is the whole cluster)."""
    lab._api_send("PUT", f"/api/queues/%2F/{name}",
                  {"durable": True, "auto_delete": False, "arguments": {"x-queue-type": "quorum"}})
    lab.wait_for(lambda: len(lab.api(1, f"/api/queues/%2F/{name}").get("members") or []) == 3, 30,
                 "the quorum queue's 3 members")


def delete_quorum_queue(lab: rabbit_lab.Lab, name: str = QUORUM_QUEUE) -> None:
    lab._api_send("DELETE", f"/api/queues/%2F/{name}")


# state -> (what it is, fault, seconds recorded after the fault, repair)
STATES: dict[str, tuple[str, Callable[[rabbit_lab.Lab], object], float, Callable[[rabbit_lab.Lab], object]]] = {
    "mem_alarm": ("memory alarm on rabbit2 (watermark 0.0001): every canary is blocked",
                  lambda lab: lab.alarm("memory", 2), 8.0, lambda lab: lab.clear_alarms()),
    "node_frozen": ("rabbit3 SIGSTOPped for 6 s (under net_ticktime): its API and canary time out, its peers' "
                    "cluster views wait for it", lambda lab: lab.freeze(3), 6.0,
                    lambda lab: (lab.thaw(3), lab.heal())),
    "node_killed": ("rabbit3 SIGKILLed: refused both ways, its peers see it not running",
                    lambda lab: lab.kill(3), 6.0, lambda lab: lab.start(3)),
    "quorum_critical": (f"a quorum queue `{QUORUM_QUEUE}` on all 3 nodes, then rabbit3 SIGKILLed: "
                        "node-is-quorum-critical fails on mq-1 and mq-2, naming the queue",
                        lambda lab: (declare_quorum_queue(lab), lab.kill(3)), 8.0,
                        lambda lab: (lab.start(3), delete_quorum_queue(lab))),
}


def capture(lab: rabbit_lab.Lab, state: str, config: Path, env: dict) -> None:
    _what, fault, hold, repair = STATES[state]
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"{state}.jsonl"
    lab.reset()
    proc = subprocess.Popen([sys.executable, "-m", "hatui", "record", "-o", str(out), "--config", str(config),
                             "--duration", str(4 + hold)], env=env)
    try:
        time.sleep(4)  # a healthy stretch first: the monitor learns every node's name
        fault(lab)
        proc.wait(timeout=hold + 30)
    finally:
        if proc.poll() is None:
            proc.kill()
        repair(lab)
        lab.reset()
    print(f"{out}: {sum(1 for _ in out.open())} lines")


def write_readme() -> None:
    lines = ["# RabbitMQ recordings: what hatui observed (regenerate: "
             "`.venv/bin/python -m tests.integration.rabbit.capture`)", "",
             "`hatui record` of the lab (tests/lab/rabbit.py) with tests/integration/rabbit/conftest.py's config: "
             "nodes mq-1..3, canary every 2 s, interval and timeout 1 s. A healthy stretch of 4 s, then the fault, "
             "still on when the recording ends.", ""]
    lines += [f"- `{state}.jsonl`: {what}" for state, (what, *_rest) in STATES.items()]
    (OUT / "README.md").write_text("\n".join(lines) + "\n")


def main(states: list[str]) -> int:
    lab = rabbit_lab.Lab()
    lab.up()
    env = hatui_env({MONITOR_PW_ENV: rabbit_lab.MONITOR_PASSWORD, CANARY_PW_ENV: rabbit_lab.CANARY_PASSWORD})
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "hatui.toml"
        config.write_text(rabbit_toml())
        for state in states or list(STATES):
            capture(lab, state, config, env)
    write_readme()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
