"""Regenerate tests/fixtures/rabbit/<state>/ from the real RabbitMQ lab (~1.5 min).

    cd /work/main && .venv/bin/python -m tests.lab.capture_rabbit [state ...]

Per node N, ``<endpoint>.nodeN.json`` is what hatui's monitor user gets from node N's management API:
``{"status": <HTTP status>, "body": <JSON, or the text when it is not JSON>}``, or
``{"error": "<httpx exception class>: <message>"}`` when the node cannot be reached (timeout 5 s).
Bodies are raw and complete (no ``?columns=``). Also rewrites tests/fixtures/rabbit/README.md
(with which health-check paths this RabbitMQ version has). Leaves the lab up and healthy.
"""
from __future__ import annotations

import concurrent.futures
import json
import sys
import time
from pathlib import Path

import httpx

from .rabbit import (
    MONITOR_PASSWORD,
    MONITOR_USER,
    NODES,
    QUEUES_PASSWORD,
    QUEUES_USER,
    Lab,
    amqp_port,
    node_name,
)

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "rabbit"

ENDPOINTS = {
    "nodes": "/api/nodes",
    "overview": "/api/overview",
    "health_alarms": "/api/health/checks/alarms",
    "health_local_alarms": "/api/health/checks/local-alarms",
    "health_quorum_critical": "/api/health/checks/node-is-quorum-critical",
}
# Probed once (healthy, node 1) for the README: which health checks this version has.
PROBED_PATHS = (
    "/api/health/checks/alarms", "/api/health/checks/local-alarms",
    "/api/health/checks/node-is-quorum-critical", "/api/health/checks/node-is-mirror-sync-critical",
    "/api/health/checks/metadata-store/initialized", "/api/health/checks/metadata-store/initialized/with-data",
    "/api/health/checks/virtual-hosts", f"/api/health/checks/port-listener/{amqp_port(1)}",
    "/api/health/checks/protocol-listener/amqp", "/api/health/checks/certificate-expiration/1/months",
    "/api/health/checks/is-in-service", "/api/health/checks/below-node-connection-limit",
    "/api/health/checks/ready-to-serve-clients", "/api/healthchecks/node", "/api/aliveness-test/%2F",
    "/api/overview", "/api/nodes", "/api/vhosts", "/api/queues", "/api/exchanges", "/api/whoami",
)

DESCRIPTIONS = {
    "healthy": "3 nodes running, clustered, no partitions, no alarms",
    "node_killed": "rabbit3 SIGKILLed; nodes 1/2 list it running=false (seen ~0.1 s after the kill); "
                   "node3 connection refused",
    "stop_app": "`rabbitmqctl stop_app` on rabbit3 (VM up, app and management listener down): nodes 1/2 "
                "list it running=false; node3 connection refused",
    "partitioned": "erlang:disconnect_node from rabbit3 to 1 and 2 (cluster_partition_handling=ignore): "
                   "node1/node2 list partitions [rabbit3], node3 lists [rabbit1, rabbit2]",
    "mem_alarm": "vm_memory_high_watermark 0.0001 on rabbit2: mem_alarm true for rabbit2 everywhere; "
                 "/api/health/checks/alarms 503 on every node, local-alarms 503 on node2 only",
    "disk_alarm": "disk_free_limit 1 PB on rabbit1: disk_free_alarm true for rabbit1; alarms 503 everywhere, "
                  "local-alarms 503 on node1 only",
    "node_frozen": "rabbit3 SIGSTOPped, captured 0.5 s later with a 3 s timeout (thawed before net_ticktime: "
                   "no partition): node3 times out on everything; on nodes 1/2 only alarms and local-alarms "
                   "answer, nodes/overview/node-is-quorum-critical wait for rabbit3 (~12 s, until it is "
                   "declared down; then they answer in ms with rabbit3 running=false)",
}


