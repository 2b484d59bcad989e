"""Performance in one run (issue 15, item 5): the whole loopback lab, dolphie beside it, and the lab at scale.

    .venv/bin/python -m bench.perf [--quick] [--seconds S] [--presses N] [--skip-scale] [--skip-dolphie]

Every figure is printed as ``name  value unit  target  OK|OVER`` (bench/common.target_row), and all of them
again at the end with the machine's load average and core count (a shared, noisy machine: compare figures
within one run). The phases:

1. Whole lab, hatui's default intervals (Galera 1 s, RabbitMQ 1 s and the canary every 5 s, OpenStack 5 s,
   hosts: network 5 s, BMCs 30 s): the loopback labs (tests/lab: 3 Galera nodes, 3 RabbitMQ nodes,
   Keystone, the catalog, HAProxy, nova and neutron services, the 3 hosts with their Redfish and IPMI BMCs),
   brought up idempotently. The TUI in a 120x40 tmux pane, ``hatui watch`` and dolphie (PyPI, installed into
   its own venv under /tmp; n/a when it cannot be installed) watching ONE Galera node at 1 s, all three over
   the same --seconds (60; 20 with --quick) after a warm-up: CPU % of a core and RSS of each, and the ratio
   hatui TUI / dolphie; then 20 key presses in that TUI (as at scale, below: the method's baseline). Then
   ``hatui check``: wall time (median of 3), and its start-up (median of 5): a fresh interpreter importing
   what check imports, loading the config and building the sources, no request.
2. Scale: the lab plus 1,000 hosts on the hosts lab's bench network (900 answering loopback addresses, 100
   blackholed in the hatui-bench namespace: 10 %), 300 extra endpoint URLs and 100 Redfish BMCs served by a
   small asyncio server of this script on loopback (127.78.0.0/16 and 127.79.0.0/16: a minimal Redfish
   emulator, service root -> Systems -> one system, not sushy). In-process, the real sources: a full poll round
   of every target (the first round, with its logins, said apart). Then the TUI in tmux: first frame (from the
   tmux command to the status bar on screen), CPU and RSS over --seconds, its threads (/proc/PID/task, the
   most seen), and key press -> repaint: ``p`` (pause / resume, a full redraw) sent with tmux send-keys
   until the status bar shows the change (capture-pane every ~3 ms), p50 and p99 over --presses (a press not
   shown within 10 s counts 10 s; the presses stop after 1.5 x --seconds, at least 60 s).

Traffic goes only to 127.0.0.0/8 and to the labs' own namespaces behind their guard routes. Bounded: every
wait has a deadline, and the whole run a budget (--budget); everything this run started (tmux server on its
own socket, watch, dolphie, the fake servers, the bench network) is stopped in ``finally``, and labs that
were down before the run are taken down again (those already up are left up).
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench.common import load_line, process_tree_usage, quantile, target_row
from hatui.config import load
from hatui.feed import LiveFeed
from hatui.model import Observation
from hatui.sources import build_sources
from tests.integration.conftest import GALERA_PW_ENV, galera_toml
from tests.integration.hosts.lab_config import BMC_PW_ENV, hosts_toml
from tests.integration.openstack.conftest import admin_toml
from tests.integration.rabbit.conftest import CANARY_PW_ENV, MONITOR_PW_ENV, rabbit_toml
from tests.lab import galera as galera_lab
from tests.lab import hosts as hosts_lab
from tests.lab import openstack as os_lab
from tests.lab import rabbit as rabbit_lab

ROOT = Path(__file__).resolve().parents[1]
TMUX = ["tmux", "-L", "hatui-perf", "-f", "/dev/null"]  # a tmux server of this run's own
COLS, ROWS = 120, 40
WARMUP = 10.0  # s after start before sampling: imports and first polls are not the steady state
CANARY_INTERVAL = 5.0  # hatui's default (config/rabbitmq.py RabbitCanary.interval)
LAB_ORDER = ("galera", "rabbit", "hosts", "openstack")
DOLPHIE_VENV = Path("/tmp/hatui-bench-dolphie")
STATUS_BAR = re.compile(r"hatui\s+(OK|WARNING|CRITICAL|UNKNOWN)")
# scale
N_HOSTS, BLACKHOLED = 1000, 100
N_ENDPOINTS, N_BMCS = 300, 100
ENDPOINT_NET, BMC_NET, FAKE_PORT = "127.78", "127.79", 18950
SYSTEM_ID = "437XR1138R2"  # the one system each emulated BMC has
MISS = 10.0  # s: a key press not shown by then is counted as this long


# ---------------------------------------------------------------------------------- report

class Report:
    """Figures printed as they come, and again together at the end."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def row(self, name: str, value: float | None, unit: str, target: str = "", ok: bool | None = None,
            decimals: int = 2, note: str = "") -> None:
        self.lines.append(target_row(name, value, unit, target, ok, decimals, note))

    def note(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)


