"""Sources: I/O against one kind of server each, nothing else.

A source object polls one target and returns the server's answer as plain JSON-able data, or
raises; ``classify`` turns the exception into a Failure an operator can read. Every client call
carries its own connect and read timeout. Parsing and judgement live elsewhere (model, rules).
"""
from __future__ import annotations

from hatui.areas import BY_NAME, load
from hatui.config import Config
from hatui.sources.base import AsyncSource, BlockingSource, Source


def build_sources(config: Config) -> list[Source]:
    """One source object per configured target."""
    out: list[Source] = []
    for name in config.sections:
        # imported only when configured, so a machine without, say, pika can still watch Galera
        out += load(BY_NAME[name].sources)(config)
    return out


__all__ = ["AsyncSource", "BlockingSource", "Source", "build_sources"]
