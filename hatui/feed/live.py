"""Live polling: one asyncio task per target, re-armed after each poll completes.

- Blocking clients run in a single-thread executor of their own, so a frozen server holds one
  thread and delays nobody else; a poll never overlaps the previous one for the same target.
- The client's own timeouts end a poll. As a safety net the poller also gives up waiting after
  ``3 x timeout + 1 s`` and reports a timeout, but still waits for that thread before polling that
  target again, so threads can never pile up.
- Between polls, a source may offer a socket (``wake_fd``): if it becomes readable (the server
  closed the connection) the next poll starts at once instead of at the end of the interval.
- A source that keeps its connection has some polls made by a new client (``NewClients``): the source
  renews its connection (and login) in the poll's own slot, just before polling, so renewing never
  overlaps a poll; the observation says ``new_client``, unless the kept connection itself failed (then
  it hid nothing: the failure is told in its own words).
"""
from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hatui.model import Failure, FailureKind, Observation
from hatui.sources.base import AsyncSource, BlockingSource, Source, timeout_failure

Sink = Callable[[Observation], None]

MIN_GAP = 0.05  # never poll one target more often than this, whatever wakes it
# Failures that are the server's answer to this client: it got in (connected, TLS, login), so the kept
# connection hides nothing of these and the next polls need not be new clients'.
ANSWERED = frozenset({FailureKind.FORBIDDEN, FailureKind.GARBLED, FailureKind.HTTP, FailureKind.NOT_FOUND})


