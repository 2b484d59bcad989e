"""API endpoint rules: each catalog or extra URL judged on its own version-document probe.

Subjects are the endpoints' (hatui/model/endpoints.py): ``compute``, ``compute/public``,
``image@RegionTwo``, or an extra URL's configured name.
"""
from __future__ import annotations

from collections.abc import Iterator

from hatui.model import Finding, Severity
from hatui.model.endpoints import (
    DOWN,
    UNEXPECTED,
    WRONG_CONTENT,
    EndpointProbe,
)
from hatui.rules import RuleContext, finding
from hatui.rules.openstack.common import section, state

# A version document is static and answers in milliseconds (lab: 1.4-3.2 ms); one taking half the
# request timeout means an overloaded or struggling API, seen before its requests time out.
SLOW_FRACTION = 0.5


def probes(ctx: RuleContext) -> tuple[EndpointProbe, ...]:
    st = state(ctx)
    return st.round.probes if st and st.round else ()


def _where(p: EndpointProbe) -> str:
    return f"{p.label} {p.url}"


def endpoint_down(ctx: RuleContext) -> Iterator[Finding]:
    """Refused, timeout, unreachable, TLS failure or 5xx: clients of this URL fail.

    Keystone down is one finding (keystone.unreachable), not one more per identity URL: while the auth
    URL fails in the same round (or the keystone target fails), Keystone's own URLs are left to it."""
    st = state(ctx)
    rnd = st.round if st else None
    if st is None or rnd is None:
        return
    keystone_down = st.keystone_failing or (rnd.auth is not None and rnd.auth.state == DOWN)
    for p in rnd.probes:
        if p.state != DOWN or (keystone_down and rnd.keystone_side(p)):
            continue
        yield finding("endpoint", "down", p.subject, Severity.CRITICAL, f"{_where(p)}: {p.reason}")


def endpoint_wrong_content(ctx: RuleContext) -> Iterator[Finding]:
    """Something answers, but not an OpenStack version document (critical), or an unexpected 4xx/3xx."""
    for p in probes(ctx):
        if p.state in (WRONG_CONTENT, UNEXPECTED):
            severity = Severity.CRITICAL if p.state == WRONG_CONTENT else Severity.WARNING
            yield finding("endpoint", "wrong_content", p.subject, severity, f"{_where(p)}: {p.reason}")


def certificate_expiry(ctx: RuleContext) -> Iterator[Finding]:
    sec = section(ctx)
    for p in probes(ctx):
        if p.cert_days is None or p.cert_days >= sec.cert_warn_days:
            continue
        if p.cert_days < 0:
            yield finding("endpoint", "cert_expiry", p.subject, Severity.CRITICAL,
                          f"{_where(p)}: TLS certificate expired {-p.cert_days:.0f} day(s) ago")
        else:
            yield finding("endpoint", "cert_expiry", p.subject, Severity.WARNING,
                          f"{_where(p)}: TLS certificate expires in {p.cert_days:.0f} day(s)")


def endpoint_latency(ctx: RuleContext) -> Iterator[Finding]:
    limit = SLOW_FRACTION * section(ctx).timeout
    for p in probes(ctx):
        if p.state != DOWN and p.latency is not None and p.latency > limit:
            yield finding("endpoint", "latency", p.subject, Severity.WARNING,
                          f"{_where(p)}: version document took {p.latency * 1000:.0f} ms (limit {limit * 1000:.0f} ms)")


RULES = [endpoint_down, endpoint_wrong_content, certificate_expiry, endpoint_latency]
