"""The areas hatui watches, each declared once: config section, sources, parsers, derived state, rules, panes.

Adding an area is its own modules (config, sources, model, rules, view) plus one ``Area`` entry here.
Everything else (config loading, the feed, the monitor's parse-once step, the rules, the app's panes
and keys, the finding's pane) reads this table. References are ``"module:attr"`` strings, imported
only when the area is configured, so a machine without, say, pika can still watch Galera; this module
itself imports nothing of hatui and sits below every layer.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True, slots=True)
class Feed:
    """One kind of target an area polls (a module under hatui/sources)."""

    source: str       # the observation's ``source`` and the finding id's prefix
    pane: str         # the pane its findings belong to
    parser: str       # "module:function" (observation, section) -> typed value; raises Garbled
    answer: str       # what a good answer is, for "answer is not <answer>"
    way_in: str = ""  # how its polls are named when a target is polled more than one way


@dataclass(frozen=True, slots=True)
class Pane:
    id: str
    title: str
    key: str          # the key that focuses it
    view: str         # "module:function" (Assessment, Config) -> PaneModel


@dataclass(frozen=True, slots=True)
class Area:
    name: str                 # its config section
    section: str              # "module:Class" of that section
    sources: str              # "module:function" (Config) -> source objects
    feeds: tuple[Feed, ...]
    derive: str               # "module:function" (Snapshot, section) -> the area's derived state
    rules: str                # module holding RULES
    panes: tuple[Pane, ...]


AREAS: tuple[Area, ...] = (
    Area("galera", "hatui.config.galera:GaleraSection", "hatui.sources.galera:galera_sources",
         (Feed("galera", "galera", "hatui.model.galera:status_of", "a Galera status"),),
         "hatui.model.galera:derive", "hatui.rules.galera",
         (Pane("galera", "Galera", "g", "hatui.ui.views.galera:galera_pane"),)),
    Area("rabbitmq", "hatui.config.rabbitmq:RabbitSection", "hatui.sources.rabbitmq:rabbit_sources",
         (Feed("rabbitmq", "rabbitmq", "hatui.model.rabbitmq:management_of", "a RabbitMQ management API's",
               "management API"),
          Feed("rabbitmq-amqp", "rabbitmq", "hatui.model.rabbitmq:canary_of", "an AMQP round trip", "AMQP canary"),
          Feed("rabbitmq-clients", "rabbitmq", "hatui.model.rabbitmq_clients:clients_of", "a connection list",
               "connection list"),
          Feed("rabbitmq-queues", "rabbitmq", "hatui.model.rabbitmq_queues:queues_of", "a queue list",
               "queue list")),
         "hatui.model.rabbitmq_cluster:derive", "hatui.rules.rabbitmq",
         (Pane("rabbitmq", "RabbitMQ", "r", "hatui.ui.views.rabbitmq:rabbit_pane"),)),
    Area("openstack", "hatui.config.openstack:OpenStackSection", "hatui.sources.openstack:openstack_sources",
         (Feed("keystone", "endpoints", "hatui.model.keystone:token_of", "a Keystone token"),
          Feed("endpoint", "endpoints", "hatui.model.endpoints:round_of", "an endpoint probe round"),
          Feed("haproxy", "endpoints", "hatui.model.haproxy:backends_of", "HAProxy statistics"),
          Feed("services", "services", "hatui.model.services:rows_of", "a service list")),
         "hatui.model.openstack:derive", "hatui.rules.openstack",
         (Pane("endpoints", "API endpoints", "e", "hatui.ui.views.endpoints:endpoints_pane"),
          Pane("services", "Compute services", "s", "hatui.ui.views.services:services_pane"))),
    Area("hosts", "hatui.config.hosts:HostsSection", "hatui.sources.hosts:host_sources",
         (Feed("power", "hosts", "hatui.model.hosts:power_of", "a BMC's power state", "BMC"),
          Feed("sensors", "hosts", "hatui.model.facility:sensors_of", "a BMC's supplies, temperatures and fans",
               "BMC sensors"),
          Feed("network", "hosts", "hatui.model.hosts:probes_of", "a probe round", "network probe"),
          Feed("local", "hosts", "hatui.model.hosts:links_of", "a link reading")),
         "hatui.model.hosts:derive", "hatui.rules.hosts",
         (Pane("hosts", "Hosts", "h", "hatui.ui.views.hosts:hosts_pane"),)),
)

BY_NAME = {a.name: a for a in AREAS}
FEEDS = {f.source: (a, f) for a in AREAS for f in a.feeds}
PANES = tuple(p for a in AREAS for p in a.panes)


@cache
def load(ref: str) -> Any:
    """The object a ``"module:attr"`` reference names (imported once)."""
    module, attr = ref.split(":")
    return getattr(importlib.import_module(module), attr)


def pane_of(source: str) -> str:
    """The pane a source's findings belong to ("hatui" for the monitor's own)."""
    return FEEDS[source][1].pane if source in FEEDS else source


def area_of(source: str) -> Area | None:
    return FEEDS[source][0] if source in FEEDS else None


def feed(source: str) -> Feed | None:
    return FEEDS[source][1] if source in FEEDS else None
