"""Helpers the OpenStack rule modules share: finding ids, the section, the area's derived state."""
from __future__ import annotations

from hatui.areas import pane_of
from hatui.model import Finding, FindingKind, Severity
from hatui.model.openstack import OpenStackState
from hatui.rules import RuleContext


def finding(source: str, condition: str, subject: str, severity: Severity, summary: str, *,
            kind: FindingKind = FindingKind.FAILURE, confirm: float = 0.0) -> Finding:
    return Finding(f"{source}.{condition}:{subject}", kind, severity, pane_of(source), subject, summary,
                   confirm=confirm)


def section(ctx: RuleContext):
    return ctx.config.section("openstack")


def state(ctx: RuleContext) -> OpenStackState | None:
    return ctx.cloud.openstack
