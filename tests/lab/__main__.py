"""Command line for the lab: ``python -m tests.lab up|down|status [galera rabbit hosts openstack]``.

Each lab module defines ``Lab`` with ``up()`` (idempotent: leaves the servers running, healthy and
in their default state), ``down()`` and ``status() -> str``.
"""
from __future__ import annotations

import importlib
import sys

ALL = ("galera", "rabbit", "hosts", "openstack")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("up", "down", "status"):
        print(f"usage: python -m tests.lab up|down|status [{' '.join(ALL)}]", file=sys.stderr)
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
