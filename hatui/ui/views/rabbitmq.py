"""The RabbitMQ pane: one row per node with its own view of the cluster, and a cluster line.

A node's row is what that node says (running members it sees, who it is partitioned from, its
alarms, memory against its watermark) plus what the AMQP canary saw through it. When its cluster view is slow, the
last one it gave is shown with its age; when it does not answer, what its peers say of it.
"""
from __future__ import annotations

from hatui.config import Config
from hatui.model import FindingKind
from hatui.model.rabbitmq import ManagementView, NodeEntry
from hatui.model.rabbitmq_cluster import ClusterPicture
from hatui.monitor import Assessment
from hatui.ui.views.common import Cell, PaneModel, RowKey, age_cell, ms, not_configured, status_cell, worst_tone
from hatui.words import failure_cell, human_age

# Narrow on purpose (the pane may get half a terminal): details are in the findings' summaries.
COLUMNS = ("", "node", "API", "running", "partitioned", "alarm", "mem", "AMQP", "latency")
BLANK: Cell = ("", "")
# the cluster-wide findings (hatui.rules.rabbitmq) as the headline says them; the summaries say the rest
CLUSTER_WORDS = {"size": "fewer nodes than expected", "down": "no node answers", "no_majority": "no majority",
                 "partition": "partitioned", "publishers_blocked": "publishers blocked"}


def rabbit_pane(a: Assessment, config: Config) -> PaneModel:
    section = config.section("rabbitmq")
    if section is None:
        return not_configured("RabbitMQ", "rabbitmq")
    p = a.cloud.rabbitmq
    if p is None:
        return PaneModel("RabbitMQ", note="cluster state unknown: see the findings", tone="unknown")
    rows = []
    for node in section.nodes:
        word = status_cell(a.of_subject("rabbitmq", node.name))
        st = a.snapshot.get("rabbitmq", node.name)
        if st is None or st.latest is None:
            first = word if a.of_subject("rabbitmq", node.name) else ("… waiting", "dim")
            rows.append((first, (node.name, ""), ("-", "dim"), _peers_say(p, node.name), *[BLANK] * 3,
                         _canary(p, a, node.name), ("-", "dim")))
            continue
        view = p.views.get(node.name)
        age = age_cell(st.age, st.fresh)
        if view is None:
            shown = _problem(p, node.name, st)
            rows.append((word if st.fresh else ("? STALE", "stale"), (node.name, ""), shown, _peers_say(p, node.name),
                         *[BLANK] * 3, _canary(p, a, node.name), age))
            continue
        rows.append((word, (node.name, ""), ("slow" if view.nodes is None else "ok", "warning" if view.nodes
                                        is None else "ok"),
                     *_own_view(p, node.name, view), _canary(p, a, node.name),
                     (ms(st.latest.latency), "dim") if st.fresh else age))
    headline = _headline(p, a)
    tone = worst_tone(a.of_area("rabbitmq"))
    return PaneModel("RabbitMQ", tuple(headline), COLUMNS, tuple(rows), tone=tone, narrow_drop=("mem", "latency"),
                     keys=tuple(RowKey("rabbitmq", node.name) for node in section.nodes))


def _problem(p: ClusterPicture, name: str, st) -> Cell:
    if name in p.garbled:
        return f"garbled: {p.garbled[name]}", "unknown"
    if st.latest is not None and st.latest.failure is not None:
        return failure_cell(st.latest.failure.kind), "critical" if st.fresh else "stale"
    return "no fresh answer", "stale"


def _peers_say(p: ClusterPicture, name: str) -> Cell:
    """For a node that does not answer: what the answering nodes say of it."""
    erlang = p.erlang(name)
    entries = [v.entry(erlang) for v in p.cluster_views().values()] if erlang else []
    seen = [e for e in entries if e is not None]
    if not seen:
        return "?", "unknown"
    if all(e.running for e in seen):
        return "up (peers)", "dim"
    return "DOWN (peers)", "critical"


