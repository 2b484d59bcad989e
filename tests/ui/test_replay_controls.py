"""Replay and demo controls, on the real demo recording: where the replay is, pause, step, seek, its end.

The feed owns the position; the keys only send it commands, and a seek back rebuilds every pane from the
recording's start (a fresh monitor fed every observation up to the new position).
"""
from __future__ import annotations

import re

import pytest

from hatui.areas import PANES
from tests.ui.scenario import incident_app, moment, replay_app, settled, until
from tests.ui.test_app import pane_text


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


AREAS = ["findings", "redundancy", *(p.id for p in PANES), "timeline"]


def status(app) -> str:
    return str(app.query_one("#status-bar").content)


def host_line(app, name: str) -> str:
    return next(line for line in pane_text(app, "hosts").splitlines() if f" {name} " in line)


def shown_position(app) -> int:
    """The position the status bar shows, in seconds."""
    m = re.search(r"(?:replay|demo) (\d\d):(\d\d) / 02:52 ×", status(app))
    assert m, status(app)
    return int(m[1]) * 60 + int(m[2])


async def test_status_shows_the_position_and_space_pauses_the_feed_itself():
    app = replay_app(speed=20)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.feed.position >= 3)
        assert shown_position(app) >= 3 and "×20" in status(app) and "PAUSED" not in status(app)
        await pilot.press("space")
        await until(pilot, lambda: app.feed.idle and app.feed.paused)
        held = shown_position(app)
        await pilot.pause(0.5)  # 10 s of recording at ×20, had it played on
        app.redraw()
        assert shown_position(app) == held and "PAUSED (space plays" in status(app)
        await pilot.press("full_stop")  # one poll round forward, still paused
        await until(pilot, lambda: app.feed.idle)
        assert app.feed.paused and held < app.feed.position <= held + 3
        await pilot.press("space")
        await until(pilot, lambda: app.feed.position >= held + 8)
        assert "PAUSED" not in status(app)


async def test_seek_back_shows_every_pane_as_it_was_and_forward_as_it_will_be():
    app = replay_app(speed=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        app.feed.seek_to(moment("controller_down") + 0.1)  # 124.0 s: lab-ctl-1 off, and all it ran down
        await until(pilot, lambda: app.feed.idle and app.feed.paused)
        assert "OFF" in host_line(app, "lab-ctl-1") and "CRITICAL" in status(app)
        assert shown_position(app) == 124
        await pilot.press("left_square_bracket")  # 114.0 s: before the controller was lost
        await until(pilot, lambda: app.feed.idle)
        assert moment("controller_lost") > app.feed.position
        line = host_line(app, "lab-ctl-1")
        assert "OK" in line and " on " in line, line
        findings = pane_text(app, "findings")
        assert "0 failure(s)" in findings and "powered off" not in findings
        assert shown_position(app) == 114 and app.feed.paused
        back = {area: pane_text(app, area) for area in AREAS}
        await pilot.press("right_square_bracket")  # 124.0 s again, delivered at once
        await until(pilot, lambda: app.feed.idle)
        assert "OFF" in host_line(app, "lab-ctl-1")
        assert "lab-ctl-1: powered off (BMC, redfish)" in pane_text(app, "findings")
        at = app.feed.position - 10
    frozen = incident_app(at)  # the moment the seek back went to, delivered once from the start
    async with frozen.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        for area in AREAS:  # every pane exactly as it was, the timeline too
            assert pane_text(frozen, area) == back[area], area


async def test_end_of_recording_holds_the_last_moment():
    app = replay_app(speed=20)
    async with app.run_test(size=(120, 40)) as pilot:
        app.feed.seek_to(moment("end") - 1)
        await until(pilot, lambda: app.feed.finished)
        assert "02:52 / 02:52" in status(app) and "END OF RECORDING" in status(app)
        assert "STALE" not in pane_text(app, "galera")  # the clock stopped with the recording
        await pilot.press("right_square_bracket")  # nothing after the end
        await until(pilot, lambda: app.feed.idle)
        assert "END OF RECORDING" in status(app)
        await pilot.press("space", "left_square_bracket")  # paused, 10 s back
        await until(pilot, lambda: app.feed.idle and not app.feed.finished)
        assert "END OF RECORDING" not in status(app) and shown_position(app) == 162


async def test_the_replay_keys_belong_to_replays_only():
    from tests.ui.scenario import incident_app, settled

    app = incident_app(moment("healthy"))  # not a replay feed: the keys are neither shown nor taken
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        assert not app.check_action("replay", ("pause",))
        assert "Play/pause" not in str(app.query_one("Footer").render())