# The queue list as hatui reads it ([rabbitmq.queues], hatui.sources.rabbitmq_queues): asked of node 1 as the
# queues user, plus the monitor user's (no vhost permission: an empty list beside the cluster's count).
# Written to queues/<state>/<name>.json, each {"status", "body"} as above.
QUEUE_PREFIX = "hatui-dur-"
QUORUM = tuple(f"{QUEUE_PREFIX}qq-{i}" for i in (1, 2, 3))
STREAM, MIRRORED, CLASSIC = f"{QUEUE_PREFIX}st", f"{QUEUE_PREFIX}cm", f"{QUEUE_PREFIX}cl"
MIRROR_POLICY = "hatui-dur-ha"  # ha-mode all, ha-sync-mode manual (the default): a returning mirror stays unsynced
QUEUE_DESCRIPTIONS = {
    "healthy": f"3 quorum queues ({', '.join(QUORUM)}), a stream {STREAM}, a classic queue {MIRRORED} mirrored "
               f"on all 3 nodes (policy ha-mode all, 5 messages) and an unmirrored classic {CLASSIC}; all online",
    "node3_app_stopped": "`stop_app` on rabbit3: the quorum queues and the stream 2 of 3 online (their majority "
                         f"exactly), {MIRRORED} mirrored on rabbit2 only (synchronised)",
    "mirror_unsynced": f"rabbit3 back (its mirror of {MIRRORED} unsynchronised: ha-sync-mode manual), then "
                       f"`stop_app` on rabbit2: {MIRRORED}'s only synchronised copy is rabbit1's, quorum queues "
                       "and stream 2 of 3 online",
}


def declare_durability_queues(lab: Lab) -> None:
    """As an administrator (the harness; hatui only reads): the queues QUEUE_DESCRIPTIONS["healthy"] names."""
    lab._api_send("PUT", f"/api/policies/%2F/{MIRROR_POLICY}",
                  {"pattern": f"^{MIRRORED}$", "definition": {"ha-mode": "all"}, "apply-to": "queues", "priority": 1})
    for q, kind in [*((q, "quorum") for q in QUORUM), (STREAM, "stream"), (MIRRORED, "classic"), (CLASSIC, "classic")]:
        lab._api_send("PUT", f"/api/queues/%2F/{q}", {"durable": True, "arguments": {"x-queue-type": kind}})
    for i in range(5):
        lab._api_send("POST", "/api/exchanges/%2F/amq.default/publish",
                      {"properties": {"delivery_mode": 2}, "routing_key": MIRRORED, "payload": f"m{i}",
                       "payload_encoding": "string"})


def delete_durability_queues(lab: Lab) -> None:
    for q in (*QUORUM, STREAM, MIRRORED, CLASSIC):
        lab._api_send("DELETE", f"/api/queues/%2F/{q}")
    lab._api_send("DELETE", f"/api/policies/%2F/{MIRROR_POLICY}")


def queue_view(lab: Lab) -> dict[str, dict]:
    """Each of the durability queues as the administrator sees it now (stats mode: streams included)."""
    rows = lab.api(1, "/api/queues?columns=name,members,online,slave_nodes,synchronised_slave_nodes")
    return {q["name"]: q for q in rows if q["name"].startswith(QUEUE_PREFIX)}


def fetch_queues(state: str) -> None:
    from hatui.sources.rabbitmq_queues import QUEUES_PATH, STREAMS_PATH, TOTALS_PATH

    d = OUT / "queues" / state
    d.mkdir(parents=True, exist_ok=True)
    asks = {"queues": (QUEUES_USER, QUEUES_PASSWORD, QUEUES_PATH),
            "streams": (QUEUES_USER, QUEUES_PASSWORD, STREAMS_PATH),
            "totals": (QUEUES_USER, QUEUES_PASSWORD, TOTALS_PATH),
            "queues_monitor_user": (MONITOR_USER, MONITOR_PASSWORD, QUEUES_PATH)}
    for name, (user, password, path) in asks.items():
        with httpx.Client(auth=(user, password), timeout=5, trust_env=False,
                          headers={"Accept": "application/json"}) as client:
            data = fetch(client, 1, path)
        (d / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"queues/{state}: " + "; ".join(f"{k} {v.get('online') or v.get('synchronised_slave_nodes')}"
                                          for k, v in sorted(queue_view(Lab()).items())), flush=True)


