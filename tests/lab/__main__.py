"""Command line for the lab: ``python -m tests.lab up|down|status [galera rabbit hosts openstack cloud]``.

Each lab module defines ``Lab`` with ``up()`` (idempotent: leaves the servers running, healthy and
in their default state), ``down()`` and ``status() -> str``. The cloud lab's faults and its operator config
are verbs of their own: ``power ctl-2 off``, ``feed pdu-a off``, ``switch sw-1 down``, ``link ctl-1 down``,
``kill ctl-2 galera`` (freeze, thaw, stop, start, partition, heal), ``alarm ctl-2 memory``, ``clear-alarms``,
``config`` (tests/lab/cloud.py).
"""
from __future__ import annotations

import importlib
import sys

ALL = ("galera", "rabbit", "hosts", "openstack")
LABS = (*ALL, "cloud")  # the cloud lab (5 GB) is named: not part of a bare ``status`` / ``down``
CLOUD_VERBS = ("power", "feed", "switch", "link", "kill", "freeze", "thaw", "stop", "start", "partition", "heal",
               "alarm", "clear-alarms", "config")


def main(argv: list[str]) -> int:
    if argv and argv[0] in CLOUD_VERBS:
        from tests.lab import cloud
        print(cloud.verb(argv))
        return 0
    if not argv or argv[0] not in ("up", "down", "status", "reset") or any(n not in LABS for n in argv[1:]):
        print(f"usage: python -m tests.lab up|down|status|reset [{' '.join(LABS)}]\n"
              f"       python -m tests.lab {'|'.join(CLOUD_VERBS)} ... (the cloud lab)", file=sys.stderr)
        return 2
    verb, names = argv[0], argv[1:] or (list(ALL) if argv[0] != "up" else ["galera", "rabbit", "hosts"])
    order = names if verb != "down" else list(reversed(names))
    for name in order:
        lab = importlib.import_module(f"tests.lab.{name}").Lab()
        result = getattr(lab, verb)()
        print(f"{name}: {result if isinstance(result, str) else verb + ' ok'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
