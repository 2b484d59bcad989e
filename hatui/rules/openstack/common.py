"""Helpers the OpenStack rule modules share: finding ids, the section, the keystone target's state."""
from __future__ import annotations

from hatui.model import Finding, FindingKind, Severity
from hatui.model.keystone import KeystoneGarbled, TokenInfo, parse_token
from hatui.rules import RuleContext
from hatui.ui_words import AREA_OF_SOURCE


def finding(source: str, condition: str, subject: str, severity: Severity, summary: str, *,
            kind: FindingKind = FindingKind.FAILURE, confirm: float = 0.0) -> Finding:
    return Finding(f"{source}.{condition}:{subject}", kind, severity, AREA_OF_SOURCE[source], subject, summary,
                   confirm=confirm)


def section(ctx: RuleContext):
    return ctx.config.section("openstack")


def keystone_failing(ctx: RuleContext) -> bool:
    """The keystone target's latest answer is a fresh failure (its own finding says so)."""
    sec = section(ctx)
    st = ctx.snapshot.get("keystone", sec.label) if sec else None
    return bool(st and st.fresh and st.latest is not None and not st.latest.ok)


def token(ctx: RuleContext) -> tuple[TokenInfo | None, str | None]:
    """The usable token information, or (None, why it is garbled)."""
    sec = section(ctx)
    st = ctx.snapshot.get("keystone", sec.label) if sec else None
    obs = st.usable if st else None
    if obs is None:
        return None, None
    try:
        return parse_token(obs.data), None
    except KeystoneGarbled as exc:
        return None, str(exc)
