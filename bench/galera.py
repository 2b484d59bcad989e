"""Galera benchmark against the real 3-node lab cluster (tests/lab/galera.py).

    .venv/bin/python -m bench.galera [--runs 5] [--seconds 60]

Prints, each beside its target (issue 3):
- detection latency, SIGKILL of a node -> `galera.unreachable` opens in `hatui watch` (median, p95, max)
- detection latency, SIGSTOP of a node -> first sign (`galera.slow`) and the timeout finding
- CPU % of one core and RSS of the TUI (in a real tmux terminal, 120x40) and of `hatui watch`,
  at 1 s refresh over --seconds against the healthy cluster.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import figure, latency_figures, process_tree_usage
from tests.integration.conftest import GALERA_PW_ENV, galera_toml
from tests.integration.hatui_proc import Watcher, hatui_env
from tests.lab import galera as galera_lab

ROOT = Path(__file__).resolve().parents[1]


def detection(lab: galera_lab.Lab, config: Path, env: dict, runs: int) -> None:
    kill, slow, timeout = [], [], []
    w = Watcher(config, env)
    try:
        w.wait_quiet(30)
        for _ in range(runs):
            t0 = time.monotonic()
            lab.kill(3)
            t, _ = w.wait_opened("galera.unreachable:db-3", 30, after=t0)
            kill.append(t - t0)
            lab.start(3)
            w.wait_quiet(60)
        for _ in range(runs):
            time.sleep(0.37)  # de-phase the freeze from the 1 s poll cycle
            t0 = time.monotonic()
            lab.freeze(3)
            t1, _ = w.wait_opened("galera.slow:db-3", 30, after=t0)
            t2, _ = w.wait_opened("galera.unreachable:db-3", 30, after=t0)
            slow.append(t1 - t0)
            timeout.append(t2 - t0)
            lab.thaw(3)
            w.wait_quiet(60)
    finally:
        w.stop()
        lab.reset()
    latency_figures("SIGKILL -> galera.unreachable opened", kill, target_p95=0.5)
    latency_figures("SIGSTOP -> galera.slow opened (first sign)", slow, target_p95=1.0 + 0.5)
    latency_figures("SIGSTOP -> galera.unreachable (timeout) opened", timeout, target_p95=None)


def usage(config: Path, env: dict, seconds: float) -> None:
    hatui = str(ROOT / ".venv" / "bin" / "hatui")
    session = "hatui-bench"
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    env_args = [f"{GALERA_PW_ENV}={env[GALERA_PW_ENV]}"]
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                    "env", *env_args, hatui, "--config", str(config)], check=True)
    watch = subprocess.Popen([hatui, "watch", "--config", str(config)], env=env, stdout=subprocess.DEVNULL)
    try:
        time.sleep(5)  # start-up (imports, first polls) is not the steady state being measured
        pane_pid = int(subprocess.run(["tmux", "display-message", "-p", "-t", session, "#{pane_pid}"],
                                      capture_output=True, text=True, check=True).stdout)
        # pane_pid is `env` exec'd into hatui: the same pid
        import threading

        results: dict[str, tuple[float, float]] = {}
        threads = [threading.Thread(target=lambda k=k, p=p: results.__setitem__(k, process_tree_usage(p, seconds)))
                   for k, p in (("tui", pane_pid), ("watch", watch.pid))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
        if "Galera" not in screen:
            print("WARNING: the TUI did not draw its panes:\n" + screen, file=sys.stderr)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        watch.terminate()
        watch.wait(10)
    cpu, rss = results["tui"]
    figure(f"TUI CPU over {seconds:.0f} s (3 nodes, 1 s refresh)", cpu, "%", "<= 3 % of a core", cpu <= 3)
    figure("TUI RSS", rss, "MB", "<= 80 MB", rss <= 80)
    cpu, rss = results["watch"]
    figure(f"watch CPU over {seconds:.0f} s", cpu, "%", "< 1 % of a core", cpu < 1)
    figure("watch RSS", rss, "MB")
    print("for comparison: dolphie watching ONE node at 1 s: 9-11 % of a core, 88 MB (measured in the lab)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--skip-detection", action="store_true")
    ap.add_argument("--skip-usage", action="store_true")
    args = ap.parse_args()
    if not shutil.which("tmux"):
        print("tmux is needed (tests/lab/install.sh installs it)", file=sys.stderr)
        return 2
    lab = galera_lab.Lab()
    lab.up()
    lab.reset()
    env = hatui_env({GALERA_PW_ENV: galera_lab.MONITOR_PASSWORD})
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "hatui.toml"
        config.write_text(galera_toml())
        print(f"hatui {os.path.basename(sys.executable)}; lab: 3-node Galera on loopback; defaults: interval 1 s, "
              f"timeout 1 s")
        if not args.skip_detection:
            detection(lab, config, env, args.runs)
        if not args.skip_usage:
            usage(config, env, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
