"""The API endpoints pane: Keystone in the headline, one row per catalog/extra URL, then HAProxy backends."""
from __future__ import annotations

import time

from hatui.config import Config
from hatui.model import Finding, TargetState
from hatui.model.endpoints import DOWN, OK, EndpointProbe
from hatui.model.haproxy import HaproxyBackend
from hatui.monitor import Assessment
from hatui.ui.views.common import Cell, PaneModel, RowKey, age_cell, ms, not_configured, status_cell, worst_tone
from hatui.words import failure_words, human_age

COLUMNS = ("", "endpoint", "interface", "host", "answer", "latency", "cert")


def _clock(at: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at)) if at else "-"


def keystone_headline(a: Assessment, label: str) -> list[Cell]:
    st = a.snapshot.get("keystone", label)
    findings = a.of_subject("endpoints", label)
    head: list[Cell] = [status_cell(findings), (f"  Keystone {label}: ", "")]
    if st is None or st.latest is None:
        return head + [("waiting for the first answer", "dim")]
    if not st.latest.ok:
        return head + [(failure_words(st.latest.failure), "critical")]
    if st.garbled is not None:
        return head + [(f"garbled: {st.garbled}", "unknown")]
    info = st.value
    who = f"token for {info.user} ({info.scope}; {', '.join(info.roles) or 'no role'})"
    left = f", expires in {human_age(info.expires_at - a.snapshot.taken_at)}" if info.expires_at else ""
    cells = head + [(who + left, "" if st.fresh else "stale"),
                    (f"  catalog: {len(info.service_types)} services", "dim")]
    if not st.fresh:
        cells.append((f"  STALE {human_age(st.age)}", "stale"))
    return cells


def _answer(p: EndpointProbe) -> Cell:
    if p.state == DOWN:
        return p.reason, "critical"
    if p.state != OK:
        return p.reason, "warning"
    what = f"{p.status}" + (f" {p.versions[0]}" if p.versions else " (needs a token)" if p.status in (401, 403) else "")
    return what, "ok"


def _interfaces(p: EndpointProbe) -> str:
    if p.extra:
        return "extra"
    return "all" if set(p.interfaces) == {"public", "internal", "admin"} else "+".join(p.interfaces)


def _cert(p: EndpointProbe, warn_days: float) -> Cell:
    if p.tls_verified is None:
        return "-", "dim"  # plain HTTP
    days = "?" if p.cert_days is None else f"{p.cert_days:.0f} d"
    tone = "critical" if p.cert_days is not None and p.cert_days < 0 else \
        "warning" if p.cert_days is not None and p.cert_days < warn_days else "ok"
    return (days, tone) if p.tls_verified else (f"UNVERIFIED {days}", "warning")


def endpoint_rows(a: Assessment, st: TargetState | None, warn_days: float) -> tuple[list[tuple[Cell, ...]], list[Cell]]:
    """Rows of the endpoint round, and a note about the catalog they come from (one row per probe of
    ``endpoint_keys``)."""
    if st is None or st.latest is None:
        return [], [("endpoints: waiting for the first round", "dim")]
    if not st.latest.ok:
        return [], [(f"endpoints: {failure_words(st.latest.failure)}", "critical")]
    if st.garbled is not None:
        return [], [(f"endpoints: garbled: {st.garbled}", "unknown")]
    rnd = st.value
    if rnd.catalog_from is None:
        note = [("no catalog yet: Keystone has not answered (and no catalog is cached)", "warning")]
    elif rnd.catalog_from == "cache":
        note = [(f"catalog cached at {_clock(rnd.catalog_at)}, {human_age(a.snapshot.taken_at - rnd.catalog_at)} old "
                 f"(Keystone has not answered since this start)", "warning")]
    else:
        note = []
    rows: list[tuple[Cell, ...]] = []
    for p in rnd.probes:
        findings = a.of_subject("endpoints", p.subject)
        word = status_cell(findings) if st.fresh else ("? STALE", "stale")
        if not findings and p.state == DOWN and st.fresh:
            word = ("✖ DOWN", "critical")  # an identity URL while Keystone is down: its finding is Keystone's
        rows.append((word, (p.what, ""),
                     (_interfaces(p), "dim"), (p.host, ""), _answer(p),
                     (ms(p.latency), "dim") if st.fresh else age_cell(st.age, st.fresh), _cert(p, warn_days)))
    return rows, note


def endpoint_keys(st: TargetState | None) -> list[RowKey]:
    """What each row of ``endpoint_rows`` is about: its probe's subject, in the endpoint round."""
    if st is None or st.latest is None or not st.latest.ok or st.garbled is not None:
        return []
    return [RowKey("endpoints", p.subject, targets=((st.source, st.target),)) for p in st.value.probes]


def _backend_row(a: Assessment, lb: str, b: HaproxyBackend, fresh: bool) -> tuple[Cell, ...]:
    findings: tuple[Finding, ...] = a.of_subject("endpoints", f"{lb}/{b.name}") + tuple(
        f for s in b.servers for f in a.of_subject("endpoints", f"{lb}/{b.name}/{s.name}"))
    word = status_cell(findings) if fresh else ("? STALE", "stale")
    servers = ", ".join(f"{s.name} {s.status}" + (f" {s.check_status}" if not s.serving and s.check_status else "")
                        for s in b.servers)
    tone = "critical" if not b.serving else "spof" if len(b.serving) == 1 else "ok"
    return (word, (f"haproxy {lb}/{b.name}", ""), ("backend", "dim"), (servers or "no server", ""),
            (f"{len(b.serving)}/{len(b.servers)} UP", tone), ("", ""), ("", ""))


def haproxy_rows(a: Assessment, config: Config) -> tuple[list[tuple[Cell, ...]], list[Cell], list[RowKey]]:
    rows, notes, keys = [], [], []
    for stats in config.section("openstack").haproxy:
        st = a.snapshot.get("haproxy", stats.name)
        if st is None or st.latest is None:
            notes.append((f"  haproxy {stats.name}: waiting", "dim"))
            continue
        if not st.latest.ok:
            notes.append((f"  haproxy {stats.name}: {failure_words(st.latest.failure)}", "critical"))
            continue
        if st.garbled is not None:
            notes.append((f"  haproxy {stats.name}: garbled: {st.garbled}", "unknown"))
            continue
        backends = st.value
        # a poll outstanding past half its timeout (HAProxy frozen): said here too, before the timeout
        notes += [(f"  haproxy {f.summary}", "warning") for f in a.of_subject("endpoints", stats.name)
                  if f.source == "haproxy" and f.condition == "slow"]
        rows += [_backend_row(a, stats.name, b, st.fresh) for b in backends]
        keys += [RowKey("endpoints", f"{stats.name}/{b.name}", targets=(("haproxy", stats.name),)) for b in backends]
    return rows, notes, keys


def endpoints_pane(a: Assessment, config: Config) -> PaneModel:
    section = config.section("openstack")
    if section is None:
        return not_configured("API endpoints", "openstack")
    headline = keystone_headline(a, section.label)
    st = a.snapshot.get("endpoint", "endpoints")
    rows, note = endpoint_rows(a, st, section.cert_warn_days)
    hrows, hnotes, hkeys = haproxy_rows(a, config)
    extra = note + hnotes
    if extra:
        headline += [("\n", "")] + extra
    return PaneModel("API endpoints", tuple(headline), COLUMNS, tuple(rows + hrows),
                     tone=worst_tone(a.of_area("endpoints")), keys=tuple(endpoint_keys(st) + hkeys))