def capture_queues(lab: Lab) -> None:
    """QUEUE_DESCRIPTIONS' states, each waited for as the administrator sees it (stats mode lags ~1 s)."""
    def online(q: str, want: int) -> bool:
        return len(queue_view(lab).get(q, {}).get("online") or []) == want

    delete_durability_queues(lab)
    declare_durability_queues(lab)
    try:
        lab.wait_for(lambda: all(online(q, 3) for q in (*QUORUM, STREAM))
                     and len(queue_view(lab)[MIRRORED].get("synchronised_slave_nodes") or []) == 2, 30,
                     "every replica online, both mirrors synchronised")
        fetch_queues("healthy")
        lab.stop_app(3)
        lab.wait_for(lambda: all(online(q, 2) for q in (*QUORUM, STREAM)), 30, "2 of 3 replicas online")
        fetch_queues("node3_app_stopped")
        lab.start_app(3)
        lab.wait_for(lambda: all(online(q, 3) for q in (*QUORUM, STREAM))
                     and len(queue_view(lab)[MIRRORED].get("slave_nodes") or []) == 2, 60, "rabbit3 back")
        lab.stop_app(2)
        lab.wait_for(lambda: all(online(q, 2) for q in (*QUORUM, STREAM))
                     and queue_view(lab)[MIRRORED].get("slave_nodes") == [node_name(3)], 30,
                     "rabbit2 gone, rabbit3's mirror left")
        fetch_queues("mirror_unsynced")
        lab.start_app(2)
    finally:
        lab.reset()
        delete_durability_queues(lab)
    lines = ["# Queue lists as hatui reads them ([rabbitmq.queues]; regenerate: "
             "`.venv/bin/python -m tests.lab.capture_rabbit queues`)", "",
             f"Node 1, user `{QUEUES_USER}` (tag `monitoring`, permissions `'' '' ''` on `/`): `queues.json` "
             "(`/api/queues?disable_stats=true&columns=...`), `streams.json` (stats mode: the streams' replicas), "
             "`totals.json` (`/api/overview?columns=object_totals`); `queues_monitor_user.json`: the same list "
             f"as `{MONITOR_USER}` (tag `monitoring`, no permission entry): empty.", ""]
    lines += [f"- `{s}/`: {text}" for s, text in QUEUE_DESCRIPTIONS.items()]
    (OUT / "queues" / "README.md").write_text("\n".join(lines) + "\n")


def fetch(client: httpx.Client, n: int, path: str) -> dict:
    try:
        r = client.get(f"http://127.0.0.1:{15671 + n}{path}")
    except httpx.HTTPError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    try:
        body = r.json()
    except ValueError:
        body = r.text
    return {"status": r.status_code, "body": body}


def fetch_all(timeout: float = 5.0) -> dict[tuple[int, str], dict]:
    """Every endpoint of every node, concurrently (a frozen node costs one timeout, not fifteen)."""
    with httpx.Client(auth=(MONITOR_USER, MONITOR_PASSWORD), timeout=timeout, trust_env=False,
                      headers={"Accept": "application/json"}) as client, \
            concurrent.futures.ThreadPoolExecutor(len(NODES) * len(ENDPOINTS)) as pool:
        futs = {(n, name): pool.submit(fetch, client, n, path) for n in NODES for name, path in ENDPOINTS.items()}
        return {key: f.result() for key, f in futs.items()}


def capture(state: str, results: dict[tuple[int, str], dict] | None = None) -> None:
    results = results if results is not None else fetch_all()
    d = OUT / state
    d.mkdir(parents=True, exist_ok=True)
    for (n, name), data in results.items():
        (d / f"{name}.node{n}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{state}: " + "; ".join(f"node{n} {brief(results, n)}" for n in NODES), flush=True)


def brief(results: dict[tuple[int, str], dict], n: int) -> str:
    r = results[(n, "nodes")]
    if "error" in r:
        return f"nodes: {r['error'][:50]}"
    if r["status"] != 200:
        return f"nodes: HTTP {r['status']}"
    out = []
    for x in r["body"]:
        flags = [f for f in ("mem_alarm", "disk_free_alarm") if x.get(f)]
        parts = [p.split("@")[0] for p in x.get("partitions") or []]
        out.append(f"{x['name'].split('@')[0]}:{'up' if x.get('running') else 'DOWN'}"
                   + (f" parts={parts}" if parts else "") + (f" {flags}" if flags else ""))
    return ", ".join(out)


def seen_down(lab: Lab, by: int, n: int) -> bool:
    return any(x["name"] == node_name(n) and not x["running"] for x in lab.api(by, "/api/nodes", timeout=5))


def probe_paths(lab: Lab) -> list[tuple[str, str, str]]:
    out = []
    with httpx.Client(timeout=5, trust_env=False) as c:
        for path in PROBED_PATHS:
            codes = []
            for auth in ((MONITOR_USER, MONITOR_PASSWORD), None):
                r = c.get(lab.url(1, path), auth=auth or lab.http.auth)
                codes.append(str(r.status_code))
            out.append((path, *codes))
    lab.http.delete(lab.url(1, "/api/queues/%2F/aliveness-test"), timeout=5)  # left by the admin probe
    return out


