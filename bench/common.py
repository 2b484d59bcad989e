"""Shared bench helpers: figures printed beside their targets, and process CPU/RSS sampling."""
from __future__ import annotations

import os
import statistics
import time

import psutil


def quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    idx = min(len(s) - 1, max(0, round(q * (len(s) - 1))))
    return s[idx]


def figure(name: str, value: float, unit: str, target: str = "", ok: bool | None = None, decimals: int = 3) -> None:
    verdict = "" if ok is None else ("  [meets target]" if ok else "  [MISSES target]")
    tgt = f"   target {target}" if target else ""
    print(f"{name:<52} {value:>9.{decimals}f} {unit:<4}{tgt}{verdict}", flush=True)


def latency_figures(name: str, samples: list[float], target_p95: float | None = None) -> None:
    print(f"{name}: {len(samples)} runs: " + ", ".join(f"{s:.3f}" for s in samples))
    figure(f"  {name} median", statistics.median(samples), "s")
    figure(f"  {name} p95", quantile(samples, 0.95), "s", f"<= {target_p95} s" if target_p95 else "",
           None if target_p95 is None else quantile(samples, 0.95) <= target_p95)
    figure(f"  {name} max", max(samples), "s")


def process_tree_usage(pid: int, seconds: float) -> tuple[float, float]:
    """CPU % of one core (process and its children) over ``seconds``, and RSS (MB) at the end."""
    proc = psutil.Process(pid)

    def cpu() -> float:
        total = 0.0
        for p in [proc, *proc.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    c0, t0 = cpu(), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu(), time.monotonic()
    rss = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            rss += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return 100.0 * (c1 - c0) / (t1 - t0), rss / 1e6


def target_row(name: str, value: float | None, unit: str, target: str = "", ok: bool | None = None,
               decimals: int = 2, note: str = "") -> str:
    """One figure as ``name  value unit  target  OK|OVER`` (the table bench/perf.py prints); ``value`` None
    is printed n/a (not measured, the note says why) and gets no verdict. Printed, and returned."""
    shown = "n/a" if value is None else f"{value:.{decimals}f}"
    verdict = "" if ok is None or value is None else ("OK" if ok else "OVER")
    line = f"{name:<60} {shown:>9} {unit:<4} {target:<14} {verdict:<4}"
    line = (line + f"  {note}" if note else line).rstrip()
    print(line, flush=True)
    return line


def load_line() -> str:
    """The machine's load average beside its core count: figures from a shared machine need it."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"
