"""Replay: feed a recording's observations at their recorded pace (or faster), on a virtual clock.

The clock runs from the recording's first observation, ``speed`` times faster than real time, so
ages and staleness read exactly as they did live. With ``loop=True`` (the demo) the recording
starts over, its timestamps shifted forward, forever (each run through it is a *pass*). It yields to the
loop before every observation, even when behind its clock.

The feed owns where it is in the recording and takes commands (``toggle_pause``, ``step``, ``seek``,
``seek_to``) from whoever drives it; it carries them out in ``run``, in order:

- pause: the clock stops (what is due is delivered), so ages stop too; resume starts it where it stopped;
- seek forward (and step, one poll round): every observation up to the new position is delivered at
  once, the clock reading each one's own time as it goes (a finding's "since" is as it was live);
- seek back: ``rewind(at)`` tells the consumer to forget everything (a fresh monitor, started at ``at``,
  the start of the pass), then every observation of the pass up to the new position is delivered at
  once. The recording is raw observations, so the state rebuilt is exactly the state that was.

``moved()`` is called once a command is carried out (a screen redraws). A non-looping replay stops its
clock at its end (``finished``): the screen holds the last moment.
"""
from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import replace

from hatui.model import Observation

Sink = Callable[[Observation], None]
INSTANT_BATCH = 50  # observations delivered at once between two yields to the loop (keys, screen)


class ReplayFeed:
    def __init__(self, observations: list[Observation], speed: float = 1.0, loop: bool = False,
                 step: float = 1.0) -> None:
        if not observations:
            raise ValueError("a recording without observations cannot be replayed")
        self.observations = observations
        self.speed = speed
        self.loop = loop
        self.step_size = step  # s of recording: one poll round (the shortest poll interval)
        self.t0 = observations[0].observed_at
        self.duration = observations[-1].observed_at - self.t0 + 1.0
        self.end = self.t0 + self.duration  # a non-looping replay's clock stops here
        self.paused = False
        self.finished = False  # a non-looping replay has delivered everything
        self._at = self.t0  # the virtual time at ``_anchor`` (monotonic), or while paused/finished
        self._anchor = time.monotonic()
        self._i = 0  # the next observation of the pass to deliver
        self._offset = 0.0  # the pass's shift (loop): a multiple of the duration
        self._delivering: float | None = None  # delivering at once: the clock reads this observation's time
        self._commands: list[tuple[str, float]] = []
        self._wake: asyncio.Event | None = None

    # ---- where the replay is

    def clock(self) -> float:
        if self._delivering is not None:
            return self._delivering
        if self.paused or self.finished:
            return self._at
        now = self._at + (time.monotonic() - self._anchor) * self.speed
        return now if self.loop else min(now, self.end)

    @property
    def position(self) -> float:
        """Seconds into the recording (into the current pass, for a loop)."""
        into = max(0.0, self.clock() - self.t0)
        return math.fmod(into, self.duration) if self.loop else min(into, self.duration)

    @property
    def idle(self) -> bool:
        """Every command carried out (a test waits for this after a key)."""
        return not self._commands and self._delivering is None

    def pending(self) -> dict[tuple[str, str], float]:
        return {}

    # ---- commands (carried out by ``run``, in order)

    def toggle_pause(self) -> None:
        self._command("pause")

    def step(self) -> None:
        """Pause, then one poll round forward."""
        self._command("step")

    def seek(self, delta: float) -> None:
        """``delta`` seconds of recording forward (or back, negative) from where the replay is."""
        self._command("seek", delta)

    def seek_to(self, position: float) -> None:
        """To ``position`` seconds into the recording (into the current pass, for a loop)."""
        self._command("seek_to", position)

    def _command(self, name: str, arg: float = 0.0) -> None:
        self._commands.append((name, arg))
        if self._wake is not None:
            self._wake.set()

    # ---- the feed

    async def run(self, sink: Sink, rewind: Callable[[float], None] | None = None,
                  moved: Callable[[], object] | None = None) -> None:
        self._wake = asyncio.Event()
        self._anchor = time.monotonic()  # the clock starts now, not when the feed was made
        while True:
            while self._commands:
                name, arg = self._commands.pop(0)
                await self._carry_out(name, arg, sink, rewind)
                if moved is not None:
                    moved()
            nxt = self._peek()
            if nxt is None:  # a non-looping replay has delivered everything: hold the last moment
                if not self.finished:
                    self._at, self.finished = self.end, True
                    if moved is not None:
                        moved()
                await self._wait(None)
                continue
            delay = (nxt.observed_at - self.clock()) / self.speed
            if delay > 0:  # paused: until a command (what was due when it paused is delivered)
                if await self._wait(None if self.paused else delay):
                    continue  # a command: carry it out first
            else:
                # behind the clock (a speed the machine cannot keep, a busy machine): still yield, or the
                # loop (the screen, its keys, the faces' assessments) would wait for the feed to catch up,
                # which at such a speed it never does
                await asyncio.sleep(0)
                if self._commands:
                    continue
            self._i += 1
            sink(nxt)

    async def _wait(self, timeout: float | None) -> bool:
        """Until ``timeout`` s have passed (False) or a command came (True)."""
        assert self._wake is not None
        if self._commands:
            return True
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _peek(self) -> Observation | None:
        """The next observation to deliver (time-shifted in a later pass); None at the end of a replay."""
        if self._i >= len(self.observations):
            if not self.loop:
                return None
            self._i, self._offset = 0, self._offset + self.duration
        obs = self.observations[self._i]
        return obs if self._offset == 0 else _shifted(obs, self._offset)

    async def _carry_out(self, name: str, arg: float, sink: Sink, rewind: Callable[[float], None] | None) -> None:
        now = self.clock()
        if name == "pause":
            if self.paused:
                self._at, self._anchor, self.paused = now, time.monotonic(), False
            else:
                self._at, self.paused = now, True
            return
        if name == "step":
            self._at, self.paused = now, True
            nxt = self._peek()
            if nxt is None:
                return
            target = max(now + self.step_size, nxt.observed_at)
        elif name == "seek":
            target = now + arg
        else:  # seek_to
            target = self.t0 + self.duration * math.floor((now - self.t0) / self.duration) + arg if self.loop \
                else self.t0 + arg
        target = max(self.t0, target if self.loop else min(self.end, target))
        if target < now:  # back: start the pass over, from a consumer that forgot everything
            self._offset = self.duration * math.floor((target - self.t0) / self.duration)
            self._i = 0
            if rewind is not None:
                rewind(self.t0 + self._offset)
        await self._deliver_until(target, sink)
        self._at, self._anchor, self.finished = target, time.monotonic(), False

    async def _deliver_until(self, target: float, sink: Sink) -> None:
        """Every observation up to ``target`` at once, the clock at each one's time (yielding now and then:
        the screen and the keys go on)."""
        n = 0
        try:
            while (nxt := self._peek()) is not None and nxt.observed_at <= target:
                self._delivering = nxt.observed_at
                self._i += 1
                sink(nxt)
                n += 1
                if n % INSTANT_BATCH == 0:
                    await asyncio.sleep(0)
        finally:
            self._delivering = None


def _shifted(obs: Observation, offset: float) -> Observation:
    return replace(obs, observed_at=obs.observed_at + offset)