class NewClients:
    """Which polls a new client makes, per target whose source keeps its connection (``fresh_every`` > 0):
    the first; then one every ``fresh_every`` seconds after the last that got in; and after one that did
    not, every poll until one gets in (else the next poll on the kept connection would clear the finding
    while new clients are still turned away).

    A kept connection that failed itself (refused, credentials refused, TLS, no answer) hides nothing: until
    a poll gets in again, a new client's failure is the kept connection's (``hid_nothing``), told in its own
    words. Else it would read "a new client cannot get in ...; hatui's kept connection still worked N s
    ago" about a kept connection that had just failed the same way (lab: RabbitMQ's management API checks
    the password on every request, so a changed one fails the kept connection at once). The new clients
    keep their cadence (one may get in where the kept connection cannot). A new client's failure that the
    source found its kept connection met too (``kept_failed_too``: Keystone revoked the kept token with the
    password) is the kept one's as well."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._next: dict[tuple[str, str], float] = {}
        self._kept_failing: set[tuple[str, str]] = set()

    def due(self, src: Source) -> bool:
        return (src.keeps_connection and src.spec.fresh_every > 0
                and self.clock() >= self._next.get(src.spec.key, -math.inf))

    def done(self, src: Source, started: float, got_in: bool) -> None:
        self._next[src.spec.key] = started + src.spec.fresh_every if got_in else -math.inf
        if got_in:  # the new connection is the kept one now
            self._kept_failing.discard(src.spec.key)

    def kept(self, src: Source, got_in: bool) -> None:
        """A poll on the kept connection ended: it answered (``got_in``), or it failed itself."""
        if got_in:
            self._kept_failing.discard(src.spec.key)
        elif src.keeps_connection:
            self._kept_failing.add(src.spec.key)

    def hid_nothing(self, src: Source) -> bool:
        """The kept connection failed at its last poll, and nothing got in since."""
        return src.spec.key in self._kept_failing


class LiveFeed:
    def __init__(self, sources: list[Source], clock: Callable[[], float] = time.time) -> None:
        self.sources = sources
        self.clock = clock
        self.new_clients = NewClients()
        self._pending: dict[tuple[str, str], float] = {}
        self._executors: dict[tuple[str, str], ThreadPoolExecutor] = {}
        self._stuck: dict[tuple[str, str], asyncio.Future] = {}  # polls whose client ignored its timeout

    def pending(self) -> dict[tuple[str, str], float]:
        """Targets with a poll in flight -> when it started (clock time)."""
        return dict(self._pending)

    async def run(self, sink: Sink) -> None:
        """Poll every target until cancelled."""
        tasks = [asyncio.create_task(self._loop(src, sink), name=f"poll {src.spec.source}/{src.spec.name}")
                 for src in self.sources]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.aclose()

    async def poll_round(self, sink: Sink) -> None:
        """Poll every target once, concurrently (for ``hatui check``)."""
        await asyncio.gather(*(self._poll_once(src, sink) for src in self.sources))

    async def _loop(self, src: Source, sink: Sink) -> None:
        # spread the first polls a little so N targets do not fire in the same millisecond
        await asyncio.sleep(random.uniform(0, min(0.2, src.spec.interval / 4)))
        while True:
            started = time.monotonic()
            await self._poll_once(src, sink)
            rest = src.spec.interval * random.uniform(0.95, 1.05)
            await self._idle(src, max(MIN_GAP, rest), started)

    async def _poll_once(self, src: Source, sink: Sink) -> None:
        key = src.spec.key
        at = self.clock()
        self._pending[key] = at
        t0 = time.monotonic()
        fresh = self.new_clients.due(src)
        hid_nothing = fresh and self.new_clients.hid_nothing(src)
        started = self.new_clients.clock()
        failure: Failure | None = None
        kept_too = False  # the source checked its kept connection too, and it failed the same way
        data: dict = {}
        try:
            if isinstance(src, BlockingSource):
                data, failure = await self._run_blocking(src, fresh)
            else:
                assert isinstance(src, AsyncSource), f"{src!r}: neither a BlockingSource nor an AsyncSource"
                async with asyncio.timeout(3 * src.spec.timeout + 1):
                    data = await _apoll(src, fresh)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            failure = timeout_failure(src.spec.timeout)
        except Exception as exc:  # noqa: BLE001 - any client error is an observation, never a crash
            failure = src.failure(exc)
            kept_too = getattr(exc, "hatui_kept_failed", False) is True
        finally:
            self._pending.pop(key, None)
        got_in = failure is None or failure.kind in ANSWERED
        if fresh:
            self.new_clients.done(src, started, got_in)
        if not fresh or kept_too:
            self.new_clients.kept(src, got_in)
        # a new client's failure is told as one only where the kept connection worked: it could hide it
        told_new = fresh and not (failure is not None and (kept_too or hid_nothing))
        sink(Observation(src.spec.source, src.spec.name, at, time.monotonic() - t0,
                         data=data if failure is None else {}, failure=failure, new_client=told_new))

    async def _run_blocking(self, src: BlockingSource, fresh: bool = False) -> tuple[dict, Failure | None]:
        loop = asyncio.get_running_loop()
        ex = self._executors.get(src.spec.key)
        if ex is None:
            ex = self._executors[src.spec.key] = ThreadPoolExecutor(1, thread_name_prefix=f"hatui-{src.spec.name}")
        fut = loop.run_in_executor(ex, _renewed_poll, src) if fresh else loop.run_in_executor(ex, src.poll)
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation that arrives as
            # the poll ends (the feed's loop then outlived its cancel and a shutdown waited for ever: unit test)
            async with asyncio.timeout(3 * src.spec.timeout + 1):
                return await asyncio.shield(fut), None
        except TimeoutError:
            # The client ignored its own timeout. Report it now; the thread is still busy, so the
            # next poll of this target waits for it (see _idle) rather than queueing behind it.
            self._stuck[src.spec.key] = fut
            return {}, Failure(FailureKind.TIMEOUT, "no answer; the client is still waiting")

    async def _idle(self, src: Source, seconds: float, started: float) -> None:
        stuck = self._stuck.pop(src.spec.key, None)
        if stuck is not None:
            self._pending[src.spec.key] = self.clock()
            try:
                await stuck
            except Exception:  # noqa: BLE001 - its outcome was already reported as a timeout
                pass
            finally:
                self._pending.pop(src.spec.key, None)
        fd = src.wake_fd() if src.blocking else None
        if fd is None:
            await asyncio.sleep(seconds)
            return
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        try:
            loop.add_reader(fd, woken.set)
        except (OSError, ValueError):
            await asyncio.sleep(seconds)
            return
        try:
            await asyncio.wait_for(woken.wait(), timeout=seconds)
        except TimeoutError:
            pass
        finally:
            loop.remove_reader(fd)
        if woken.is_set():  # the server closed our connection: look now, but not in a tight loop
            await asyncio.sleep(max(0.0, MIN_GAP - (time.monotonic() - started)))

    async def aclose(self) -> None:
        """Close every client: async ones on this loop (bounded), blocking ones directly."""
        for src in self.sources:
            try:
                if isinstance(src, BlockingSource):
                    src.close()
                elif isinstance(src, AsyncSource):
                    await asyncio.wait_for(src.aclose(), timeout=2.0)
            except Exception:  # noqa: BLE001 - closing is best effort; the process may be exiting
                pass
        for ex in self._executors.values():
            ex.shutdown(wait=False, cancel_futures=True)


def _renewed_poll(src: BlockingSource) -> dict[str, Any]:
    """A new client's poll, in the target's own thread: renewing never overlaps a poll."""
    src.renew()
    return src.poll()


async def _apoll(src: AsyncSource, fresh: bool) -> dict[str, Any]:
    if fresh:
        await src.arenew()
    return await src.poll()
