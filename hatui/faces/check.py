"""``hatui check``: one poll round, then a Nagios-style exit code and summary (or JSON).

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (Nagios plugin guidelines).
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

from hatui.config import Config
from hatui.config.maintenance import Maintenance
from hatui.faces.jsonout import finding_json, iso
from hatui.feed import LiveFeed
from hatui.model import Finding, Severity
from hatui.monitor import Assessment, Monitor
from hatui.sources import build_sources


async def one_round(config: Config, maintenance: Maintenance | None = None) -> Assessment:
    started = time.time()
    monitor = Monitor(config, started_at=started, maintenance=maintenance.names if maintenance else None)
    feed = LiveFeed(build_sources(config))
    try:
        await feed.poll_round(monitor.ingest)
    finally:
        await feed.aclose()
    now = time.time()
    # Every answer of this round is current, however long its slowest target took (a dead Keystone
    # makes a round last several timeouts): its stale limit counts from the end of the round.
    monitor.specs = [replace(s, stale_after=s.stale_after + (now - started)) for s in monitor.specs]
    # Judge as if the stale limit had passed: a target that gave nothing in this round is UNKNOWN.
    monitor.started_at = started - max((s.stale_after for s in monitor.specs), default=0) - 1
    return monitor.assess(now)


def perfdata(a: Assessment) -> str:
    parts = []
    for st in a.snapshot.targets.values():
        obs = st.latest
        if obs is not None and obs.answer_latency is not None:
            parts.append(f"'{st.source}_{st.target}_latency'={obs.answer_latency:.4f}s")
    failures = sum(1 for f in a.findings if f.kind.value == "failure")
    spofs = len(a.findings) - failures
    return " ".join([f"failures={failures}", f"spofs={spofs}", *parts])


def headline(a: Assessment) -> Finding | None:
    """The finding the summary names: the worst one that nothing explains (its consequences fold) and
    no maintenance mutes."""
    worst = [f for f in a.findings if f.severity == a.status and f.maintenance is None]
    return next((f for f in worst if f.caused_by is None), worst[0] if worst else None)


def summary_line(a: Assessment) -> str:
    status = a.status
    first = headline(a)
    muted = sum(1 for f in a.findings if f.maintenance is not None)
    if first is None:
        n = len(a.snapshot.targets)
        head = (f"HATUI {status.name} - {a.unknown_why}" if a.unknown_why
                else f"HATUI OK - {n} targets answered, no failure, no single point of failure")
    else:
        loud = [f for f in a.findings if f.maintenance is None]
        explained = sum(1 for f in loud if f.caused_by is not None)
        more = len(loud) - explained - (first.caused_by is None)
        head = (f"HATUI {status.name} - {first.summary}" + (f" (+{explained} explained)" if explained else "")
                + (f" (+{more} more)" if more > 0 else ""))
    if muted:
        head += f" (+{muted} under maintenance)"
    return f"{head} | {perfdata(a)}"


def detail_lines(a: Assessment) -> list[str]:
    """Nagios' long output: every other finding, those a cause explains after the rest, saying by what."""
    first = headline(a)
    rest = [f for f in a.findings if f is not first]
    loud = [f for f in rest if f.maintenance is None]
    lines = [f"{f.severity.name}: {f.summary}" for f in loud if f.caused_by is None]
    lines += [f"{f.severity.name}: {f.summary} (explained by {f.caused_by})" for f in loud if f.caused_by]
    lines += [f"MAINTENANCE ({f.maintenance}): {f.summary}" for f in rest if f.maintenance is not None]
    return lines


def check_doc(a: Assessment | None) -> dict:
    """What ``check --json`` prints, and ``serve`` answers at /check (None: nothing assessed yet)."""
    if a is None:
        return {"status": Severity.UNKNOWN.label, "checked_at": None, "findings": [],
                "unknown": "nothing assessed yet"}
    doc = {
        "status": a.status.label,
        "checked_at": iso(a.snapshot.taken_at),
        "findings": [finding_json(f) for f in a.findings],
    }
    if a.unknown_why:
        doc["unknown"] = a.unknown_why
    return doc


def run_check(config: Config, as_json: bool, maintenance: Maintenance | None = None) -> int:
    a = asyncio.run(one_round(config, maintenance))
    if as_json:
        print(json.dumps(check_doc(a), indent=2))
    else:
        print(summary_line(a))
        for line in detail_lines(a):
            print(line)
    return a.status.exit_code
