"""Finding: one failure or single point of failure, with a stable id and a lifecycle."""
from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any


class FindingKind(enum.StrEnum):
    FAILURE = "failure"  # something is broken now
    SPOF = "spof"        # nothing is broken, but one more loss takes a service down


class Severity(enum.IntEnum):
    """Ordered so that ``max()`` gives the worst; the values are Nagios exit codes' order."""

    OK = 0
    WARNING = 1
    UNKNOWN = 2  # worse than a warning: we cannot tell, so the operator must look
    CRITICAL = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def exit_code(self) -> int:
        return {Severity.OK: 0, Severity.WARNING: 1, Severity.CRITICAL: 2, Severity.UNKNOWN: 3}[self]


@dataclass(frozen=True, slots=True)
class Finding:
    """A condition a rule detected. ``id`` is stable across polls: ``<rule>:<subject>``.

    ``since`` is filled by the lifecycle tracker (when the condition was first seen); rules
    leave it None. ``area`` names the pane it belongs to (galera, rabbitmq, ...).
    """

    id: str
    kind: FindingKind
    severity: Severity
    area: str
    subject: str
    summary: str
    since: float | None = None
    confirm: float = 0.0  # seconds the condition must hold before the finding opens (0: at once)
    caused_by: str | None = None  # the id of the finding that explains this one (hatui.rules.causes)
    maintenance: str | None = None  # the element under maintenance that mutes it (hatui.rules.maintenance)
    # what the finding says, apart from its subject: ``galera`` and ``spof`` of
    # ``galera.spof:db-1``. Given by the rule that makes it (hatui.rules.finding); for faces that
    # group findings and for the causes, so that nothing parses an id's text.
    source: str = ""
    condition: str = ""

    def __post_init__(self) -> None:
        if not self.source or not self.condition:  # made by hand (a test): the id says them
            head = self.id.split(":", 1)[0]
            object.__setattr__(self, "source", self.source or head.split(".", 1)[0])
            object.__setattr__(self, "condition", self.condition or head.split(".", 1)[-1])

    def with_since(self, since: float) -> Finding:
        return replace(self, since=since)

    def to_json(self, iso) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "severity": self.severity.label,
            "area": self.area,
            "subject": self.subject,
            "summary": self.summary,
            "since": iso(self.since) if self.since is not None else None,
            "caused_by": self.caused_by,
            "maintenance": self.maintenance,
        }
