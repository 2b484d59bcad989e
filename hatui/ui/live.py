"""The live feed and its judging on an event loop of their own, in a worker thread.

With a thousand targets, polls and judgements on the UI's loop held key presses back for seconds (the
bench's key press -> repaint p99 at scale): the UI thread now only draws the latest assessment it is
handed (an immutable object), and never calls the monitor. The thread ingests every observation and
judges as the UI did: at once when the last judgement is older than the gap (monitor.judge_gap), else
once for the whole burst, soon; and at least every TICK, so that ages and "for N s" counters move.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hatui.feed import LiveFeed
from hatui.model import Observation
from hatui.monitor import Assessment, Monitor, judge_gap

TICK = 1.0  # s: a judgement at least this often, for the ages
FRESH = 0.5  # s: the tick judges again only when the last judgement is older than this


class LiveJudge:
    def __init__(self, feed: LiveFeed, monitor: Monitor, clock: Callable[[], float],
                 judged: Callable[[Assessment], None]) -> None:
        self.feed = feed
        self.monitor = monitor
        self.clock = clock
        self.judged = judged  # called in the thread with each new assessment (the app posts a message)
        self.assessment: Assessment | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._judge_pending = False
        self._took = 0.0  # s the last judgement took

    async def run(self) -> None:
        """The thread's work (a Textual thread worker runs it with asyncio.run): until stop()."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self.assessment is None:
            self.judge()  # at once: something to draw before the first answer (every target waiting)
        ticker = asyncio.create_task(self._tick())
        try:
            await self.feed.run(self._on_observation)  # closes its clients when cancelled
        except asyncio.CancelledError:
            pass
        finally:
            ticker.cancel()

    def stop(self) -> None:
        """From the UI thread (the app unmounting): cancel the feed on its own loop."""
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)

    def _on_observation(self, obs: Observation) -> None:
        self.monitor.ingest(obs)
        gap = judge_gap(self._took)
        if self.assessment is None or self.clock() - self.assessment.snapshot.taken_at >= gap:
            self.judge()
        elif not self._judge_pending and self._loop is not None:
            self._judge_pending = True
            self._loop.call_later(gap, self.judge)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            if self.assessment is None or self.clock() - self.assessment.snapshot.taken_at >= FRESH:
                self.judge()

    def judge(self) -> None:
        self._judge_pending = False
        t0 = time.perf_counter()
        self.assessment = self.monitor.assess(self.clock(), self.feed.pending())
        self._took = time.perf_counter() - t0
        self.judged(self.assessment)