def write_readme(lab: Lab, version: str, erlang: str, probes: list[tuple[str, str, str]]) -> None:
    states = [s for s in DESCRIPTIONS if (OUT / s).is_dir()]
    others = sorted(p.name for p in OUT.iterdir() if p.is_dir() and p.name not in DESCRIPTIONS and p.name != "queues")
    lines = [
        "# RabbitMQ fixtures: management API as the hatui monitor user (regenerate: "
        ".venv/bin/python -m tests.lab.capture_rabbit)",
        "",
        f"RabbitMQ {version} on Erlang {erlang} (Debian 12 package), 3 nodes rabbit1..3@localhost, "
        "net_ticktime 10 s, cluster_partition_handling=ignore, collect_statistics_interval 1 s "
        "(tests/lab/rabbit.py).",
        "Per node N: `nodes|overview|health_alarms|health_local_alarms|health_quorum_critical.nodeN.json` = "
        '`{"status": <HTTP code>, "body": <JSON or text>}` or `{"error": "<httpx exception>: <message>"}`; '
        "full bodies (no `?columns=`), user `hatui-monitor` (tag `monitoring`, no vhost permissions), "
        "timeout 5 s.",
        "",
    ]
    lines += [f"- `{s}/`: {DESCRIPTIONS[s]}" for s in states]
    lines += ["- `queues/`: queue lists as `[rabbitmq.queues]` reads them (its own README)"]
    if others:
        lines += ["", "Not written by capture_rabbit (left alone): " + ", ".join(f"`{o}/`" for o in others)]
    lines += [
        "",
        f"Endpoints on {version} (node 1, healthy): HTTP status for the monitor user / for an administrator;",
        "404 = not on this version (no metadata-store checks before 4.x). The monitor user (tag `monitoring`,",
        "no vhost permissions) gets every cluster-wide endpoint and every health check with 200 (503 when",
        "the check fails, never 401/403). What it cannot do: `/api/aliveness-test/%2F` is 401, vhost-scoped",
        "lists (`/api/queues`, `/api/exchanges`) answer 200 but empty, and AMQP login is refused",
        "(530 `access to vhost '/' refused`).",
        "",
        "| path | monitor | admin |",
        "|---|---|---|",
    ]
    lines += [f"| `{p}` | {m} | {a} |" for p, m, a in probes]
    (OUT / "README.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    wanted = set(argv) or {*DESCRIPTIONS, "queues"}
    lab = Lab()
    print(lab.up(), flush=True)
    lab.reset()
    if wanted == {"queues"}:  # the queue lists alone (~20 s)
        capture_queues(lab)
        return 0
    ov = lab.api(1, "/api/overview")
    version, erlang = ov.get("rabbitmq_version", "?"), ov.get("erlang_version", "?")
    probes = probe_paths(lab)
    if "healthy" in wanted:
        capture("healthy")
    if "node_killed" in wanted:
        lab.kill(3)
        lab.wait_for(lambda: seen_down(lab, 1, 3) and seen_down(lab, 2, 3), 30, "nodes 1/2 to see rabbit3 down")
        capture("node_killed")
        lab.start(3)
    if "stop_app" in wanted:
        lab.stop_app(3)
        lab.wait_for(lambda: seen_down(lab, 1, 3) and seen_down(lab, 2, 3), 30, "nodes 1/2 to see rabbit3 down")
        capture("stop_app")
        lab.start_app(3)
    if "partitioned" in wanted:
        parts = lab.partition(3)
        if parts.get(3) != [1, 2]:
            print(f"partitioned: not the expected split, captured anyway: {parts}", file=sys.stderr)
        time.sleep(2)  # a node stats round (1 s) so every field reflects the split
        capture("partitioned")
        lab.heal()
    if "mem_alarm" in wanted:
        lab.reset()
        lab.alarm("memory", 2)
        capture("mem_alarm")
        lab.clear_alarms()
    if "disk_alarm" in wanted:
        lab.reset()
        lab.alarm("disk", 1)
        capture("disk_alarm")
        lab.clear_alarms()
    if "node_frozen" in wanted:
        lab.reset()
        lab.freeze(3)
        try:
            time.sleep(0.5)
            results = fetch_all(timeout=3)  # thawed ~3.5 s after the freeze: well before net_ticktime
        finally:
            lab.thaw(3)
        capture("node_frozen", results)
    if "queues" in wanted:
        capture_queues(lab)
    lab.reset()
    write_readme(lab, version, erlang, probes)
    print(lab.status())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