# ---------------------------------------------------------------------------------- the labs

def lab_objects() -> dict[str, object]:
    return {"galera": galera_lab.Lab(), "rabbit": rabbit_lab.Lab(), "hosts": hosts_lab.Lab(),
            "openstack": os_lab.Lab()}


def lab_running(name: str, lab) -> bool:
    """Any process (or, for hosts, the bridge) of that lab is there: it was up, and stays up after the run."""
    if name == "galera":
        return any(lab.pid(n) for n in galera_lab.NODES)
    if name == "rabbit":
        return any(lab.beam_pid(n) for n in rabbit_lab.NODES)
    if name == "hosts":
        return Path(f"/sys/class/net/{hosts_lab.BRIDGE}").exists()
    return any(s["pid"] for s in lab.services())


def lab_toml() -> str:
    """The whole loopback lab as the integration tests configure it, at hatui's default intervals."""
    hosts = re.sub(r"(?m)^(power_interval|power_timeout|network_interval|network_timeout|local_interval) = .*\n",
                   "", hosts_toml())
    openstack = re.sub(r"(?m)^(interval|timeout) = .*\n", "", admin_toml())
    return "\n".join([galera_toml(), rabbit_toml(canary_interval=CANARY_INTERVAL), openstack, hosts])


def endpoint_address(i: int) -> str:
    return f"{ENDPOINT_NET}.{1 + i // 250}.{1 + i % 250}"


def bmc_address(i: int) -> str:
    return f"{BMC_NET}.{1 + i // 250}.{1 + i % 250}"


def scale_toml(answering: list[str], blackholed: list[str]) -> str:
    """The lab plus N_HOSTS bench hosts (BMCs on the first N_BMCS), N_ENDPOINTS extra URLs; default intervals."""
    out = [lab_toml()]
    out += [f'\n[[openstack.endpoints]]\nname = "ep-{i:03d}"\nurl = "http://{endpoint_address(i)}:{FAKE_PORT}/"\n'
            for i in range(N_ENDPOINTS)]
    for i, addr in enumerate(answering + blackholed):
        racks = 40
        out.append(f'\n[[hosts.host]]\nname = "b{i:04d}"\naddresses = ["{addr}"]\nports = [22]\n'
                   f'rack = "br{i % racks}"\nswitch = "bsw{i % racks}"\npower_feed = "bpdu-{"ab"[i % 2]}"\n')
        if i < N_BMCS:
            out.append(f'bmc = {{ type = "redfish", url = "http://{bmc_address(i)}:{FAKE_PORT}", '
                       f'user = "{hosts_lab.BMC_USER}", password_env = "{BMC_PW_ENV}" }}\n')
    return "".join(out)


# ---------------------------------------------------------------------------------- fake endpoints and BMCs

