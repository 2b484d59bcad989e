"""The JSON shapes ``check --json`` and ``watch`` print (documented in the README)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from hatui.model import Finding


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def finding_json(f: Finding) -> dict[str, Any]:
    return f.to_json(iso)
