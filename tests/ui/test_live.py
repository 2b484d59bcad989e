"""The live TUI: its feed polls and is judged in a thread of its own (hatui.ui.live). Against real
sockets on loopback: a port nothing listens on refuses at once."""
from __future__ import annotations

import asyncio
import socket
import threading
import time

from hatui.config import parse
from hatui.feed import LiveFeed
from hatui.sources import build_sources
from hatui.ui.app import HatuiApp
from tests.ui.test_app import pane_text


def _closed_port() -> int:
    with socket.socket() as s:  # bound, then closed: nothing listens there now
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_live_findings_come_from_the_feeds_thread_and_quitting_ends_it():
    port = _closed_port()
    config = parse({"hatui": {"interval": 0.5},
                    "galera": {"name": "db", "password_env": "HATUI_TEST_NONE",
                               "nodes": [{"name": "db-1", "host": "127.0.0.1", "port": port}]}},
                   "live.toml", resolve_secrets=False)
    before = set(threading.enumerate())
    app = HatuiApp(config, LiveFeed(build_sources(config)))
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.assessment is not None  # the first frame did not wait for the thread
        deadline = time.monotonic() + 20
        while "galera.unreachable:db-1" not in {f.id for f in (app.assessment.findings if app.assessment else ())}:
            assert time.monotonic() < deadline, "no finding from the live feed's thread"
            await pilot.pause(0.1)
        await pilot.pause(0.6)  # drawn at once (a finding opened), within the redraw gap
        assert "connection refused" in pane_text(app, "findings")
        worker = next(w for w in app.workers if w.name == "feed")
        assert worker.is_running and (set(threading.enumerate()) - before), "the feed runs in a thread of its own"
        await pilot.press("p")  # keys are answered while the thread polls
        await pilot.pause(0.2)
        assert "PAUSED" in str(app.query_one("#status-bar").content)
        await pilot.press("p")
    deadline = time.monotonic() + 10
    while not worker.is_finished:  # its loop cancelled, the feed's clients closed
        assert time.monotonic() < deadline, f"the feed's thread still runs after quitting: {worker.state}"
        await asyncio.sleep(0.05)
    def clients() -> list[str]:  # the blocking clients' threads (each source's own pool) end too
        return [th.name for th in threading.enumerate() if th.name.startswith("hatui-") and th.is_alive()]

    while clients():
        assert time.monotonic() < deadline, clients()
        await asyncio.sleep(0.05)
