"""The Galera pane: one row per node, and a headline with the cluster's quorum margin."""
from __future__ import annotations

from hatui.config import Config
from hatui.model import FindingKind
from hatui.monitor import Assessment
from hatui.ui.views.common import PaneModel, RowKey, age_cell, ms, not_configured, status_cell, worst_tone
from hatui.words import failure_words


def galera_pane(a: Assessment, config: Config) -> PaneModel:
    section = config.galera
    if section is None:
        return not_configured("Galera", "galera")
    rows = []
    cluster = a.cloud.galera
    for node in section.nodes:
        st = a.snapshot.get("galera", node.name)
        findings = a.of_subject("galera", node.name)
        word = status_cell(findings)
        if st is None or st.latest is None:
            rows.append((("… waiting", "dim"), (node.name, ""), ("-", "dim"), ("", ""), ("", ""), ("", ""),
                         ("", ""), ("", ""), ("-", "dim")))
            continue
        obs = st.latest
        age = age_cell(st.age, st.fresh)
        if not obs.ok:
            rows.append((word, (node.name, ""), (failure_words(obs.failure), "critical"), ("", ""), ("", ""), ("", ""),
                         ("", ""), ("", ""), ("-", "dim") if st.fresh else age))  # no answer: no latency
            continue
        if st.garbled is not None or st.value is None:
            rows.append((word, (node.name, ""), (f"garbled: {st.garbled}", "unknown"), ("", ""), ("", ""), ("", ""),
                         ("", ""), ("", ""), (ms(obs.latency), "dim") if st.fresh else age))
            continue
        s = st.value
        tone = "stale" if not st.fresh else ""
        rows.append((
            word if st.fresh else ("? STALE", "stale"),
            (node.name, ""),
            (s.cluster_status, tone or ("ok" if s.is_primary else "critical")),
            (s.state_comment or str(s.local_state), tone or ("ok" if s.is_synced else "warning")),
            (f"{s.cluster_size}/{section.size_expected}",
             tone or ("ok" if s.cluster_size >= section.size_expected else "warning")),
            (str(s.conf_id) if 0 <= s.conf_id < 2**63 else "-", tone),  # non-Primary: -1 (as 2**64 - 1)
            ("ready" if s.ready else "NOT READY", tone or ("ok" if s.ready else "critical")),
            (f"{s.recv_queue}/{s.send_queue}" + (f" fc{s.fc_sent}" if s.fc_sent else ""), tone),
            age if not st.fresh else (ms(obs.latency), "dim"),
        ))
    cluster_findings = a.of_subject("galera", section.name)
    spofs = [f for f in a.of_area("galera") if f.kind == FindingKind.SPOF]
    if cluster is not None and cluster.size is not None:
        size, margin = cluster.size, cluster.margin
        whole = size >= section.size_expected and not cluster.gone
        headline = [(f"{section.name}: Primary {size}/{section.size_expected}", "ok" if whole else "warning")]
        if cluster.gone:  # Galera has not dropped them yet; hatui sees them fail
            headline += [("  ", ""), (f"{', '.join(cluster.gone)} gone", "critical")]
        headline += [("  ", ""),
                     (f"can lose {margin} node(s)" if margin else
                      "cannot lose any node" if set(cluster.critical) >= set(cluster.members) else
                      f"cannot lose {', '.join(cluster.critical)}", "ok" if margin else "spof")]
    else:
        headline = [(f"{section.name}: no Primary component seen", "critical" if a.of_area("galera") else "dim")]
    if cluster_findings:
        headline += [("  ", ""), status_cell(cluster_findings)]
    tone = worst_tone(a.of_area("galera"))
    if spofs and tone == "ok":
        tone = "spof"
    return PaneModel("Galera", tuple(headline),
                     ("", "node", "component", "state", "size", "conf", "ready", "queue r/s", "latency"),
                     tuple(rows), tone=tone, narrow_drop=("conf", "queue r/s"),
                     keys=tuple(RowKey("galera", node.name) for node in section.nodes))

