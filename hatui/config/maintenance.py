"""The maintenance file: the elements an operator has put under maintenance, shared by every face (the UI,
``check`` from cron, ``watch``, ``serve``), so a planned outage pages nobody wherever hatui runs.

``{"elements": {"ctl-1": {"since": 1796358261.9, "note": "kernel update"}}}`` in
``$XDG_STATE_HOME/hatui/maintenance.json`` (default ``~/.local/state/hatui``), or ``[hatui]
maintenance_file``. Written whole and renamed into place, so a reader never sees half a file.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHAPE = '{"elements": {NAME: {"since": UNIX_TIME, "note": TEXT}}}'


class MaintenanceError(ValueError):
    """The file exists but is not a maintenance file: says which file and what is wrong."""


def default_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "hatui" / "maintenance.json"


@dataclass(frozen=True)
class Entry:
    name: str
    since: float
    note: str = ""


class MaintenanceFile:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self._seen: tuple[float, int] | None = None  # (mtime, size) of the last read
        self._entries: tuple[Entry, ...] = ()

    def entries(self) -> tuple[Entry, ...]:
        """What the file says now (read again only when it changed; no file: nothing)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._seen, self._entries = None, ()
            return ()
        except OSError as exc:
            raise MaintenanceError(f"{self.path}: {exc.strerror or exc}") from None
        if self._seen != (st.st_mtime, st.st_size):
            self._entries = self._read()
            self._seen = (st.st_mtime, st.st_size)
        return self._entries

    def names(self) -> frozenset[str]:
        return frozenset(e.name for e in self.entries())

    def _read(self) -> tuple[Entry, ...]:
        try:
            doc: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MaintenanceError(f"{self.path}: expected a hatui maintenance file (JSON), got: {exc}") from None
        elements = doc.get("elements") if isinstance(doc, dict) else None
        if not isinstance(elements, dict) or not all(isinstance(v, dict) for v in elements.values()):
            raise MaintenanceError(f"{self.path}: expected {SHAPE}")
        out = []
        for name, v in sorted(elements.items()):
            since, note = v.get("since", 0.0), v.get("note", "")
            if not isinstance(since, int | float) or not isinstance(note, str):
                raise MaintenanceError(f"{self.path}: elements.{name}: expected a number since and a text note")
            out.append(Entry(str(name), float(since), note))
        return tuple(out)

    def set(self, names: list[str], on: bool, note: str = "") -> tuple[Entry, ...]:
        """Put ``names`` under maintenance (or take them out); returns what the file holds after."""
        current = {e.name: e for e in self.entries()}
        for name in names:
            if on:
                current.setdefault(name, Entry(name, time.time(), note))
            else:
                current.pop(name, None)
        doc = {"elements": {e.name: {"since": e.since, "note": e.note} for e in sorted(current.values(),
                                                                                    key=lambda e: e.name)}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".maintenance.", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        os.replace(tmp, self.path)
        self._seen = None
        return self.entries()


class Maintenance:
    """What the faces read at each assessment: the file's names and those given on the command line
    (``--maintenance NAME``, for this run only). It never raises: an unreadable file mutes nothing (the
    loud side is the safe one) and says why in ``error``."""

    def __init__(self, path: str | Path | None = None, extra: tuple[str, ...] = ()) -> None:
        self.file = MaintenanceFile(path)
        self.extra = frozenset(extra)
        self.error: str | None = None

    def names(self) -> frozenset[str]:
        try:
            names = self.file.names()
            self.error = None
        except MaintenanceError as exc:
            names, self.error = frozenset(), str(exc)
        return names | self.extra
