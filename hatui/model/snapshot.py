"""Snapshot: the latest observation of every configured target at one instant, immutable."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from hatui.model.observation import Observation


@dataclass(frozen=True, slots=True)
class TargetState:
    """What is known of one target: its latest observation (and the one before, for rates).

    ``fresh`` is False when the latest observation is older than the target's stale limit, or
    there is none yet: rules must then treat the target as UNKNOWN, never as healthy.
    ``pending_for`` is how long a poll has been outstanding (a frozen server shows here first).
    ``value`` / ``previous_value`` are those observations parsed once, when they arrived, into their
    area's typed state (None for a failure); ``garbled`` says why a successful answer could not be.
    ``last_ok`` is the target's last readable answer, however old (what a new client's failure is
    set against: "hatui's kept connection still worked 40 s ago").
    """

    source: str
    target: str
    latest: Observation | None
    previous: Observation | None
    age: float | None
    fresh: bool
    pending_for: float = 0.0
    value: Any = None
    previous_value: Any = None
    garbled: str | None = None
    last_ok: Observation | None = None

    @property
    def usable(self) -> Observation | None:
        """The latest observation if it is fresh, a success and understood, else None."""
        if self.fresh and self.latest is not None and self.latest.ok and self.garbled is None:
            return self.latest
        return None

    @property
    def parsed(self) -> Any:
        """The latest answer's typed value if it is usable (fresh, a success, understood), else None."""
        return self.value if self.usable is not None else None

    @property
    def failed(self) -> bool:
        """The latest poll is a fresh failure (its own finding says so)."""
        return self.fresh and self.latest is not None and not self.latest.ok


@dataclass(frozen=True, slots=True)
class Snapshot:
    taken_at: float
    targets: Mapping[tuple[str, str], TargetState]

    @classmethod
    def of(cls, taken_at: float, states: list[TargetState]) -> Snapshot:
        return cls(taken_at, MappingProxyType({(s.source, s.target): s for s in states}))

    def of_source(self, source: str) -> Iterator[TargetState]:
        return (s for s in self.targets.values() if s.source == source)

    def get(self, source: str, target: str) -> TargetState | None:
        return self.targets.get((source, target))
