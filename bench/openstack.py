"""OpenStack benchmark against the real lab control plane (tests/lab/openstack.py).

    .venv/bin/python -m bench.openstack [--runs 3] [--rounds 20]

Prints, each beside its target (issue 5):
- time from SIGKILL of a nova-conductor to `services.down` / `services.spof` in `hatui watch`, beside the
  service_down_time used (nova's own verdict needs the heartbeat to be that old);
- time from SIGSTOP of a conductor to the first sign (`services.heartbeat_late`) and to `services.down`;
- endpoint probe round time for the whole catalog plus the extra URLs (every URL concurrently), and
  one Keystone token check, measured in-process with the real sources.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import figure, latency_figures, quantile
from tests.integration.hatui_proc import Watcher, hatui_env
from tests.integration.openstack.conftest import LAB_SPOFS, admin_toml
from tests.lab import openstack as os_lab

CONDUCTOR = "nova-conductor@lab-ctl-1"


def _env(lab: os_lab.Lab, tmp: str) -> dict[str, str]:
    env = {k: v for k, v in hatui_env().items() if not k.startswith("OS_")}
    env.update(OS_CLIENT_CONFIG_FILE=str(lab.clouds_yaml()), XDG_CACHE_HOME=str(Path(tmp) / "cache"))
    return env


def _baseline(w: Watcher, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while w.open_ids() != LAB_SPOFS:
        if time.monotonic() > deadline:
            raise RuntimeError(f"hatui does not see a healthy lab: {sorted(w.open_ids())}")
        time.sleep(0.1)


def conductor_faults(lab: os_lab.Lab, config: Path, env: dict, runs: int) -> None:
    down, spof, late, frozen_down = [], [], [], []
    w = Watcher(config, env)
    try:
        _baseline(w, 60)
        for i in range(runs):
            time.sleep(0.31 * i)  # de-phase the fault from the 2 s heartbeat and the 1 s poll
            t0 = time.monotonic()
            lab.kill(CONDUCTOR)
            t1, _ = w.wait_opened(f"services.down:{CONDUCTOR}", 60, after=t0)
            t2, _ = w.wait_opened("services.spof:nova-conductor@lab-ctl-0", 60, after=t0)
            down.append(t1 - t0)
            spof.append(t2 - t0)
            lab.start(CONDUCTOR)
            _baseline(w, 60)
        for i in range(runs):
            time.sleep(0.31 * i)
            t0 = time.monotonic()
            lab.freeze(CONDUCTOR)
            try:
                t1, _ = w.wait_opened(f"services.heartbeat_late:{CONDUCTOR}", 60, after=t0)
                t2, _ = w.wait_opened(f"services.down:{CONDUCTOR}", 60, after=t0)
            finally:
                lab.thaw(CONDUCTOR)
            late.append(t1 - t0)
            frozen_down.append(t2 - t0)
            _baseline(w, 60)
    finally:
        w.stop()
        lab.reset()
    sdt, ri = os_lab.SERVICE_DOWN_TIME, os_lab.REPORT_INTERVAL
    print(f"nova service_down_time {sdt} s, report_interval {ri} s (lab); hatui interval 1 s")
    target = f"<= {sdt + ri + 2} s (service_down_time + report_interval + 2 s)"
    latency_figures("SIGKILL conductor -> services.down opened", down)
    figure("  p95 against nova's own verdict", quantile(down, 0.95), "s", target, quantile(down, 0.95) <= sdt + ri + 2)
    latency_figures("SIGKILL conductor -> services.spof:nova-conductor@lab-ctl-0 opened", spof)
    latency_figures("SIGSTOP conductor -> services.heartbeat_late opened (first sign)", late)
    latency_figures("SIGSTOP conductor -> services.down opened", frozen_down)
    ahead = [d - la for d, la in zip(frozen_down, late, strict=True)]
    figure("  warning ahead of nova's 'down' (median)", statistics.median(ahead), "s", "> 0 s",
           statistics.median(ahead) > 0)


def rounds(config: Path, n: int) -> None:
    """The real sources in this process: n endpoint rounds and n Keystone token checks, back to back."""
    from hatui.config import load
    from hatui.sources import build_sources

    cfg = load(str(config))
    sources = {s.spec.source: s for s in build_sources(cfg) if s.spec.source in ("keystone", "endpoint")}
    keystone, endpoints = sources["keystone"], sources["endpoint"]
    keystone.poll()  # log in once: the steady state is a validation, not a login
    token_checks = []
    for _ in range(n):
        t0 = time.perf_counter()
        keystone.poll()
        token_checks.append(time.perf_counter() - t0)

    async def run() -> list[tuple[float, int, float]]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            data = await endpoints.poll()
            took = time.perf_counter() - t0
            lat = max(e["latency"] or 0 for e in data["endpoints"])
            out.append((took, len({e["url"] for e in data["endpoints"]}), lat))
        await endpoints.aclose()
        return out

    results = asyncio.run(run())
    keystone.close()
    took = [r[0] for r in results]
    urls = results[0][1]
    timeout = cfg.section("openstack").timeout
    print(f"endpoint round: {urls} distinct URLs (catalog of 5 services x 3 interfaces, + extra URLs), "
          f"probed concurrently")
    latency_figures(f"endpoint probe round, whole catalog ({urls} URLs)", took)
    figure("  slowest single probe (median over rounds)", statistics.median(r[2] for r in results), "s")
    figure("  round p95 against the request timeout", quantile(took, 0.95), "s", f"< {timeout:g} s (one timeout)",
           quantile(took, 0.95) < timeout)
    latency_figures("Keystone token check (GET /v3/auth/tokens, catalog included)", token_checks)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, help="fault runs per kind (each ~15-25 s)")
    ap.add_argument("--rounds", type=int, default=20, help="endpoint rounds and token checks")
    ap.add_argument("--skip-faults", action="store_true")
    args = ap.parse_args()
    lab = os_lab.Lab()
    lab.up()
    lab.reset()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "hatui.toml"
        config.write_text(admin_toml())
        env = _env(lab, tmp)
        os.environ.update(OS_CLIENT_CONFIG_FILE=env["OS_CLIENT_CONFIG_FILE"], XDG_CACHE_HOME=env["XDG_CACHE_HOME"])
        os.environ.pop("OS_CLOUD", None)
        rounds(config, args.rounds)
        if not args.skip_faults:
            conductor_faults(lab, config, env, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
