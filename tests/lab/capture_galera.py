"""Regenerate tests/fixtures/galera/<state>/<nodeN>.json from the real Galera lab (~1 min).

    cd /work/main && .venv/bin/python -m tests.lab.capture_galera [one_synced_desynced one_synced_alone]

Each file is what hatui would read: ``SHOW GLOBAL STATUS LIKE 'wsrep%'`` over TCP as the monitor user
(pymysql, connect/read timeout 2 s) as a JSON object {Variable_name: Value}, or
``{"error": "<pymysql exception class>: <message>"}`` when the node cannot be reached.
Also rewrites tests/fixtures/galera/README.md. Leaves the lab up and healthy.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pymysql

from .galera import CLIENT_HOST, CLIENT_PORTS, MONITOR_PASSWORD, MONITOR_USER, NODES, Lab

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "galera"
QUERY = "SHOW GLOBAL STATUS LIKE 'wsrep%'"

DESCRIPTIONS = {
    "healthy": "all 3 nodes Synced, Primary, wsrep_cluster_size 3",
    "one_killed": "node3 SIGKILLed; node1/node2 Primary at size 2; node3 connection refused",
    "two_killed": "node2 and node3 SIGKILLed together; node1 alone non-Primary (size 1, wsrep_ready OFF)",
    "isolated_node3": "iptables cut node3's gcomm/IST traffic; node3 non-Primary size 1 (client port "
                      "still answers), node1/node2 Primary at size 2",
    "thawed_stale_view": "node3 SIGSTOPped until node1/node2 dropped it (size 2), then SIGCONTed and "
                         "captured at once: node3 still reports its old view",
    "desynced_node2": "SET GLOBAL wsrep_desync=ON on node2: node2 Donor/Desynced, cluster still size 3",
    "two_nodes_clean": "node3 stopped cleanly (SIGTERM); node1/node2 Primary at size 2; node3 refused",
    "one_synced_desynced": "SET GLOBAL wsrep_desync=ON on node2 and node3: both Donor/Desynced, node1 the only "
                           "Synced node of a Primary component of 3",
    "one_synced_alone": "node2 and node3 stopped cleanly (SIGTERM): node1 alone, Primary at size 1, Synced; "
                        "node2/node3 refused",
}
# states capture_durability() writes; `capture_galera <state> ...` captures only those named (and updates their
# README lines), leaving the other states' files as they are
DURABILITY = ("one_synced_desynced", "one_synced_alone")


def connect(n: int, timeout: float = 2.0) -> pymysql.connections.Connection:
    return pymysql.connect(host=CLIENT_HOST, port=CLIENT_PORTS[n], user=MONITOR_USER,
                           password=MONITOR_PASSWORD, connect_timeout=timeout, read_timeout=timeout,
                           write_timeout=timeout)


def query(conn) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute(QUERY)
        return {str(k): str(v) for k, v in cur.fetchall()}


def fetch(n: int) -> dict[str, str]:
    try:
        conn = connect(n)
        try:
            return query(conn)
        finally:
            conn.close()
    except pymysql.MySQLError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def save(state: str, results: dict[int, dict[str, str]]) -> None:
    d = OUT / state
    d.mkdir(parents=True, exist_ok=True)
    for n, data in results.items():
        (d / f"node{n}.json").write_text(json.dumps(data, indent=1) + "\n")
    print(f"{state}: " + "; ".join(f"node{n} {brief(r)}" for n, r in results.items()), flush=True)


def brief(r: dict[str, str]) -> str:
    if "error" in r:
        return r["error"][:60]
    return (f"{r['wsrep_local_state_comment']} {r['wsrep_cluster_status']} size={r['wsrep_cluster_size']} "
            f"conf_id={r['wsrep_cluster_conf_id']}")


def capture(state: str) -> None:
    save(state, {n: fetch(n) for n in NODES})


def size(value: str):
    return lambda s: s["wsrep_cluster_size"] == value


def healthy(s) -> bool:
    return s["wsrep_cluster_size"] == "3" and s["wsrep_local_state_comment"] == "Synced"


def thawed_stale_view(lab: Lab) -> tuple[bool, str]:
    """Freeze node3 until the others drop it, thaw it and read all three as fast as possible."""
    lab.freeze(3)
    lab.wait_for(size("2"), nodes=(1, 2), timeout=20)
    time.sleep(0.5)
    conns = {n: connect(n) for n in (1, 2)}
    got: dict[int, dict[str, str]] = {}
    at: dict[int, float] = {}

    def node3() -> None:
        # the kernel accepts the TCP connection of a frozen server; the greeting comes once it runs again
        try:
            conn = connect(3, timeout=5)
            try:
                got[3] = query(conn)
            finally:
                conn.close()
        except pymysql.MySQLError as exc:
            got[3] = {"error": f"{type(exc).__name__}: {exc}"}
        at[3] = time.monotonic()

    t = threading.Thread(target=node3)
    t.start()
    time.sleep(0.2)  # let the thread's connect land in the listen queue
    t0 = time.monotonic()
    lab.thaw(3)
    t.join(10)
    for n in (1, 2):
        got[n] = query(conns[n])
        at[n] = time.monotonic()
        conns[n].close()
    offsets = ", ".join(f"node{n} +{(at[n] - t0) * 1000:.0f} ms" for n in sorted(at))
    stale = ("error" not in got[3] and got[3]["wsrep_cluster_size"] == "3"
             and got[1]["wsrep_cluster_size"] == "2")
    print(f"thawed_stale_view attempt: node3 {brief(got[3])} ({offsets})", flush=True)
    if stale:
        save("thawed_stale_view", dict(sorted(got.items())))
    return stale, f"read after SIGCONT: {offsets}"


def capture_durability(lab: Lab, wanted: tuple[str, ...] = DURABILITY) -> None:
    """One Synced node left: the other two desynced, then the other two stopped cleanly."""
    if "one_synced_desynced" in wanted:
        lab.desync(2)
        lab.desync(3)
        lab.wait_for(lambda s: s["wsrep_local_state_comment"] == "Donor/Desynced", nodes=(2, 3), timeout=10)
        capture("one_synced_desynced")
        lab.desync(2, False)
        lab.desync(3, False)
        lab.wait_for(healthy, timeout=30)
    if "one_synced_alone" in wanted:
        lab.stop(3)
        lab.stop(2)
        lab.wait_for(size("1"), nodes=(1,), timeout=20)
        capture("one_synced_alone")
        lab.start(2)
        lab.start(3)
        lab.wait_for(healthy, timeout=60)


def _readme_line(state: str, note: str = "") -> str:
    return f"- `{state}/`: {DESCRIPTIONS[state]}" + (f" ({note})" if note else "")


def main(argv: list[str] | None = None) -> int:
    wanted = tuple(argv or ())
    if wanted:  # only these durability states: the README keeps every other line as it is
        unknown = [s for s in wanted if s not in DURABILITY]
        if unknown:
            print(f"only these states can be captured alone: {', '.join(DURABILITY)}", file=sys.stderr)
            return 2
        lab = Lab()
        lab.up()
        capture_durability(lab, wanted)
        lab.reset()
        readme = OUT / "README.md"
        lines = readme.read_text().splitlines()
        for state in wanted:
            new = _readme_line(state)
            at = next((i for i, x in enumerate(lines) if x.startswith(f"- `{state}/`")), None)
            if at is None:
                lines.append(new)
            else:
                lines[at] = new
        readme.write_text("\n".join(lines) + "\n")
        return 0
    lab = Lab()
    notes: dict[str, str] = {}
    lab.up()
    capture("healthy")

    lab.kill(3)
    lab.wait_for(size("2"), nodes=(1, 2), timeout=20)
    capture("one_killed")
    lab.start(3)

    lab.kill(2)
    lab.kill(3)
    lab.wait_for(lambda s: s["wsrep_cluster_status"] != "Primary", nodes=(1,), timeout=20)
    capture("two_killed")
    lab.up()

    lab.isolate(3)
    lab.wait_for(size("2"), nodes=(1, 2), timeout=20)
    lab.wait_for(lambda s: s["wsrep_cluster_status"] != "Primary" and s["wsrep_cluster_size"] == "1",
                 nodes=(3,), timeout=20)
    time.sleep(0.5)
    capture("isolated_node3")
    lab.heal()
    lab.wait_for(healthy, timeout=60)

    # node3 usually still shows its old Primary size-3 view for a while after SIGCONT, but sometimes
    # (seen ~1 in 5, e.g. right after a partition was healed) it is already non-Primary at +4 ms: retry
    for attempt in range(1, 6):
        caught, note = thawed_stale_view(lab)
        lab.wait_for(healthy, timeout=60)
        if caught:
            notes["thawed_stale_view"] = f"{note}; attempt {attempt}"
            break
    else:
        notes["thawed_stale_view"] = "NOT CAUGHT in 5 attempts: files are from an earlier run"
        print("WARNING: stale view not caught", file=sys.stderr)

    lab.desync(2)
    lab.wait_for(lambda s: s["wsrep_local_state_comment"] == "Donor/Desynced", nodes=(2,), timeout=10)
    capture("desynced_node2")
    lab.desync(2, False)

    lab.stop(3)
    lab.wait_for(size("2"), nodes=(1, 2), timeout=20)
    capture("two_nodes_clean")
    lab.reset()

    capture_durability(lab)

    lab.reset()
    lines = ["# Galera fixtures: SHOW GLOBAL STATUS LIKE 'wsrep%' per node as the hatui monitor user "
             "(regenerate: .venv/bin/python -m tests.lab.capture_galera)", ""]
    for state in DESCRIPTIONS:
        lines.append(_readme_line(state, notes.get(state, "")))
    (OUT / "README.md").write_text("\n".join(lines) + "\n")
    print(notes.get("thawed_stale_view", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
