"""The immutable data that flows through hatui: observations in, snapshots, findings out."""

from hatui.model.finding import Finding, FindingKind, Severity
from hatui.model.observation import Failure, FailureKind, Garbled, Observation
from hatui.model.snapshot import Snapshot, TargetState

__all__ = [
    "Failure", "FailureKind", "Finding", "Garbled", "FindingKind", "Observation", "Severity", "Snapshot", "TargetState",
]
