"""The whole suite's order: the lab cloud of hosts' tests run last.

tests/run-all.sh starts the cloud lab in the background (minutes: Galera, RabbitMQ and the OpenStack
services boot on four hosts) while the unit, UI and loopback-lab tests run; its tests then find it up, or
wait for its lock (tests/lab/cloud.py) until it is."""
from __future__ import annotations


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: "cloud" in item.keywords)  # stable: everything else keeps its order
