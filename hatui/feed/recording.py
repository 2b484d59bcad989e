"""Recordings: JSON lines of observations, with a header holding the config minus its secrets.

Line 1: ``{"hatui_recording": 1, "started_at": <epoch>, "config": {...}}``; then one observation
per line (``Observation.to_json``). ``.gz`` names are gzip-compressed. Observations never hold a
secret (sources redact failures; data holds only status fields), and the header is scrubbed by
``public_document``.
"""
from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from hatui.config import public_document
from hatui.model import Observation

FORMAT = 1


class RecordingError(Exception):
    pass


def _open(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.GzipFile(path, mode + "b"), encoding="utf-8")  # gzip.open's binary case
    return open(path, mode, encoding="utf-8")


class Recorder:
    """Appends observations to a recording file, flushing each line (a crash loses nothing)."""

    def __init__(self, path: str | Path, config_document: dict[str, Any], started_at: float) -> None:
        self.path = Path(path)
        self._f = _open(self.path, "w")
        header = {"hatui_recording": FORMAT, "started_at": started_at, "config": public_document(config_document)}
        self._write(header)

    def _write(self, obj: dict[str, Any]) -> None:
        self._f.write(json.dumps(obj, separators=(",", ":"), sort_keys=True) + "\n")
        self._f.flush()

    def __call__(self, obs: Observation) -> None:
        self._write(obs.to_json())

    def close(self) -> None:
        self._f.close()


def read_recording(path: str | Path) -> tuple[dict[str, Any], list[Observation]]:
    """The header's config document and every observation, in time order."""
    path = Path(path)
    try:
        with _open(path, "r") as f:
            lines = iter(f)
            try:
                header = json.loads(next(lines))
            except StopIteration:
                raise RecordingError(f"{path}: empty file, not a hatui recording") from None
            if not isinstance(header, dict) or header.get("hatui_recording") != FORMAT:
                raise RecordingError(f"{path}: line 1: expected a hatui recording header (format {FORMAT})")
            observations = list(_observations(path, lines))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise RecordingError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise RecordingError(f"{path}: line 1: not JSON ({exc.msg})") from None
    config = header.get("config") or {}
    if not isinstance(config, dict):
        raise RecordingError(f"{path}: line 1: the header's config is not a table")
    observations.sort(key=lambda o: o.observed_at)
    return _without_unrecorded(config, observations), observations


# Sources added after some recordings were made: (section, key, value that turns them off). A recording
# without a single observation of one was made before hatui polled it: replayed, it is not a target
# (else it would read as never answering).
LATER_SOURCES = {"rabbitmq-clients": ("rabbitmq", "clients_interval", 0)}


def _without_unrecorded(config: dict[str, Any], observations: list[Observation]) -> dict[str, Any]:
    seen = {o.source for o in observations}
    out = dict(config)
    for source, (section, key, off) in LATER_SOURCES.items():
        if source not in seen and isinstance(out.get(section), dict) and key not in out[section]:
            out[section] = {**out[section], key: off}
    return out


def _observations(path: Path, lines: Iterator[str]) -> Iterator[Observation]:
    for n, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            yield Observation.from_json(json.loads(line))
        except (ValueError, KeyError, TypeError, OverflowError) as exc:  # OverflowError: a time beyond a float
            raise RecordingError(f"{path}: line {n}: not an observation ({exc})") from None
