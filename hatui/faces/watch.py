"""``hatui watch``: headless live run; one JSON line each time a finding opens or clears, or an open
finding's cause changes (its cause was seen after it: Galera sees a peer gone before the BMC poll says Off).

``{"at": ISO-8601, "event": "opened"|"explained"|"cleared", "finding": {...}}``. Assessments run on every
observation (coalesced: hatui.monitor.judge_gap), so an event is printed as soon as the poll
that shows it returns, not on a fixed tick.
"""
from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import Callable
from typing import TextIO

from hatui.config import Config
from hatui.config.maintenance import Maintenance
from hatui.faces.jsonout import finding_json, iso
from hatui.feed import LiveFeed
from hatui.model import Observation
from hatui.monitor import Assessment, Monitor, judge_gap
from hatui.sources import build_sources

TICK = 0.25      # seconds: re-assess without observations (ages grow, polls hang)


def events_of(a: Assessment) -> list[dict]:
    out = [{"at": iso(a.snapshot.taken_at), "event": "opened", "finding": finding_json(f)} for f in a.opened]
    out += [{"at": iso(a.snapshot.taken_at), "event": "explained", "finding": finding_json(f)} for f in a.explained]
    out += [{"at": iso(a.snapshot.taken_at), "event": "cleared", "finding": finding_json(f)} for f in a.cleared]
    return out


async def follow(monitor: Monitor, feed, clock: Callable[[], float], on_assessment: Callable[[Assessment], None],
                 stop: asyncio.Event | None = None,
                 on_observation: Callable[[Observation], None] | None = None) -> None:
    """Run the feed into the monitor and hand each assessment to ``on_assessment`` (watch, serve)."""
    dirty = asyncio.Event()

    def sink(obs: Observation) -> None:
        monitor.ingest(obs)
        if on_observation is not None:
            on_observation(obs)
        dirty.set()

    task = asyncio.create_task(feed.run(sink))
    stop = stop or asyncio.Event()
    took = 0.0
    try:
        while not stop.is_set():
            if task.done() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
            # (a feed with nothing to poll ends at once: the face goes on saying UNKNOWN until stopped)
            try:
                await asyncio.wait_for(dirty.wait(), timeout=TICK)
                await asyncio.sleep(judge_gap(took))
            except TimeoutError:
                pass
            dirty.clear()
            t0 = time.perf_counter()
            a = monitor.assess(clock(), feed.pending())
            took = time.perf_counter() - t0
            on_assessment(a)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def watch(monitor: Monitor, feed, out: TextIO, clock: Callable[[], float],
                stop: asyncio.Event | None = None) -> None:
    def write(a: Assessment) -> None:
        for ev in events_of(a):
            out.write(json.dumps(ev) + "\n")
        out.flush()

    await follow(monitor, feed, clock, write, stop)


def run_watch(config: Config, maintenance: Maintenance | None = None) -> int:
    monitor = Monitor(config, started_at=time.time(), maintenance=maintenance.names if maintenance else None)
    if not monitor.specs:
        print("hatui: nothing to watch: the config names no target (UNKNOWN); waiting until stopped",
              file=sys.stderr)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await watch(monitor, LiveFeed(build_sources(config)), sys.stdout, time.time, stop)

    asyncio.run(run())
    return 0
