"""HAProxy rules: each backend's redundancy, and each server that is down or taken out.

Subjects: ``<lb>/<backend>`` and ``<lb>/<backend>/<server>`` (lb: the configured stats name), so the
same backend seen by two load balancers gives two findings.
"""
from __future__ import annotations

from collections.abc import Iterator

from hatui.model import Finding, Severity
from hatui.model.haproxy import HaproxyBackend
from hatui.rules import RuleContext, finding
from hatui.rules.openstack.common import state
from hatui.words import human_age


def backends(ctx: RuleContext) -> Iterator[tuple[str, tuple[HaproxyBackend, ...]]]:
    """(lb name, its backends) for each stats endpoint with a usable answer."""
    st = state(ctx)
    yield from (st.backends.items() if st else ())


def _servers_words(b: HaproxyBackend) -> str:
    return ", ".join(f"{s.name} {s.status}" for s in b.servers) or "no server"


def backend_down(ctx: RuleContext) -> Iterator[Finding]:
    """No server takes traffic: every request to this VIP fails (503)."""
    for lb, bes in backends(ctx):
        for b in bes or ():
            if not b.serving and (b.servers or b.status.startswith("DOWN")):
                yield finding("haproxy", "backend_down", f"{lb}/{b.name}", Severity.CRITICAL,
                              f"{lb}/{b.name}: no server UP ({_servers_words(b)}): requests fail")


def spof_words(ctx: RuleContext, lb: str, backend: str, server: str) -> str:
    """Why server ``server`` of ``lb``/``backend`` is a SPOF (the model found that its loss takes the
    backend down: hatui.rules.redundancy names it ``haproxy.spof:<lb>/<backend>/<server>``)."""
    b = next((b for name, bes in backends(ctx) if name == lb for b in bes if b.name == backend), None)
    others = [s for s in b.servers if s.name != server] if b is not None else []
    not_serving = [s for s in others if not s.serving]
    why = (f"the only server serving ({', '.join(f'{s.name} {s.status}' for s in not_serving)})"
           if not_serving else "the only server configured" if not others else "one of the capacity floor's")
    return f"{lb}/{backend}/{server}: {why}: its loss takes {backend} down"


def server_down(ctx: RuleContext) -> Iterator[Finding]:
    for lb, bes in backends(ctx):
        for b in bes or ():
            for s in b.servers:
                if s.down:
                    since = f" for {human_age(s.last_change)}" if s.last_change is not None else ""
                    check = f": check {s.check}" if s.check else ""
                    yield finding("haproxy", "server_down", f"{lb}/{b.name}/{s.name}", Severity.WARNING,
                                  f"{lb}/{b.name}/{s.name}: {s.status}{since}{check}")


def server_maintenance(ctx: RuleContext) -> Iterator[Finding]:
    for lb, bes in backends(ctx):
        for b in bes or ():
            for s in b.servers:
                if s.maintenance:
                    yield finding("haproxy", "server_maint", f"{lb}/{b.name}/{s.name}", Severity.WARNING,
                                  f"{lb}/{b.name}/{s.name}: {s.status}: taken out of service by an operator")


RULES = [backend_down, server_down, server_maintenance]