def _own_view(p: ClusterPicture, name: str, view: ManagementView) -> tuple[Cell, ...]:
    expected = p.section.size_expected
    nodes, tone = view.nodes, ""
    if nodes is None:
        if view.last_nodes is None:
            return ("?", "warning"), BLANK, BLANK, BLANK
        nodes, tone = view.last_nodes, "stale"
    running = sum(1 for e in nodes if e.running)
    down = [p.label(e.name) for e in nodes if not e.running]
    sees = f"{running}/{expected}"
    if tone == "stale" and view.last_nodes_at:
        sees += f" {human_age(p.answered_at(name) - view.last_nodes_at)} ago"
    erlang = view.node or p.erlang(name)  # its overview may be the slow part: then its known name
    me = next((e for e in nodes if e.name == erlang), None)
    return ((sees, tone or ("ok" if running >= expected and not down else "warning")),
            _partitions(p, me, tone), _alarms(me, view, tone), _memory(me, tone))


def _partitions(p: ClusterPicture, me: NodeEntry | None, tone: str) -> Cell:
    if me is None or me.partitions is None:
        return "?", "unknown" if not tone else tone
    if not me.partitions:
        return "-", tone or "dim"
    return ", ".join(p.labels(me.partitions)), tone or "critical"


def _alarms(me: NodeEntry | None, view: ManagementView, tone: str) -> Cell:
    local = view.checks.get("local-alarms")
    names = set()
    if me is not None and me.mem_alarm:
        names.add("memory")
    if me is not None and me.disk_alarm:
        names.add("disk")
    if local is not None and not local.ok:
        names |= {res for _node, res in local.alarms}
    if names:
        return " ".join(sorted(names)).upper(), tone or "critical"
    if me is None or me.mem_alarm is None:
        return "?", tone or "unknown"
    return "-", tone or "dim"


def _memory(me: NodeEntry | None, tone: str) -> Cell:
    """Memory used, as a share of the high watermark (100 %: publishers blocked)."""
    u = me.usage() if me is not None else {}
    if "memory" not in u:
        return BLANK if me is None else ("?", tone or "unknown")
    return (">999%" if u["memory"] > 9.99 else f"{u['memory']:.0%}",
            tone or ("critical" if u["memory"] >= 1 else "dim"))


def _canary(p: ClusterPicture, a: Assessment, name: str) -> Cell:
    if p.section.canary is None:
        return "-", "dim"
    st = a.snapshot.get("rabbitmq-amqp", name)
    if st is None or st.latest is None:
        return "… waiting", "dim"
    if name in p.canaries:
        c = p.canaries[name]
        if c.blocked:
            return "BLOCKED", "critical"
        return ms(c.round_trip), "ok"
    if st.latest.failure is not None:
        return failure_cell(st.latest.failure.kind), "critical" if st.fresh else "stale"
    return "no fresh answer", "stale"


def _headline(p: ClusterPicture, a: Assessment) -> list[Cell]:
    expected = p.section.size_expected
    versions = sorted({v.version for v in p.views.values() if v.version})
    head = f"{p.cluster}" + (f" (RabbitMQ {', '.join(versions)})" if versions else "")
    seen = p.majority
    spofs = [f for f in a.of_area("rabbitmq") if f.kind == FindingKind.SPOF]
    if seen is None and any(v.nodes is None for v in p.views.values()):
        cells: list[Cell] = [(f"{head}: nodes answer, their cluster views are slow", "warning")]
    elif seen is None:
        cells = [(f"{head}: no node's view of the cluster", "critical" if a.of_area("rabbitmq") else "dim")]
    else:
        running, margin = len(seen), p.margin
        assert margin is not None  # the majority is known, so is its margin
        cells = [(f"{head}: running {running}/{expected}", "ok" if running >= expected else "warning"), ("  ", "")]
        if margin > 0:
            cells.append((f"can lose {margin} node(s)", "ok"))
        elif margin == 0:
            cells.append(("cannot lose any node", "spof"))
        else:
            cells.append(("NO MAJORITY", "critical"))
    cluster_findings = a.of_subject("rabbitmq", p.cluster)
    if cluster_findings:
        cells += [("  ", ""), status_cell(cluster_findings),
                  (" " + ", ".join(CLUSTER_WORDS.get(f.condition, f.condition.replace("_", " "))
                                   for f in cluster_findings), "dim")]
    elif spofs and seen is None:
        cells += [("  ", ""), ("◆ SPOF", "spof")]
    return cells
