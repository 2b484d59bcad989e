"""``hatui replay FILE --events``: the finding events a recording produces, as fast as possible.

The same monitor and rules as live, on the recording's own clock: assessed after every
observation and on a 0.25 s virtual tick between them, so ``since`` and staleness are as live.
"""
from __future__ import annotations

import json
import sys

from hatui.config import Config
from hatui.faces.watch import TICK, events_of
from hatui.model import Observation
from hatui.monitor import Monitor


def replay_events(config: Config, observations: list[Observation]) -> list[dict]:
    monitor = Monitor(config, started_at=observations[0].observed_at)
    out: list[dict] = []
    t = observations[0].observed_at
    for obs in observations:
        while t + TICK < obs.observed_at:  # let time pass between observations (stale, slow)
            t += TICK
            out += events_of(monitor.assess(t))
        monitor.ingest(obs)
        t = obs.observed_at
        out += events_of(monitor.assess(t))
    return out


def print_events(config: Config, observations: list[Observation]) -> int:
    for ev in replay_events(config, observations):
        sys.stdout.write(json.dumps(ev) + "\n")
    return 0