VERSION_DOC = json.dumps({"versions": {"values": [
    {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
     "links": [{"rel": "self", "href": "/v3/"}],
     "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}]}}).encode()


def _redfish(path: str, n: int) -> dict | None:
    path = path.split("?")[0].rstrip("/")
    if path == "/redfish/v1":
        return {"@odata.id": "/redfish/v1/", "Id": "RootService", "RedfishVersion": "1.6.0",
                "Systems": {"@odata.id": "/redfish/v1/Systems"}}
    if path == "/redfish/v1/Systems":
        return {"@odata.id": "/redfish/v1/Systems", "Members@odata.count": 1,
                "Members": [{"@odata.id": f"/redfish/v1/Systems/{SYSTEM_ID}"}]}
    if path == f"/redfish/v1/Systems/{SYSTEM_ID}":
        return {"@odata.id": path, "Id": SYSTEM_ID, "Name": f"bench-{n}", "UUID": f"00000000-0000-4000-8000-{n:012d}",
                "PowerState": "On", "Status": {"State": "Enabled", "Health": "OK"}}
    return None


async def _fake_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, kind: str, n: int) -> None:
    try:
        while True:  # keep-alive: one request after the other on the connection
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode("latin-1")
            if kind == "endpoint":
                status, body = 200, VERSION_DOC
            else:
                doc = _redfish(path, n)
                status, body = (200, json.dumps(doc).encode()) if doc else (404, b'{"error": "not found"}')
            writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                         % (status, b"OK" if status == 200 else b"Not Found", len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


async def _serve_fakes(n_endpoints: int, n_bmcs: int) -> None:
    parent = os.getppid()
    servers = []
    for i in range(n_endpoints):
        cb = functools.partial(_fake_client, kind="endpoint", n=i)
        servers.append(await asyncio.start_server(cb, endpoint_address(i), FAKE_PORT))
    for i in range(n_bmcs):
        cb = functools.partial(_fake_client, kind="bmc", n=i)
        servers.append(await asyncio.start_server(cb, bmc_address(i), FAKE_PORT))
    print("ready", flush=True)
    while os.getppid() == parent:  # the bench is gone (even killed): so are we
        await asyncio.sleep(1)


class Fakes:
    """The fake endpoints and BMCs, a process of their own (their CPU is not hatui's)."""

    def __init__(self, n_endpoints: int, n_bmcs: int, log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.perf", "--serve-fakes", str(n_endpoints),
                                      str(n_bmcs)], cwd=ROOT, stdout=subprocess.PIPE, stderr=log.open("w"),
                                     text=True)
        ready: list[str] = []
        reader = threading.Thread(target=lambda: ready.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(30)
        if not ready or ready[0].strip() != "ready":
            self.stop()
            raise RuntimeError(f"the fake endpoints/BMCs did not start: {log.read_text()[-800:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


# ---------------------------------------------------------------------------------- tmux, processes

def tmux(*args: str, check: bool = True) -> str:
    return subprocess.run([*TMUX, *args], capture_output=True, text=True, timeout=10, check=check).stdout


def screen(session: str, first: int | None = None, last: int | None = None) -> str:
    lines = ["-S", str(first), "-E", str(last)] if first is not None and last is not None else []
    return tmux("capture-pane", "-p", "-t", session, *lines, check=False)


def start_pane(session: str, argv: list[str], env: dict[str, str]) -> float:
    """Start ``argv`` in a detached COLSxROWS tmux session; returns the monotonic time of the start."""
    t0 = time.monotonic()
    tmux("new-session", "-d", "-s", session, "-x", str(COLS), "-y", str(ROWS), "env",
         *(f"{k}={v}" for k, v in env.items()), *argv)
    return t0


def pane_pid(session: str) -> int:
    """The pane's process: ``env`` exec'd into the program, so the program's own pid."""
    return int(tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip())


def first_frame(session: str, t0: float, timeout: float = 30.0) -> float | None:
    """Seconds from ``t0`` to the first capture showing hatui's status bar, or None."""
    while time.monotonic() - t0 < timeout:
        if STATUS_BAR.search(screen(session, 0, 2)):
            return time.monotonic() - t0
        time.sleep(0.01)
    return None


def stop_pane(session: str) -> None:
    try:
        pid = pane_pid(session)
    except (subprocess.CalledProcessError, ValueError):
        pid = None
    tmux("kill-session", "-t", session, check=False)
    if pid:
        _reap(pid)


def _reap(pid: int, timeout: float = 5.0) -> None:
    """Wait for ``pid`` (a process this run started) to go; SIGKILL it past ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def sample(pids: dict[str, int], seconds: float) -> dict[str, tuple[float, float, int]]:
    """CPU % of a core and RSS MB (process tree, bench/common.process_tree_usage) of each pid over the same
    ``seconds``, and the most threads seen (/proc/PID/task, every 0.5 s). A process gone is left out."""
    usage: dict[str, tuple[float, float]] = {}
    threads = dict.fromkeys(pids, 0)
    stop = threading.Event()

    def measure(key: str, pid: int) -> None:
        try:
            usage[key] = process_tree_usage(pid, seconds)
        except Exception:  # noqa: BLE001 - the process died: reported as n/a
            pass

    def count() -> None:
        while not stop.is_set():
            for key, pid in pids.items():
                try:
                    threads[key] = max(threads[key], len(os.listdir(f"/proc/{pid}/task")))
                except OSError:
                    pass
            stop.wait(0.5)

    workers = [threading.Thread(target=measure, args=(k, p), daemon=True) for k, p in pids.items()]
    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    for w in workers:
        w.start()
    for w in workers:
        w.join(seconds + 30)
    stop.set()
    counter.join(5)
    return {k: (*usage[k], threads[k]) for k in pids if k in usage}


# ---------------------------------------------------------------------------------- dolphie

def dolphie_bin(log: Path) -> tuple[str | None, str]:
    """dolphie from PyPI in its own venv (kept between runs under /tmp): (path or None, what happened)."""
    exe = DOLPHIE_VENV / "bin" / "dolphie"
    if not exe.exists():
        try:
            with log.open("w") as out:
                subprocess.run(["python3", "-m", "venv", str(DOLPHIE_VENV)], check=True, timeout=120,
                               stdout=out, stderr=out)
                subprocess.run([str(DOLPHIE_VENV / "bin" / "pip"), "install", "-q", "dolphie"], check=True,
                               timeout=600, stdout=out, stderr=out)
        except (subprocess.SubprocessError, OSError) as exc:
            return None, f"could not be installed ({exc}; {log})"
    try:
        version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"does not run ({exc})"
    return str(exe), version or "dolphie"


def dolphie_argv(exe: str, home: Path) -> tuple[list[str], dict[str, str]]:
    """Node 1 over its unix socket as root (dolphie reads more than hatui's USAGE account may), every file it
    writes kept in ``home``, its new-version check sent to a closed loopback port (no traffic out)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dolphie.cnf").write_text("")
    argv = [exe, "-u", "root", "-S", str(galera_lab.Lab().sock(1)), "-r", "1", "-c", str(home / "dolphie.cnf"),
            "-m", str(home / "my.cnf"), "--host-cache-file", str(home / "host_cache"),
            "--tab-setup-file", str(home / "hosts"), "--pypi-repo", "http://127.0.0.1:9/"]
    return argv, {"HOME": str(home)}


# ---------------------------------------------------------------------------------- phase 1: the whole lab

def whole_lab(report: Report, config: Path, env: dict[str, str], seconds: float, tmp: Path, dolphie: bool) -> None:
    print(f"\n== whole lab, default intervals, {seconds:g} s samples after a {WARMUP:g} s warm-up; {load_line()}",
          flush=True)
    exe, what = dolphie_bin(tmp / "dolphie-install.log") if dolphie else (None, "skipped (--skip-dolphie)")
    print(f"dolphie: {what}", flush=True)
    watch = None
    sessions = []
    try:
        t0 = start_pane("tui", [sys.executable, "-m", "hatui", "ui", "--config", str(config)], env)
        sessions.append("tui")
        frame = first_frame("tui", t0)
        # os.environ holds the lab's variables (main): watch inherits them
        watch = subprocess.Popen([sys.executable, "-m", "hatui", "watch", "--config", str(config)],
                                 stdout=subprocess.DEVNULL, stderr=(tmp / "watch.err").open("w"))
        if exe:
            argv, extra = dolphie_argv(exe, tmp / "dolphie-home")
            start_pane("dolphie", argv, extra)
            sessions.append("dolphie")
        time.sleep(WARMUP)
        pids = {"tui": pane_pid("tui"), "watch": watch.pid}
        if exe:
            pids["dolphie"] = pane_pid("dolphie")
        got = sample(pids, seconds)
        lat, missed = key_presses("tui", 20, budget=40.0)  # the method's baseline: a TUI with little to do
        tui_screen = screen("tui")
        dolphie_screen = screen("dolphie") if exe else ""
    finally:
        for s in sessions:
            stop_pane(s)
        if watch is not None:
            watch.terminate()
            try:
                watch.wait(10)
            except subprocess.TimeoutExpired:
                watch.kill()
                watch.wait(10)
    if "Galera" not in tui_screen:
        report.note("WARNING: the TUI did not draw its panes; its screen:\n" + tui_screen)
    status = next((ln.strip() for ln in tui_screen.splitlines() if STATUS_BAR.search(ln)), "(no status bar)")
    print(f"TUI status bar at the end: {status}")
    report.note(f"-- whole lab (3 Galera, 3 RabbitMQ + canary, Keystone + catalog, HAProxy, nova + neutron, "
                f"3 hosts with BMCs), default intervals, {seconds:g} s")
    report.row("TUI first frame (whole lab)", frame, "s", "<= 1 s", frame is not None and frame <= 1.0)
    tui = got.get("tui")
    report.row("TUI CPU, 120x40 tmux pane", tui and tui[0], "%", "<= 3 %", bool(tui) and tui[0] <= 3, 1)
    report.row("TUI RSS", tui and tui[1], "MB", "<= 80 MB", bool(tui) and tui[1] <= 80, 0)
    report.row("TUI threads (most seen)", tui and tui[2], "", decimals=0)
    key_rows(report, lat, missed, "whole lab")
    w = got.get("watch")
    note = "" if w else f"watch died: {(tmp / 'watch.err').read_text()[-300:]}"
    report.row("`hatui watch` CPU", w and w[0], "%", "<= 1 %", bool(w) and w[0] <= 1, 1, note)
    report.row("`hatui watch` RSS", w and w[1], "MB", "<= 60 MB", bool(w) and w[1] <= 60, 0)
    d = got.get("dolphie")
    if exe and (not d or "Dolphie" not in dolphie_screen):
        note = "dolphie did not draw: " + " ".join(dolphie_screen.split())[:200]
        d = None
    else:
        note = what if exe else f"dolphie {what}"
    report.row("dolphie CPU, ONE Galera node at 1 s, same minute", d and d[0], "%", "", None, 1, note)
    report.row("dolphie RSS", d and d[1], "MB", decimals=0)
    ratio = tui[0] / d[0] if tui and d and d[0] > 0 else None
    report.row("ratio hatui TUI whole lab / dolphie one node (CPU)", ratio, "x", "< 0.3",
               ratio is not None and ratio < 0.3)


# ---------------------------------------------------------------------------------- phase 1b: check

STARTUP = """\
import sys, time
t0 = time.perf_counter()
import hatui.cli
from hatui.config import load
from hatui.faces.check import run_check
from hatui.sources import build_sources
t1 = time.perf_counter()
config = load(sys.argv[1])
t2 = time.perf_counter()
build_sources(config)
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""

APP_STARTUP = """\
import sys, time
t0 = time.perf_counter()
import hatui.cli
from hatui.config import load
from hatui.feed import LiveFeed
from hatui.sources import build_sources
from hatui.ui.app import HatuiApp
config = load(sys.argv[1])
HatuiApp(config, LiveFeed(build_sources(config)))
print(time.perf_counter() - t0)
"""


def _timed(argv: list[str], env: dict[str, str], timeout: float = 60) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    return time.monotonic() - t0, proc


def largest_imports(config: Path, env: dict[str, str], n: int = 6) -> str:
    """What check's start-up spends most in (``python -X importtime`` over STARTUP: the imports made
    directly by it, each with everything it pulled in), cumulative ms."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", STARTUP, str(config)], capture_output=True,
                          text=True, timeout=60, env=env, cwd=ROOT)
    cost: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()
        if len(name) - len(name.lstrip()) == 1 and name.strip() not in ("site", "encodings"):  # not nested
            cost[name.strip()] = int(parts[1])
    top = sorted(cost.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{k} {v / 1000:.0f} ms" for k, v in top)


def check_figures(report: Report, config: Path, env: dict[str, str], label: str = "whole lab") -> None:
    walls, summary = [], ""
    for _ in range(3):
        wall, proc = _timed([sys.executable, "-m", "hatui", "check", "--config", str(config)], env)
        walls.append(wall)
        summary = proc.stdout.splitlines()[0] if proc.stdout else proc.stderr[-200:]
    starts, inner = [], []
    for _ in range(5):
        wall, proc = _timed([sys.executable, "-c", STARTUP, str(config)], env)
        starts.append(wall)
        if proc.returncode == 0:
            inner.append([float(x) for x in proc.stdout.split()])
    app_wall, app = _timed([sys.executable, "-c", APP_STARTUP, str(config)], env)
    print(f"check says: {summary[:160]}")
    print(f"check runs: {', '.join(f'{w:.2f}' for w in walls)} s; start-up runs: "
          f"{', '.join(f'{w:.3f}' for w in starts)} s")
    wall = statistics.median(walls)
    report.row(f"`hatui check` wall time ({label}), median of 3", wall, "s", "<= 1.5 s", wall <= 1.5)
    start = statistics.median(starts)
    parts = [statistics.median(x[i] for x in inner) for i in range(3)] if inner else []
    inner_note = (f"in-process: imports {parts[0]:.3f} s, config {parts[1]:.3f} s, sources {parts[2]:.3f} s"
                  if parts else "failed")
    report.row("  check start-up: new interpreter, imports, config, sources", start, "s", "<= 0.3 s", start <= 0.3,
               3, inner_note)
    report.note(f"  largest imports of check's start-up (python -X importtime): {largest_imports(config, env)}")
    report.row("  TUI start-up: new interpreter, imports, build the app", app_wall if app.returncode == 0 else None,
               "s", decimals=3, note="" if app.returncode == 0 else app.stderr[-200:])


# ---------------------------------------------------------------------------------- phase 2: scale

def full_rounds(config: Path, rounds: int = 3) -> list[tuple[float, Counter, dict[str, float]]]:
    """Poll rounds of every target with the real sources, one feed (the first logs in): wall, outcomes (and
    the network probes' own), and the slowest poll of each source."""
    cfg = load(str(config))

    async def go() -> list[tuple[float, Counter, dict[str, float]]]:
        feed = LiveFeed(build_sources(cfg))
        out = []
        try:
            for _ in range(rounds):
                seen: Counter = Counter()
                slowest: dict[str, float] = {}

                def sink(o: Observation, seen: Counter = seen, slowest: dict[str, float] = slowest) -> None:
                    seen[f"{o.source} {'ok' if o.ok else o.failure.kind.value}"] += 1
                    slowest[o.source] = max(slowest.get(o.source, 0.0), o.latency or 0.0)
                    for p in o.data.get("probes", ()) if o.source == "network" else ():
                        seen[f"  probe {p['outcome']}"] += 1

                t0 = time.monotonic()
                await asyncio.wait_for(feed.poll_round(sink), 60)
                out.append((time.monotonic() - t0, seen, slowest))
        finally:
            await feed.aclose()
        return out

    return asyncio.run(go())


def key_presses(session: str, presses: int, budget: float) -> tuple[list[float], int]:
    """``p`` (pause, resume: a full redraw), timed until the status bar says so (a press not shown within
    MISS s counts as MISS s, and the screen is let to catch up before the next one). At most ``budget`` s in
    all. Returns the seconds per press and how many were missed."""
    lat, missed = [], 0
    deadline = time.monotonic() + budget

    def paused_now() -> bool:
        return "PAUSED" in screen(session, 0, 2)

    def wait_for(want: bool, t0: float, limit: float) -> bool:
        while paused_now() != want:
            if time.monotonic() - t0 > limit:
                return False
            time.sleep(0.003)
        return True

    paused = paused_now()
    for _ in range(presses):
        if time.monotonic() > deadline:
            break
        time.sleep(random.uniform(0.1, 0.3))  # de-phase from the 1 s tick
        want = not paused
        t0 = time.monotonic()
        tmux("send-keys", "-t", session, "p")
        if wait_for(want, t0, MISS):
            lat.append(time.monotonic() - t0)
        else:
            lat.append(MISS)
            missed += 1
            wait_for(want, time.monotonic(), MISS)  # the press is still queued: let it land
        paused = paused_now()
    if paused:
        tmux("send-keys", "-t", session, "p")
        wait_for(False, time.monotonic(), MISS)
    return lat, missed


def scale(report: Report, hosts: hosts_lab.Lab, env: dict[str, str], seconds: float, presses: int,
          tmp: Path) -> None:
    print(f"\n== scale: the lab + {N_HOSTS} hosts ({BLACKHOLED} blackholed), {N_ENDPOINTS} endpoints, {N_BMCS} "
          f"emulated BMCs; {load_line()}", flush=True)
    fakes = None
    try:
        t0 = time.monotonic()
        net = hosts.bench_net(n_blackholed=BLACKHOLED, n_answering=N_HOSTS - BLACKHOLED)
        fakes = Fakes(N_ENDPOINTS, N_BMCS, tmp / "fakes.log")
        print(f"bench network ({net['netns']}) and fake servers up in {time.monotonic() - t0:.1f} s", flush=True)
        config = tmp / "scale.toml"
        config.write_text(scale_toml([a for a, _ in net["answering"]], [a for a, _ in net["blackholed"]]))
        rounds = full_rounds(config)
        for i, (wall, seen, slowest) in enumerate(rounds):
            slow = ", ".join(f"{k} {v:.2f}" for k, v in sorted(slowest.items(), key=lambda kv: -kv[1])[:4])
            print(f"round {i + 1}: {wall:.2f} s (slowest polls: {slow} s): {dict(sorted(seen.items()))}", flush=True)
        steady = max(r[0] for r in rounds[1:])
        report.note(f"-- scale: the lab + {N_HOSTS} hosts ({BLACKHOLED} blackholed), {N_ENDPOINTS} loopback "
                    f"endpoints, {N_BMCS} emulated Redfish BMCs (this script's minimal emulator), default intervals")
        report.row("full round, every target, in-process (rounds 2-3, max)", steady, "s", "<= 2 s", steady <= 2.0,
                   note=f"first round (logins) {rounds[0][0]:.2f} s; {os.cpu_count()} cores")
        try:
            t0 = start_pane("scale", [sys.executable, "-m", "hatui", "ui", "--config", str(config)], env)
            frame = first_frame("scale", t0)
            time.sleep(WARMUP)
            got = sample({"tui": pane_pid("scale")}, seconds).get("tui")
            lat, missed = key_presses("scale", presses, budget=max(60.0, 1.5 * seconds))
            tui_screen = screen("scale")
        finally:
            stop_pane("scale")
    finally:
        if fakes is not None:
            fakes.stop()
        hosts.bench_net_down()
    print("TUI screen at the end (first lines):\n  " + "\n  ".join(tui_screen.splitlines()[:10]))
    report.row("TUI first frame at scale", frame, "s", "<= 1 s", frame is not None and frame <= 1.0)
    report.row(f"TUI CPU at scale, {seconds:g} s", got and got[0], "%", "<= 25 %", bool(got) and got[0] <= 25, 1)
    report.row("TUI RSS at scale", got and got[1], "MB", "<= 200 MB", bool(got) and got[1] <= 200, 0)
    report.row("TUI threads at scale (most seen)", got and got[2], "", "<= 64", bool(got) and got[2] <= 64, 0)
    key_rows(report, lat, missed, "at scale")


def key_rows(report: Report, lat: list[float], missed: int, where: str) -> None:
    if not lat:
        report.row(f"key press -> repaint p99 {where}", None, "ms", "<= 100 ms", note="no press measured")
        return
    p50, p99 = quantile(lat, 0.5) * 1000, quantile(lat, 0.99) * 1000
    report.row(f"key press -> repaint p50 {where} ({len(lat)} presses, tmux)", p50, "ms", decimals=0)
    report.row(f"key press -> repaint p99 {where} ({len(lat)} presses, tmux)", p99, "ms", "<= 100 ms", p99 <= 100, 0,
               f"max {max(lat) * 1000:.0f} ms" + (f"; {missed} not shown within {MISS:g} s (counted {MISS:g} s)"
                                                   if missed else ""))


# ---------------------------------------------------------------------------------- main

class Budget(Exception):
    """The run's time budget is spent: everything is cleaned up, the figures so far printed."""


def _on_signal(signum, _frame) -> None:
    raise Budget(f"stopped by {signal.Signals(signum).name}")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 s samples instead of 60 s")
    ap.add_argument("--seconds", type=float, help="sample length (default 60, 20 with --quick)")
    ap.add_argument("--presses", type=int, default=50, help="key presses for the repaint latency (default 50)")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-dolphie", action="store_true")
    ap.add_argument("--budget", type=float, default=20 * 60, help="whole run, seconds (default 1200)")
    ap.add_argument("--serve-fakes", nargs=2, type=int, metavar=("ENDPOINTS", "BMCS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_fakes:
        asyncio.run(_serve_fakes(*args.serve_fakes))
        return 0
    seconds = args.seconds or (20.0 if args.quick else 60.0)
    report = Report()
    started = time.monotonic()
    print(f"bench.perf: {os.cpu_count()} cores; {load_line()}", flush=True)
    signal.signal(signal.SIGALRM, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.alarm(int(args.budget))
    labs = lab_objects()
    was_up = {name: lab_running(name, lab) for name, lab in labs.items()}
    tmux("kill-server", check=False)  # a server of ours left by a killed run
    rc = 0
    try:
        t0 = time.monotonic()
        for name in LAB_ORDER:
            labs[name].up()
        print(f"labs up in {time.monotonic() - t0:.0f} s (already up: "
              f"{', '.join(n for n, u in was_up.items() if u) or 'none'})", flush=True)
        with tempfile.TemporaryDirectory(prefix="hatui-perf-") as tmpdir:
            tmp = Path(tmpdir)
            for k in [k for k in os.environ if k.startswith("OS_")]:
                del os.environ[k]  # only the lab's clouds.yaml, as the integration tests
            env = {GALERA_PW_ENV: galera_lab.MONITOR_PASSWORD, MONITOR_PW_ENV: rabbit_lab.MONITOR_PASSWORD,
                   CANARY_PW_ENV: rabbit_lab.CANARY_PASSWORD, BMC_PW_ENV: hosts_lab.BMC_PASSWORD,
                   "OS_CLIENT_CONFIG_FILE": str(labs["openstack"].clouds_yaml()),
                   "XDG_CACHE_HOME": str(tmp / "cache"), "XDG_STATE_HOME": str(tmp / "state")}
            os.environ.update(env)
            full_env = dict(os.environ)
            config = tmp / "lab.toml"
            config.write_text(lab_toml())
            whole_lab(report, config, env, seconds, tmp, not args.skip_dolphie)
            check_figures(report, config, full_env)
            if not args.skip_scale:
                scale(report, labs["hosts"], env, seconds, args.presses, tmp)
    except Budget as exc:
        report.note(f"INCOMPLETE: {exc} (budget {args.budget:g} s): the figures above are all there is")
        rc = 1
    finally:
        signal.alarm(0)
        tmux("kill-server", check=False)
        for name in reversed(LAB_ORDER):
            if not was_up[name]:
                try:
                    print(f"{name}: {labs[name].down()} (it was down before this run)", flush=True)
                except Exception as exc:  # noqa: BLE001 - the others are still taken down
                    print(f"{name}: down failed: {exc}", file=sys.stderr)
    print(f"\n== summary ({time.monotonic() - started:.0f} s; {seconds:g} s samples; {load_line()})")
    print(f"{'figure':<60} {'value':>9} {'unit':<4} {'target':<14} verdict")
    for line in report.lines:
        print(line)
    over = sum(1 for ln in report.lines if re.search(r"\sOVER(\s|$)", ln))
    print(f"{over} figure(s) over target" if over else "every figure with a target meets it")
    return rc


if __name__ == "__main__":
    sys.exit(main())
