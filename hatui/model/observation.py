"""Observation: one poll of one target, frozen and timestamped, either data or a failure.

Observations are the only thing sources produce and the only thing recordings hold, so they
are plain JSON-able values: ``data`` is what the server said (raw fields, parsed later by pure
code in this package), never a client object.
"""
from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeGuard


class FailureKind(enum.StrEnum):
    """Why a poll got no usable answer. Each reads differently to an operator."""

    REFUSED = "refused"          # TCP RST: nothing listens (process dead, port closed); or turned away (full)
    TIMEOUT = "timeout"          # no answer within the client's own timeout (frozen, blackholed)
    UNREACHABLE = "unreachable"  # no route / host unreachable / link down
    AUTH = "auth"                # credentials refused
    FORBIDDEN = "forbidden"      # authenticated, but the account may not read this
    TLS = "tls"                  # certificate or handshake failure
    GARBLED = "garbled"          # an answer that is not what this server should say
    HTTP = "http"                # an HTTP error status (5xx, unexpected 4xx)
    NOT_FOUND = "not_found"      # the thing asked about does not exist there
    ERROR = "error"              # anything else, with its message


class Garbled(ValueError):
    """An answer that is not what this kind of server says: every parser raises a subclass.

    The monitor catches it once, when the observation arrives, and the target is reported as
    ``<source>.garbled:<target>`` (UNKNOWN), never judged on what could be read of it."""


def finite(v: Any) -> TypeGuard[int | float]:
    """A JSON number that is a quantity: not a bool, not NaN or infinite, not too big for a float. Parsers
    check with it before they compute with a number from an answer."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # an int beyond a float
        return False


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    message: str  # already redacted: never holds a secret

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "message": self.message}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Failure:
        return cls(FailureKind(raw["kind"]), str(raw["message"]))


def _freeze(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(data or {}))


@dataclass(frozen=True, slots=True)
class Observation:
    """What one poll of ``source``/``target`` saw at ``observed_at`` (epoch seconds).

    ``latency`` is the poll's own duration. Exactly one of ``data`` (non-empty or not) and
    ``failure`` describes the outcome: ``failure`` set means the target gave no usable answer.
    ``new_client`` is True when hatui replaced its kept connection for this poll (connect, TLS handshake,
    login afresh): what a new client sees, which a kept connection can hide (connection limits, a
    changed password, a certificate that no longer verifies).
    """

    source: str
    target: str
    observed_at: float
    latency: float | None = None
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    failure: Failure | None = None
    new_client: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.data, MappingProxyType):
            object.__setattr__(self, "data", _freeze(self.data))

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.target)

    @property
    def answer_latency(self) -> float | None:
        """How long the server took to answer; None when it did not (a refused connect has no latency
        worth a number: it measures the jump host's own kernel)."""
        return self.latency if self.failure is None else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "target": self.target, "at": round(self.observed_at, 3)}
        if self.latency is not None:
            out["latency"] = round(self.latency, 4)
        if self.failure is not None:
            out["failure"] = self.failure.to_json()
        else:
            out["data"] = dict(self.data)
        if self.new_client:  # only when set: recordings stay as they were, and older ones load as False
            out["new_client"] = True
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Observation:
        failure = raw.get("failure")
        at = float(raw["at"])
        if not math.isfinite(at):  # a NaN time would keep the target fresh for ever
            raise ValueError(f"at is {raw['at']!r}, not a time")
        return cls(
            source=str(raw["source"]),
            target=str(raw["target"]),
            observed_at=at,
            latency=None if raw.get("latency") is None else float(raw["latency"]),
            data=raw.get("data") or {},
            failure=Failure.from_json(failure) if failure else None,
            new_client=raw.get("new_client") is True,
        )
