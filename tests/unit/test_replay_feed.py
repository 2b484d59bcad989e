"""The replay feed (``hatui replay``, ``hatui demo``, bench.soak) on its virtual clock."""
from __future__ import annotations

import asyncio

from hatui.feed import ReplayFeed
from hatui.model import Observation


def _observations(n: int) -> list[Observation]:
    return [Observation("galera", "db-1", 1000.0 + i, 0.001, {"wsrep_ready": "ON"}) for i in range(n)]


async def test_a_feed_behind_its_clock_still_lets_the_loop_run():
    """Found by bench.soak: at a speed the machine cannot keep (``hatui demo --speed 5000``, or a busy
    machine), the feed never slept, so it never yielded: the loop that draws the screen, answers keys and
    assesses (``follow``) waited for it for ever, and nothing could stop it."""
    feed = ReplayFeed(_observations(50), speed=1e9, loop=True)  # always behind its clock
    ticks = 0
    delivered = 0

    class Enough(Exception):
        pass

    def sink(obs: Observation) -> None:
        nonlocal delivered
        delivered += 1
        if delivered >= 2000:
            raise Enough

    async def other_work() -> None:  # the screen, the keys, the assessments
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other_work())
    try:
        await feed.run(sink)
    except Enough:
        pass
    finally:
        task.cancel()
    assert ticks >= 1000, f"the loop ran other work {ticks} times while the feed delivered {delivered} observations"


async def test_looped_replay_shifts_time_and_keeps_pace():
    obs = _observations(3)  # 1000, 1001, 1002: a 3 s recording
    feed = ReplayFeed(obs, speed=1000.0, loop=True)
    got: list[float] = []
    stop = asyncio.Event()

    def sink(o: Observation) -> None:
        got.append(o.observed_at)
        if len(got) == 9:
            stop.set()

    task = asyncio.create_task(feed.run(sink))
    await asyncio.wait_for(stop.wait(), 10)
    task.cancel()
    assert got[:9] == [1000.0, 1001.0, 1002.0, 1003.0, 1004.0, 1005.0, 1006.0, 1007.0, 1008.0]
    assert feed.clock() >= 1008.0  # never ahead of its clock


class Driven:
    """A replay feed running as the app runs it: what it delivered, and each rewind (a fresh monitor)."""

    def __init__(self, feed: ReplayFeed) -> None:
        self.feed = feed
        self.got: list[tuple[float, float]] = []  # (observation's time, the feed's clock while delivering it)
        self.rewinds: list[float] = []
        self.moves = 0

    def sink(self, obs: Observation) -> None:
        self.got.append((obs.observed_at, self.feed.clock()))

    def rewind(self, at: float) -> None:
        self.rewinds.append(at)
        self.got.clear()

    def moved(self) -> None:
        self.moves += 1

    async def __aenter__(self) -> Driven:
        self.task = asyncio.create_task(self.feed.run(self.sink, rewind=self.rewind, moved=self.moved))
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def idle(self) -> None:
        for _ in range(1000):
            await asyncio.sleep(0)
            if self.feed.idle and not self.feed._commands:
                return
        raise AssertionError("the feed did not carry out its commands")

    def times(self) -> list[float]:
        return [at for at, _ in self.got]


async def test_pause_holds_the_clock_and_step_delivers_one_poll_round():
    feed = ReplayFeed(_observations(60), speed=1.0, step=2.0)  # 1000..1059, one a second
    async with Driven(feed) as d:
        feed.toggle_pause()
        await d.idle()
        held = feed.clock()
        await asyncio.sleep(0.05)
        assert feed.clock() == held  # paused: the clock (and the ages it makes) stand still
        assert feed.paused and d.times() == [1000.0]  # what was due when paused, nothing after
        feed.step()
        await d.idle()
        assert feed.paused and d.times() == [1000.0, 1001.0, 1002.0]  # one round of 2 s, still paused
        assert d.moves >= 2


async def test_seek_forward_delivers_at_once_each_at_its_own_time():
    feed = ReplayFeed(_observations(60), speed=1.0)
    async with Driven(feed) as d:
        feed.toggle_pause()
        feed.seek(30.5)
        await d.idle()
        assert d.times() == [1000.0 + i for i in range(31)]
        assert all(at == clock for at, clock in d.got)  # "since" reads as it was live
        assert abs(feed.position - 30.5) < 0.01 and d.rewinds == []


async def test_seek_back_rebuilds_from_the_start():
    feed = ReplayFeed(_observations(60), speed=1.0)
    async with Driven(feed) as d:
        feed.toggle_pause()
        feed.seek_to(40.0)
        await d.idle()
        feed.seek(-15.0)
        await d.idle()
        assert d.rewinds == [1000.0]  # a fresh consumer, started at the recording's start
        assert d.times() == [1000.0 + i for i in range(26)]  # everything up to 25 s, again
        assert abs(feed.position - 25.0) < 0.01
        feed.seek(-100.0)  # never before the start
        await d.idle()
        assert d.times() == [1000.0] and feed.position == 0.0


async def test_the_end_of_a_replay_holds_and_a_seek_back_plays_again():
    feed = ReplayFeed(_observations(5), speed=1000.0)  # 5 s
    async with Driven(feed) as d:
        await asyncio.wait_for(_until(lambda: feed.finished), 5)
        assert d.times() == [1000.0 + i for i in range(5)] and feed.position == feed.duration == 5.0
        end = feed.clock()
        await asyncio.sleep(0.02)
        assert feed.clock() == end  # the clock stops: the screen holds the last moment
        feed.seek(10.0)  # forward at the end: nothing more to deliver, still the end
        await d.idle()
        assert feed.finished and len(d.got) == 5
        feed.toggle_pause()
        feed.seek(-3.0)
        await d.idle()
        assert not feed.finished and d.rewinds == [1000.0] and d.times() == [1000.0, 1001.0, 1002.0]


async def test_a_loop_seeks_back_within_its_pass():
    feed = ReplayFeed(_observations(3), speed=1.0, loop=True)  # 3 s passes
    async with Driven(feed) as d:
        feed.toggle_pause()
        feed.seek(7.5)  # into the third pass: 1006, 1007 delivered shifted
        await d.idle()
        assert d.times()[-3:] == [1005.0, 1006.0, 1007.0] and abs(feed.position - 1.5) < 0.01
        feed.seek(-1.0)  # 6.5 s: the start of the third pass
        await d.idle()
        assert d.rewinds == [1006.0] and d.times() == [1006.0]
        feed.seek_to(2.5)  # into the current pass
        await d.idle()
        assert d.times() == [1006.0, 1007.0, 1008.0] and abs(feed.position - 2.5) < 0.01


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.001)
