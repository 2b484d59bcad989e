"""Replay: feed a recording's observations at their recorded pace (or faster), on a virtual clock.

The clock runs from the recording's first observation, ``speed`` times faster than real time, so
ages and staleness read exactly as they did live. With ``loop=True`` (the demo) the recording
starts over, its timestamps shifted forward, forever. It yields to the loop before every observation,
even when behind its clock.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hatui.model import Observation

Sink = Callable[[Observation], None]


class ReplayFeed:
    def __init__(self, observations: list[Observation], speed: float = 1.0, loop: bool = False) -> None:
        if not observations:
            raise ValueError("a recording without observations cannot be replayed")
        self.observations = observations
        self.speed = speed
        self.loop = loop
        self.t0 = observations[0].observed_at
        self.duration = observations[-1].observed_at - self.t0 + 1.0
        self._start = time.monotonic()
        self.finished = False

    def clock(self) -> float:
        return self.t0 + (time.monotonic() - self._start) * self.speed

    def pending(self) -> dict[tuple[str, str], float]:
        return {}

    async def run(self, sink: Sink) -> None:
        self._start = time.monotonic()
        offset = 0.0
        while True:
            for obs in self.observations:
                at = obs.observed_at + offset
                delay = (at - self.clock()) / self.speed
                # behind the clock (a speed the machine cannot keep, a busy machine): still yield, or the
                # loop (the screen, its keys, the faces' assessments) would wait for the feed to catch up,
                # which at such a speed it never does
                await asyncio.sleep(max(0.0, delay))
                sink(obs if offset == 0 else _shifted(obs, offset))
            if not self.loop:
                self.finished = True
                return
            offset += self.duration


def _shifted(obs: Observation, offset: float) -> Observation:
    return Observation(obs.source, obs.target, obs.observed_at + offset, obs.latency, obs.data, obs.failure)
