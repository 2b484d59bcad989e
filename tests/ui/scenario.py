"""Feed the UI from a recording, frozen at one instant: deterministic screens for pilot/snapshot tests.

This replaces only the feed (the pipeline's input), never a server: the observations are the real
lab's, recorded by ``hatui record``.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

from hatui.config import parse
from hatui.feed.recording import read_recording
from hatui.model import Observation
from hatui.ui.app import HatuiApp

RECORDINGS = Path(__file__).parents[1] / "fixtures" / "recordings"
INCIDENT = RECORDINGS / "lab-incident.jsonl.gz"


class FrozenReplay:
    """Delivers every observation up to ``at`` (seconds after the recording's start), then holds."""

    def __init__(self, observations: list[Observation], at: float) -> None:
        self.t0 = observations[0].observed_at
        self.now = self.t0 + at
        self.observations = [o for o in observations if o.observed_at <= self.now]
        self.delivered = False  # every observation handed to the app: the screen shows the moment

    def clock(self) -> float:
        return self.now

    def pending(self) -> dict:
        return {}

    async def run(self, sink) -> None:
        end = self.now
        for obs in self.observations:  # the clock walks with the recording, so "since" is as it was live
            self.now = obs.observed_at
            sink(obs)
        self.now = end
        self.delivered = True
        await asyncio.Event().wait()


class SteppedReplay(FrozenReplay):
    """A frozen replay that a test moves on: ``advance(at)`` delivers what the recording holds up to ``at``
    seconds, then holds again (the screens of one running app through an incident)."""

    def __init__(self, observations: list[Observation], at: float) -> None:
        super().__init__(observations, at)
        self.rest = [o for o in observations if o.observed_at > self.now]
        self._moved: asyncio.Event | None = None

    async def run(self, sink) -> None:
        self._moved = asyncio.Event()
        await_first = super().run(sink)
        task = asyncio.ensure_future(await_first)  # delivers the first moment, then waits forever
        try:
            while True:
                await self._moved.wait()
                self._moved.clear()
                end = self.now
                while self.rest and self.rest[0].observed_at <= end:
                    obs = self.rest.pop(0)
                    self.now = obs.observed_at
                    sink(obs)
                self.now = end
                self.delivered = True
        finally:
            task.cancel()

    def advance(self, at: float) -> None:
        assert self._moved is not None, "the app has not started the feed yet"
        self.delivered = False
        self.now = self.t0 + at
        self._moved.set()


def incident_app(at: float, path: Path = INCIDENT, theme: str | None = None, maintenance=None,
                 stepped: bool = False, mode: str = "replay (test)") -> HatuiApp:
    doc, observations = read_recording(path)
    config = parse(doc, str(path), resolve_secrets=False)
    feed = (SteppedReplay if stepped else FrozenReplay)(observations, at)
    return HatuiApp(config, feed, clock=feed.clock, mode=mode, theme=theme, maintenance=maintenance)


async def settled(pilot, timeout: float = 60.0) -> None:
    """Until the frozen replay has delivered its moment and the app has drawn it: a loaded machine
    takes longer, and a test must wait for the state it asserts, not a fixed pause."""
    app = pilot.app
    deadline = asyncio.get_running_loop().time() + timeout
    while not app.feed.delivered:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the replay did not deliver its moment within {timeout} s")
        await pilot.pause(0.05)
    app.redraw()
    await pilot.pause(0.1)


def moment(kind: str, path: Path = INCIDENT) -> float:
    """Seconds into the recording of a labelled moment (written beside it by tests/lab/record_incident.py)."""
    import json

    marks = json.loads(path.with_suffix("").with_suffix(".marks.json").read_text())
    return float(marks[kind])


def replay_app(speed: float, path: Path = INCIDENT, loop: bool = False) -> HatuiApp:
    """The app as ``hatui replay`` (``loop``: ``hatui demo``) runs it: the real replay feed, its keys."""
    from hatui.feed import ReplayFeed

    doc, observations = read_recording(path)
    config = parse(doc, str(path), resolve_secrets=False)
    feed = ReplayFeed(observations, speed=speed, loop=loop)
    return HatuiApp(config, feed, clock=feed.clock, mode="demo" if loop else "replay")


async def until(pilot, condition, timeout: float = 60.0, what: str = "the replay") -> None:
    """Until ``condition()`` holds (a loaded machine takes longer), then the app draws what it holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await pilot.pause(0.05)
    pilot.app.redraw()
    await pilot.pause(0.1)
