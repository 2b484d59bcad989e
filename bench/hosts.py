"""Hosts benchmark against the real hosts lab (tests/lab/hosts.py).

    .venv/bin/python -m bench.hosts [--addresses 1000] [--runs 3] [--interval 2]

Prints, each beside its target (issue 6):
- reachability round time for N addresses, half answering on loopback, half blackholed in a namespace
  (every packet DROPped), through hatui's own network sources and the live feed (one poll round, like
  ``hatui check``), for several bounds on probes in flight (``max_probes``), TCP only and TCP + ICMP;
- power-off detection latency per BMC type (Redfish, IPMI): from the power-off request through the BMC's
  own API to ``hosts.power_off`` opening in ``hatui watch``; for Redfish also from the moment the emulator
  applied it (it applies a change 1-11 s after the request).
Bounded: a fixed number of rounds and runs, every wait with a deadline; leaves the lab in its default state.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import resource
import tempfile
import threading
import time
import tomllib
from collections import Counter
from pathlib import Path

from bench.common import figure, latency_figures, quantile
from hatui.config import parse
from hatui.feed import LiveFeed
from hatui.sources import build_sources
from tests.integration.hatui_proc import Watcher, hatui_env
from tests.integration.hosts.lab_config import BMC_PW_ENV, hosts_toml
from tests.lab import hosts as hosts_lab

PROBE_TIMEOUT = 1.0  # s: the default network_timeout; a blackholed probe costs all of it


def bench_config(addresses: list[str], max_probes: int, ping: bool) -> str:
    head = (f"[hosts]\nnetwork_timeout = {PROBE_TIMEOUT}\nmax_probes = {max_probes}\n"
            f"ping = {'true' if ping else 'false'}\n")
    hosts = "".join(f'[[hosts.host]]\nname = "b{i}"\naddresses = ["{a}"]\nports = [22]\n'
                    for i, a in enumerate(addresses))
    return head + hosts


def one_round(text: str) -> tuple[float, Counter, list[float]]:
    config = parse(tomllib.loads(text), "bench.toml", resolve_secrets=False)
    observations = []

    async def go() -> float:
        feed = LiveFeed(build_sources(config))
        t0 = time.monotonic()
        try:
            await feed.poll_round(observations.append)
        finally:
            await feed.aclose()
        return time.monotonic() - t0

    wall = asyncio.run(go())
    outcomes: Counter = Counter()
    answered = []
    for o in observations:
        if not o.ok:
            outcomes[f"poll {o.failure.kind.value}"] += 1
            continue
        for p in o.data["probes"]:
            outcomes[f"{p['probe'].split('/')[0]} {p['outcome']}"] += 1
            if p["outcome"] == "open" and p["latency"] is not None:
                answered.append(p["latency"])
    return wall, outcomes, answered


def reachability(lab: hosts_lab.Lab, n: int) -> None:
    half = n // 2
    net = lab.bench_net(n_blackholed=half, n_answering=n - half)
    addresses = [a for a, _ in net["answering"]] + [a for a, _ in net["blackholed"]]
    print(f"\n== reachability round, {len(addresses)} addresses ({n - half} answering on loopback, {half} "
          f"blackholed in netns {net['netns']}), probe timeout {PROBE_TIMEOUT:g} s; "
          f"RLIMIT_NOFILE {resource.getrlimit(resource.RLIMIT_NOFILE)}")
    try:
        for ping in (False, True):
            for limit in (256, 1000):
                text = bench_config(addresses, limit, ping)
                probes_blackholed = half * (2 if ping else 1)
                target = PROBE_TIMEOUT * math.ceil(probes_blackholed / limit) + 0.5
                for rnd in range(2):
                    wall, outcomes, answered = one_round(text)
                    name = f"round {'tcp+icmp' if ping else 'tcp'} max_probes={limit} #{rnd}"
                    figure(name, wall, "s", f"<= {target:.1f} s", wall <= target)
                    print(f"      outcomes {dict(sorted(outcomes.items()))}; answered latency p50 "
                          f"{1000 * quantile(answered, 0.5):.1f} ms p99 {1000 * quantile(answered, 0.99):.1f} ms")
    finally:
        lab.bench_net_down()


def _applied_at(lab: hosts_lab.Lab, host: str, stop: threading.Event, out: list[float]) -> None:
    """Poll the Redfish emulator (0.2 s) for the moment the power change is applied."""
    while not stop.is_set():
        try:
            if not lab.power_state(host, "redfish"):
                out.append(time.monotonic())
                return
        except Exception:  # noqa: BLE001 - the bench's own probe; hatui's figure is what counts
            pass
        time.sleep(0.2)


def detection(lab: hosts_lab.Lab, runs: int, interval: float) -> None:
    print(f"\n== power-off detection, power_interval {interval:g} s, {runs} runs per BMC type")
    env = hatui_env({BMC_PW_ENV: hosts_lab.BMC_PASSWORD})
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "hatui.toml"
        config.write_text(hosts_toml(power_interval=interval))
        for host, via in (("hostC", "ipmi"), ("hostA", "redfish")):
            request, applied = [], []
            lab.reset()
            w = Watcher(config, env)
            try:
                time.sleep(2 * interval)
                for i in range(runs):
                    time.sleep(interval * (0.13 + 0.29 * i % 1))  # de-phase the fault from the poll cycle
                    stop, seen = threading.Event(), []
                    watcher = None
                    if via == "redfish":
                        watcher = threading.Thread(target=_applied_at, args=(lab, host, stop, seen), daemon=True)
                    t0 = time.monotonic()
                    lab.power(host, False, via=via)
                    if watcher:
                        watcher.start()
                    t, _ = w.wait_opened(f"hosts.power_off:{host}", 30 + interval, after=t0)
                    stop.set()
                    request.append(t - t0)
                    if seen:
                        applied.append(t - seen[0])
                    t1 = time.monotonic()
                    lab.power(host, True, via=via)
                    w.wait_cleared(f"hosts.power_off:{host}", 30 + interval, after=t1)
            finally:
                w.stop()
                lab.reset()
            latency_figures(f"{via}: power-off request -> hosts.power_off", request,
                            target_p95=interval + 3.0 + (11.0 if via == "redfish" else 0.0))
            if applied:
                latency_figures(f"{via}: change applied by the BMC -> hosts.power_off", applied,
                                target_p95=interval + 3.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--addresses", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--interval", type=float, default=2.0, help="power_interval for the detection runs")
    args = ap.parse_args()
    lab = hosts_lab.Lab()
    lab.up()
    reachability(lab, args.addresses)
    detection(lab, args.runs, args.interval)


if __name__ == "__main__":
    main()
