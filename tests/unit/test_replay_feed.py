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
