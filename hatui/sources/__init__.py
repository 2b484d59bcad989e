"""Sources: I/O against one kind of server each, nothing else.

A source object polls one target and returns the server's answer as plain JSON-able data, or
raises; ``classify`` turns the exception into a Failure an operator can read. Every client call
carries its own connect and read timeout. Parsing and judgement live elsewhere (model, rules).
"""
from __future__ import annotations

import importlib

from hatui.config import Config
from hatui.sources.base import AsyncSource, BlockingSource, Source

# config section -> "module:function" building its source objects (imported only when configured,
# so a machine without, say, pika can still watch Galera).
BUILDERS = {
    "galera": "hatui.sources.galera:galera_sources",
    "rabbitmq": "hatui.sources.rabbitmq:rabbit_sources",
    "openstack": "hatui.sources.openstack:openstack_sources",
    "hosts": "hatui.sources.hosts:host_sources",
}


def build_sources(config: Config) -> list[Source]:
    """One source object per configured target."""
    out: list[Source] = []
    for name in config.sections:
        module, func = BUILDERS[name].split(":")
        out += getattr(importlib.import_module(module), func)(config)
    return out


__all__ = ["AsyncSource", "BlockingSource", "Source", "build_sources"]
