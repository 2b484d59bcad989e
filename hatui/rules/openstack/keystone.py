"""Keystone rules: the token's answer. Keystone unreachable is the generic keystone.unreachable:<cloud>
(worded by the keystone source: what failed, and which catalog the endpoints are still probed from)."""
from __future__ import annotations

from collections.abc import Iterator

from hatui.model import Finding, Severity
from hatui.rules import RuleContext, finding
from hatui.rules.openstack.common import state


def keystone_no_catalog(ctx: RuleContext) -> Iterator[Finding]:
    """A token without a catalog (unscoped, or a scope with no endpoint): nothing to probe."""
    st = state(ctx)
    info = st.token if st else None
    if st is not None and info is not None and not info.catalog:
        label = st.label
        yield finding("keystone", "no_catalog", label, Severity.WARNING,
                      f"{label}: the token of {info.user} ({info.scope}) carries no catalog: no endpoint to probe "
                      f"(scope the cloud to a project or the system)")


RULES = [keystone_no_catalog]
