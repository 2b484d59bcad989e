"""Feeds: where observations come from. Live polling, a replayed recording, or both with a tap.

Every face (TUI, check, watch, record, demo) runs the same pipeline; only the feed changes.
A feed calls ``sink(observation)`` for each observation and tells what is being polled now
(``pending``) so that a frozen server shows before its timeout fires.
"""
from hatui.feed.live import LiveFeed
from hatui.feed.replay import ReplayFeed

__all__ = ["LiveFeed", "ReplayFeed"]
