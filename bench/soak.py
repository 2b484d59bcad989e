"""Soak: a day of recorded time through `hatui watch`'s pipeline, at high speed (issue 13, item 6).

    .venv/bin/python -m bench.soak [--hours 24] [--minutes 4] [--recording FILE]

The bundled demo recording (every area; faults opening and clearing every 2 min 52 s) is looped with
its time shifted (``ReplayFeed(loop=True)``, as ``hatui demo``) and played fast enough to cover --hours
of recorded time in --minutes of wall time, into the very loop ``hatui watch`` runs (``follow``: the
Monitor parses each answer, assessments coalesced every EVAL_GAP, the findings lifecycle, the timeline,
each event turned into its JSON line, here counted and dropped). No server is involved.

After a warm-up (the first recorded hour, and the timeline full) it takes the process's RSS, Python's
allocated blocks, open file descriptors and threads, each after a full garbage collection; again every
--every recorded hours (the trend) and at the end. Prints, each beside its target: recorded hours, wall
time, observations, assessments, events, RSS growth (< 5 %), the timeline (TIMELINE_MAX events) and the
monitor's finding state (bounded by the distinct findings the recording can give, not by time),
descriptors and threads (no leak), and the load average. It stops by itself: at --hours of recorded
time, or at 1.5 x --minutes of wall time (then it says how many recorded hours it reached, and the
figures are for that span). Exit status 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.common import figure
from hatui.cli import demo_path
from hatui.config import parse
from hatui.faces.replay_events import replay_events
from hatui.faces.watch import events_of, follow
from hatui.feed import ReplayFeed
from hatui.feed.recording import read_recording
from hatui.model import Observation
from hatui.monitor import EVAL_GAP, TIMELINE_MAX, Assessment, Monitor

WARMUP_HOURS = 1.0  # recorded: caches, the timeline and the allocator reach their steady state
CHECK = 0.25        # s of wall time between looks at the stop conditions


@dataclass
class Sample:
    wall: float
    recorded_h: float
    rss_mb: float
    blocks: int  # sys.getallocatedblocks(): Python objects alive, after a full collection
    fds: int
    threads: int
    timeline: int
    held: int  # the monitor's finding state: open findings, candidates being confirmed, causes


@dataclass
class Run:
    observations: int = 0
    assessments: int = 0
    events: int = 0
    reached: float = 0.0  # the newest observation delivered: the recorded time really replayed
    last: Assessment | None = None
    ids_at_warmup: int = 0
    ids: set[str] = field(default_factory=set)  # every finding id an event named
    trend: list[Sample] = field(default_factory=list)  # from the end of the warm-up on
    speed: float = 0.0
    lag: float = 0.0  # the most the delivered observations were behind the feed's clock (recorded s)


def held(monitor: Monitor) -> int:
    tracker = monitor._tracker
    return len(tracker._open) + len(tracker._candidates) + len(monitor._causes)


def sample(proc: psutil.Process, t0: float, recorded_h: float, monitor: Monitor, run: Run) -> Sample:
    gc.collect()
    return Sample(time.monotonic() - t0, recorded_h, proc.memory_info().rss / 1e6, sys.getallocatedblocks(),
                  proc.num_fds(), proc.num_threads(), len(run.last.timeline) if run.last else 0, held(monitor))


async def soak(observations: list[Observation], monitor: Monitor, hours: float, minutes: float, every: float) -> Run:
    # the warm-up hour is part of the run: the whole --hours is played in --minutes
    feed = ReplayFeed(observations, speed=hours * 3600 / (minutes * 60), loop=True)
    proc = psutil.Process()
    run = Run(reached=feed.t0, speed=feed.speed)

    def on_observation(obs: Observation) -> None:
        run.observations += 1
        run.reached = obs.observed_at

    def on_assessment(a: Assessment) -> None:  # what `hatui watch` does with each assessment
        run.assessments += 1
        for ev in events_of(a):
            json.dumps(ev)  # the line watch would print
            run.events += 1
            run.ids.add(ev["finding"]["id"])
        run.last = a

    def recorded_h() -> float:
        return (run.reached - feed.t0) / 3600

    stop = asyncio.Event()
    t0 = time.monotonic()
    deadline = t0 + 1.5 * minutes * 60
    task = asyncio.create_task(follow(monitor, feed, feed.clock, on_assessment, stop, on_observation))
    try:
        while not task.done():
            await asyncio.sleep(CHECK)
            run.lag = max(run.lag, feed.clock() - run.reached)
            if not run.trend:
                if recorded_h() >= WARMUP_HOURS and run.last is not None and len(run.last.timeline) == TIMELINE_MAX:
                    run.trend.append(sample(proc, t0, recorded_h(), monitor, run))
                    run.ids_at_warmup = len(run.ids)
                    print(f"warm-up done at {recorded_h():.2f} h recorded, {run.trend[0].wall:.0f} s wall: "
                          "measuring", flush=True)
            elif recorded_h() >= run.trend[-1].recorded_h + every:
                run.trend.append(sample(proc, t0, recorded_h(), monitor, run))
            if recorded_h() >= hours or time.monotonic() > deadline:
                break
    finally:
        stop.set()
        await task  # follow() cancels the feed and returns; an error in either is raised here
    if not run.trend:
        raise SystemExit(f"the run ended before its warm-up ({recorded_h():.2f} h recorded, the feed up to "
                         f"{run.lag:.0f} s behind its clock): too fast for this machine, give it more --minutes")
    run.trend.append(sample(proc, t0, recorded_h(), monitor, run))
    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=24.0, help="recorded hours to replay (default 24)")
    ap.add_argument("--minutes", type=float, default=4.0, help="wall time to do it in (default 4)")
    ap.add_argument("--every", type=float, default=3.0, help="recorded hours between trend samples (default 3)")
    ap.add_argument("--recording", type=Path, default=Path(demo_path()), help="default: the bundled demo")
    args = ap.parse_args()
    doc, observations = read_recording(args.recording)
    config = parse(doc, f"{args.recording} (recorded config)", resolve_secrets=False)
    duration = observations[-1].observed_at - observations[0].observed_at + 1.0
    print(f"soak: {args.recording.name}: {len(observations):,} observations over {duration:.0f} s recorded, looped "
          f"with its time shifted; {args.hours:g} h recorded in {args.minutes:g} min wall "
          f"(x{args.hours * 60 / args.minutes:.0f}) through the `hatui watch` loop (an assessment at most every "
          f"{EVAL_GAP} s wall); {os.cpu_count()} cores", flush=True)
    # the findings the recording gives at its own pace (assessed on every observation): the soak's are these,
    # give or take what the coarser assessments of a fast replay happen to catch
    own = {ev["finding"]["id"] for ev in replay_events(config, observations)}
    load0 = os.getloadavg()
    monitor = Monitor(config, started_at=observations[0].observed_at)
    run = asyncio.run(soak(observations, monitor, args.hours, args.minutes, args.every))
    load1 = os.getloadavg()
    start, end = run.trend[0], run.trend[-1]

    ok = True

    def check(name: str, value: float, unit: str, target: str = "", met: bool | None = None, decimals: int = 0) -> None:
        nonlocal ok
        figure(name, value, unit, target, met, decimals)
        ok = ok and met is not False

    reached = end.recorded_h >= args.hours - 1e-6
    check("recorded time replayed", end.recorded_h, "h", f">= {args.hours:g} h", reached, 2)
    if not reached:
        print(f"  (stopped by the wall-time bound at {end.recorded_h:.2f} h recorded, "
              f"x{end.recorded_h * 3600 / end.wall:.0f} effective: the figures below are for that span)")
    check("feed behind its clock, worst seen (recorded time)", run.lag, "s", decimals=1)
    check("wall time", end.wall, "s", f"<= {args.minutes * 60:.0f} s (+5 %)", end.wall <= args.minutes * 60 * 1.05, 1)
    check("observations ingested (each parsed once)", run.observations, "obs")
    check("assessments (watch's loop: rules, lifecycle, timeline)", run.assessments, "")
    check("finding events (watch's JSON lines)", run.events, "")
    print(f"measured from {start.recorded_h:.2f} h to {end.recorded_h:.2f} h recorded "
          f"({end.recorded_h - start.recorded_h:.1f} h in {end.wall - start.wall:.0f} s wall), "
          "each after a full garbage collection:")
    growth = 100 * (end.rss_mb - start.rss_mb) / start.rss_mb
    check("  RSS at start (after the warm-up)", start.rss_mb, "MB", decimals=1)
    check("  RSS at end", end.rss_mb, "MB", decimals=1)
    check("  RSS growth", growth, "%", "< 5 %", growth < 5, 2)
    blocks = 100 * (end.blocks - start.blocks) / start.blocks
    check("  Python allocated blocks, start", start.blocks, "")
    check("  Python allocated blocks, end", end.blocks, "")
    check("  Python allocated blocks growth", blocks, "%", "< 1 %", blocks < 1, 2)
    print("  trend (recorded h: RSS MB, blocks): " + ", ".join(
        f"{s.recorded_h:.1f}: {s.rss_mb:.1f}, {s.blocks:,}" for s in run.trend))
    for label, s in (("start", start), ("end", end)):
        check(f"  timeline events kept, {label}", s.timeline, "", f"== {TIMELINE_MAX} (monitor.TIMELINE_MAX)",
              s.timeline == TIMELINE_MAX)
    ids = len(run.ids)  # an id carrying time (a counter, a timestamp) would give one more per loop: hundreds
    check("  distinct finding ids named by events, at warm-up", run.ids_at_warmup, "")
    check("  distinct finding ids named by events, at end", ids, "", f"<= {2 * len(own)} (2 x the {len(own)} "
          "the recording gives at its own pace)", ids <= 2 * len(own))
    if run.ids - own:
        print(f"    beyond those {len(own)}: {', '.join(sorted(run.ids - own))}")
    for label, s in (("start", start), ("end", end)):  # open + being confirmed + their causes: 3 per id at most
        check(f"  finding state held by the monitor, {label}", s.held, "", f"<= {3 * ids} (3 x distinct ids)",
              s.held <= 3 * ids)
    check("  open file descriptors, start", start.fds, "")
    check("  open file descriptors, end", end.fds, "", f"<= {start.fds} (start)", end.fds <= start.fds)
    check("  threads, start", start.threads, "")
    check("  threads, end", end.threads, "", f"<= {start.threads} (start)", end.threads <= start.threads)
    for label, load in (("start", load0), ("end", load1)):
        print(f"load average at {label}: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores, "
              "shared with whatever else runs)")
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
