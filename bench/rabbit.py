"""RabbitMQ benchmark against the real 3-node lab cluster (tests/lab/rabbit.py).

    .venv/bin/python -m bench.rabbit [--runs 3] [--skip-partition] [--skip-freeze]

Prints, each beside its target (issue 4), with hatui's defaults (interval 1 s, timeout 1 s; canary 2 s):
- node kill: SIGKILL -> `rabbitmq.unreachable` (its own API refuses) and -> `rabbitmq.not_running`
  (its peers' view), in `hatui watch`;
- partition: `erlang:disconnect_node` -> `rabbitmq.partition`, and its lag behind RabbitMQ's own first
  report (a 0.1 s poll of every node's /api/nodes in a side thread);
- frozen node: SIGSTOP -> first sign (`rabbitmq.slow`) and the timeout finding; and a whole `check` round
  during the freeze (a frozen node must never hold the others).
Every loop is bounded; the lab is reset to healthy at the end.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import figure, latency_figures
from tests.integration.hatui_proc import Watcher, check_json, hatui_env
from tests.integration.rabbit.conftest import CANARY_PW_ENV, CLUSTER, MONITOR_PW_ENV, rabbit_toml
from tests.lab import rabbit as rabbit_lab


def node_kill(lab: rabbit_lab.Lab, config: Path, env: dict, runs: int) -> None:
    own, peers = [], []
    w = Watcher(config, env)
    try:
        w.wait_quiet(30)
        for i in range(runs):
            time.sleep(0.37 * (i + 1) % 1.0)  # de-phase the kill from the 1 s poll cycle
            t0 = time.monotonic()
            lab.kill(3)
            t1, _ = w.wait_opened("rabbitmq.unreachable:mq-3", 30, after=t0)
            t2, _ = w.wait_opened("rabbitmq.not_running:mq-3", 30, after=t0)
            own.append(t1 - t0)
            peers.append(t2 - t0)
            lab.start(3)
            w.wait_quiet(90)
    finally:
        w.stop()
    latency_figures("SIGKILL -> rabbitmq.unreachable:mq-3 opened", own, target_p95=1.5)
    latency_figures("SIGKILL -> rabbitmq.not_running:mq-3 opened", peers, target_p95=2.0)


def _first_report(lab: rabbit_lab.Lab, out: list[float], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            if any(lab.partitions(timeout=1.0).values()):
                out.append(time.monotonic())
                return
        except Exception:  # noqa: BLE001 - a node may not answer during the split
            pass
        time.sleep(0.1)


def partition(lab: rabbit_lab.Lab, config: Path, env: dict, runs: int) -> None:
    found, lag = [], []
    w = Watcher(config, env)
    try:
        w.wait_quiet(30)
        for _ in range(runs):
            reported: list[float] = []
            stop = threading.Event()
            spy = threading.Thread(target=_first_report, args=(lab, reported, stop), daemon=True)
            t0 = time.monotonic()
            spy.start()
            try:
                lab.partition(3)
                t1, _ = w.wait_opened(f"rabbitmq.partition:{CLUSTER}", 60, after=t0)
            finally:
                stop.set()
                spy.join(5)
            found.append(t1 - t0)
            if reported:
                lag.append(t1 - reported[0])
            lab.heal()
            w.wait_quiet(120)
    finally:
        w.stop()
    latency_figures("disconnect -> rabbitmq.partition opened", found, target_p95=None)
    if lag:
        latency_figures("  lag behind RabbitMQ's first report (0.1 s spy)", lag, target_p95=1.5)


def frozen(lab: rabbit_lab.Lab, config: Path, env: dict, runs: int) -> None:
    slow, timeout, rounds = [], [], []
    w = Watcher(config, env)
    try:
        w.wait_quiet(30)
        for _ in range(runs):
            time.sleep(0.37)
            t0 = time.monotonic()
            lab.freeze(3)
            try:
                t1, _ = w.wait_opened("rabbitmq.slow:mq-3", 30, after=t0)
                t2, _ = w.wait_opened("rabbitmq.unreachable:mq-3", 30, after=t0)
                slow.append(t1 - t0)
                timeout.append(t2 - t0)
                t3 = time.monotonic()
                check_json(config, env, timeout=60)
                rounds.append(time.monotonic() - t3)
            finally:
                lab.thaw(3)
            lab.heal()
            w.wait_quiet(120)
    finally:
        w.stop()
    latency_figures("SIGSTOP -> rabbitmq.slow:mq-3 opened (first sign)", slow, target_p95=1.5)
    latency_figures("SIGSTOP -> rabbitmq.unreachable:mq-3 (timeout) opened", timeout, target_p95=2.5)
    figure("`hatui check` round with mq-3 frozen (incl. start-up), max", max(rounds), "s", "<= 5 s",
           max(rounds) <= 5)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-kill", action="store_true")
    ap.add_argument("--skip-partition", action="store_true")
    ap.add_argument("--skip-freeze", action="store_true")
    args = ap.parse_args()
    lab = rabbit_lab.Lab()
    lab.up()
    lab.reset()
    env = hatui_env({MONITOR_PW_ENV: rabbit_lab.MONITOR_PASSWORD, CANARY_PW_ENV: rabbit_lab.CANARY_PASSWORD})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "hatui.toml"
            config.write_text(rabbit_toml())
            print("lab: 3-node RabbitMQ 3.10.8 on loopback, net_ticktime 10 s; hatui interval 1 s, timeout 1 s, "
                  "canary every 2 s")
            if not args.skip_kill:
                node_kill(lab, config, env, args.runs)
            if not args.skip_partition:
                partition(lab, config, env, args.runs)
            if not args.skip_freeze:
                frozen(lab, config, env, args.runs)
    finally:
        lab.reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
