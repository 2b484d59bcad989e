"""A real 3-node MariaDB Galera cluster on loopback, with real faults.

    python -m tests.lab up galera | status galera | down galera

Layout (everything under ``LAB_BASE/galera``, default /tmp/hatui-lab/galera):
``nodeN/{my.cnf,data/,tmp/,mysqld.sock,mariadbd.pid,error.log,stdout.log}``.
Node N: clients on 127.0.0.1:1330(5+N); galera traffic on its own loopback IP 127.0.0.N
(gcomm 1456(6+N), IST 1457(6+N), SST 1444(6+N)) so that iptables can cut one node off.
Root: unix socket (unix_socket auth as OS root). Monitor account for hatui: ``MONITOR_USER`` /
``MONITOR_PASSWORD`` with USAGE only (enough for SHOW GLOBAL STATUS/VARIABLES).
mariadbd runs as OS user mysql in its own session (setsid), so it outlives the caller.
SST is rsync (the mariabackup binary is not installed); EVS timeouts are shortened so that a dead
or frozen node is dropped from the view in ~3 s instead of ~15 s.

Gotchas carried over from the reference recipe (../shared/lab/galera):
- pid files may be stale: a pid is only trusted when /proc/PID/cmdline is mariadbd with this node's
  --defaults-file;
- after a crash Galera refuses to bootstrap unless grastate.dat says safe_to_bootstrap: 1;
- a frozen (SIGSTOP) node accepts TCP connections in the kernel but never answers: every client
  call here has a read timeout, and status_vars() does not even try a frozen node;
- isolate() needs the distinct per-node IPs: galera binds its outgoing gcomm sockets to
  gmcast.listen_addr, so a node's traffic is recognisable by IP.

Measured on this machine (2 cores shared with the other labs, Debian 12, MariaDB 10.11.19,
galera-4 26.4.23), 2026-11-25:
  up() from nothing (install db, bootstrap node1, 2 rsync SSTs):  9.9-13.7 s (once 20.6 s under load)
  up() after down() (datadirs kept, no transfer):                  7.4-8.3 s
  reset() when already healthy:                                    7-17 ms (median 8 ms, n=40)
  kill(3) -> node1 and node2 report wsrep_cluster_size 2:          1.6-3.0 s (median ~2.6 s)
  stop(3) (clean) -> survivors size 2:                             0.1 s
  start(3) after kill (IST) -> Synced:                             4.5-5.6 s
  kill(2)+kill(3) -> node1 non-Primary: 2.7-2.9 s; up() repair from there (pc.bootstrap, 2 joins): 11-17 s
  freeze(3) -> survivors size 2: ~3.0 s; thaw -> all Synced size 3: ~5.6 s
  isolate(3) -> node3 non-Primary and survivors size 2: ~3.0 s; heal -> all Synced size 3: ~4.5 s
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pymysql

from .common import LAB_BASE, LabError, pid_alive, read_pid, run

MONITOR_USER = "hatui"
MONITOR_PASSWORD = "hatui-lab-monitor-pw"

NODES = (1, 2, 3)
CLIENT_HOST = "127.0.0.1"
CLIENT_PORTS = {1: 13306, 2: 13307, 3: 13308}
GCOMM_IPS = {n: f"127.0.0.{n}" for n in NODES}
GCOMM_PORTS = {1: 14567, 2: 14568, 3: 14569}
IST_PORTS = {1: 14577, 2: 14578, 3: 14579}
SST_PORTS = {1: 14447, 2: 14448, 3: 14449}
BASE = LAB_BASE / "galera"
CLUSTER_NAME = "hatui-lab"
OS_USER = "mysql"
MARIADBD = "/usr/sbin/mariadbd"
PROVIDER = "/usr/lib/galera/libgalera_smm.so"
# Galera defaults: keepalive PT1S, suspect PT5S, inactive PT15S, install PT7.5S, peer_timeout PT3S.
EVS = ("evs.keepalive_period=PT0.5S;evs.inactive_check_period=PT0.5S;evs.suspect_timeout=PT1.5S;"
       "evs.inactive_timeout=PT3S;evs.install_timeout=PT3S;gmcast.peer_timeout=PT2S")
IPT_TAG = "hatui-lab-galera"

START_TIMEOUT = 120.0  # one node from launch to Synced (an rsync SST included)
STOP_TIMEOUT = 60.0


class Lab:
    """The Galera lab. All methods are synchronous and bounded by timeouts."""

    def __init__(self, base: Path | str = BASE):
        self.base = Path(base)
        self._lock_depth = 0

    @contextlib.contextmanager
    def _lock(self, timeout: float = 300.0):
        """Serialise up()/start()/down() between processes (the openstack lab, tests, a person at a shell)."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self.base.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.base / "lab.lock", os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LabError(f"another process held {self.base / 'lab.lock'} for {timeout:.0f}s") from None
                    time.sleep(0.1)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ paths and addresses
    @staticmethod
    def name(n: int) -> str:
        return f"node{n}"

    def dir(self, n: int) -> Path:
        return self.base / f"node{n}"

    def cnf(self, n: int) -> Path:
        return self.dir(n) / "my.cnf"

    def sock(self, n: int) -> Path:
        return self.dir(n) / "mysqld.sock"

    def pidfile(self, n: int) -> Path:
        return self.dir(n) / "mariadbd.pid"

    def errlog(self, n: int) -> Path:
        return self.dir(n) / "error.log"

    def datadir(self, n: int) -> Path:
        return self.dir(n) / "data"

    def nodes(self) -> list[tuple[str, str, int]]:
        """Client address of every node: [(name, host, port)]."""
        return [(self.name(n), CLIENT_HOST, CLIENT_PORTS[n]) for n in NODES]

    def tail(self, n: int, lines: int = 15) -> str:
        try:
            text = self.errlog(n).read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return f"(no {self.errlog(n)})"
        return f"tail of {self.errlog(n)}:\n  " + "\n  ".join(text)

    # ------------------------------------------------------------------ processes
    def _is_ours(self, pid: int, n: int) -> bool:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return (os.path.basename(argv[0].decode(errors="replace")) in ("mariadbd", "mysqld")
                and f"--defaults-file={self.cnf(n)}".encode() in argv and pid_alive(pid))

    def pid(self, n: int) -> int | None:
        """PID of node n's mariadbd if it really runs (pid file checked against /proc, else /proc scanned)."""
        pid = read_pid(self.pidfile(n))
        if pid and self._is_ours(pid, n):
            return pid
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and self._is_ours(int(entry.name), n):
                return int(entry.name)
        return None

    @staticmethod
    def _frozen(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(") ", 1)[1][0] in "Tt"
        except (OSError, IndexError):
            return False

    def frozen(self, n: int) -> bool:
        pid = self.pid(n)
        return bool(pid and self._frozen(pid))

    def _signal(self, n: int, sig: int) -> int:
        pid = self.pid(n)
        if pid is None:
            raise LabError(f"{self.name(n)} is not running")
        os.kill(pid, sig)
        return pid

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.05)
        return not pid_alive(pid)

    # ------------------------------------------------------------------ config and launch
    def _write_cnf(self, n: int) -> None:
        d = self.dir(n)
        gcomm = ",".join(f"{GCOMM_IPS[i]}:{GCOMM_PORTS[i]}" for i in NODES)
        ip = GCOMM_IPS[n]
        self.cnf(n).write_text(f"""[mysqld]
datadir={d}/data
socket={self.sock(n)}
pid-file={self.pidfile(n)}
log-error={self.errlog(n)}
tmpdir={d}/tmp
bind-address={CLIENT_HOST}
port={CLIENT_PORTS[n]}
skip-name-resolve
skip-log-bin
performance_schema=OFF
# memory trim (~85 MB RSS per node)
innodb_buffer_pool_size=8M
innodb_log_file_size=16M
innodb_log_buffer_size=2M
key_buffer_size=1M
aria_pagecache_buffer_size=1M
query_cache_size=0
innodb_autoinc_lock_mode=2
binlog_format=ROW
default_storage_engine=InnoDB
max_connections=50
wsrep_on=ON
wsrep_provider={PROVIDER}
wsrep_cluster_name={CLUSTER_NAME}
wsrep_cluster_address=gcomm://{gcomm}
wsrep_node_name={self.name(n)}
wsrep_node_address={ip}
wsrep_node_incoming_address={CLIENT_HOST}:{CLIENT_PORTS[n]}
wsrep_sst_method=rsync
wsrep_sst_receive_address={ip}:{SST_PORTS[n]}
wsrep_provider_options="gmcast.listen_addr=tcp://{ip}:{GCOMM_PORTS[n]};ist.recv_addr={ip}:{IST_PORTS[n]};gcache.size=32M;{EVS}"
wsrep_slave_threads=1

[sst]
""")

    def _prepare(self, n: int) -> None:
        d = self.dir(n)
        (d / "data").mkdir(parents=True, exist_ok=True)
        (d / "tmp").mkdir(parents=True, exist_ok=True)
        self._write_cnf(n)
        run(["chown", "-R", f"{OS_USER}:", str(d)], timeout=30)

    def _init_datadir(self, n: int) -> None:
        self._prepare(n)
        log = self.dir(n) / "install.log"
        with open(log, "w") as out:
            proc = subprocess.run(
                ["mariadb-install-db", f"--defaults-file={self.cnf(n)}", f"--user={OS_USER}",
                 "--skip-test-db", "--auth-root-authentication-method=socket"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=120)
        if proc.returncode != 0:
            raise LabError(f"mariadb-install-db for {self.name(n)} failed ({proc.returncode}): "
                           + log.read_text(errors="replace")[-1500:])

    def _launch(self, n: int, *extra: str) -> None:
        """Start mariadbd for node n in its own session (setsid -f: reparented away from us)."""
        self._prepare(n)
        self.pidfile(n).unlink(missing_ok=True)
        with open(self.dir(n) / "stdout.log", "ab") as out:
            subprocess.run(
                ["setsid", "-f", MARIADBD, f"--defaults-file={self.cnf(n)}", f"--user={OS_USER}", *extra],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=10, check=True)

    def _set_safe_to_bootstrap(self, n: int) -> None:
        gs = self.datadir(n) / "grastate.dat"
        if gs.exists():
            gs.write_text(re.sub(r"(?m)^safe_to_bootstrap:\s*0", "safe_to_bootstrap: 1", gs.read_text()))

    def _grastate(self, n: int) -> tuple[int, bool]:
        """(seqno, safe_to_bootstrap) from node n's grastate.dat; (-2, False) when there is none."""
        try:
            text = (self.datadir(n) / "grastate.dat").read_text()
        except OSError:
            return -2, False
        seq = re.search(r"(?m)^seqno:\s*(-?\d+)", text)
        safe = re.search(r"(?m)^safe_to_bootstrap:\s*1", text)
        return (int(seq.group(1)) if seq else -1), bool(safe)

    # ------------------------------------------------------------------ SQL
    def _root(self, n: int, timeout: float = 3.0) -> pymysql.connections.Connection:
        return pymysql.connect(unix_socket=str(self.sock(n)), user="root", connect_timeout=timeout,
                               read_timeout=timeout, write_timeout=timeout, autocommit=True,
                               ssl_disabled=True)

    def sql(self, n: int, statement: str, timeout: float = 10.0) -> list[tuple]:
        """Run one statement on node n as root (unix socket); returns the rows."""
        conn = self._root(n, timeout)
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                return list(cur.fetchall())
        finally:
            conn.close()

    def status_vars(self, n: int, timeout: float = 2.0) -> dict[str, str] | None:
        """SHOW GLOBAL STATUS LIKE 'wsrep%' on node n as root; None if it is down, frozen or not answering."""
        pid = self.pid(n)
        if pid is None or self._frozen(pid) or not self.sock(n).exists():
            return None
        try:
            rows = self.sql(n, "SHOW GLOBAL STATUS LIKE 'wsrep%'", timeout)
        except (pymysql.MySQLError, OSError):
            return None
        return {str(k): str(v) for k, v in rows}

    def wait_for(self, pred: Callable[[dict[str, str] | None], object], nodes: Iterable[int] = NODES,
                 timeout: float = 30.0, what: str = "condition") -> dict[int, dict[str, str] | None]:
        """Poll until ``pred(status_vars(n))`` is true for every n in ``nodes`` (each node may be satisfied
        at a different moment; it is not re-checked afterwards). ``pred`` gets None for a down/frozen node;
        an exception in ``pred`` counts as false. Returns {n: the status that satisfied pred}.

        Example: ``lab.wait_for(lambda s: s["wsrep_cluster_size"] == "2", nodes=(1, 2), timeout=15)``.
        """
        todo, done = list(nodes), {}
        last: dict[int, dict[str, str] | None] = {}
        deadline = time.monotonic() + timeout
        while True:
            for n in list(todo):
                s = self.status_vars(n)
                last[n] = s
                try:
                    ok = pred(s)
                except Exception:  # noqa: BLE001 - e.g. None["..."] for a down node
                    ok = False
                if ok:
                    done[n] = s
                    todo.remove(n)
            if not todo:
                return done
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        seen = "; ".join(f"{self.name(n)}: {_brief(last.get(n))}" for n in todo)
        raise LabError(f"timed out after {timeout:.0f}s waiting for {what} on {seen}\n"
                       + "\n".join(self.tail(n) for n in todo))

    def _wait_synced(self, n: int, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        launched = time.monotonic()
        while time.monotonic() < deadline:
            pid = self.pid(n)
            if pid is None and time.monotonic() - launched > 3:
                raise LabError(f"{self.name(n)} exited while starting\n{self.tail(n)}")
            s = self.status_vars(n) if pid else None
            if _primary(s) and s.get("wsrep_local_state_comment") == "Synced":
                return
            time.sleep(0.2)
        raise LabError(f"{self.name(n)} not Synced after {timeout:.0f}s: {_brief(self.status_vars(n))}\n"
                       f"{self.tail(n)}")

    def _ensure_monitor_user(self, n: int) -> None:
        self.sql(n, f"CREATE USER IF NOT EXISTS '{MONITOR_USER}'@'%' IDENTIFIED BY '{MONITOR_PASSWORD}'")
        self.sql(n, f"GRANT USAGE ON *.* TO '{MONITOR_USER}'@'%'")

    # ------------------------------------------------------------------ lifecycle
    def up(self) -> str:
        """Idempotent: leave all 3 nodes running, Synced, size 3, in the default state (no partition,
        nobody frozen, no desync). Bootstraps from nothing, starts missing nodes, or repairs a cluster
        that lost its Primary component."""
        with self._lock():
            return self._up()

    def _up(self) -> str:
        t0 = time.monotonic()
        self.heal()
        for n in NODES:
            pid = self.pid(n)
            if pid and self._frozen(pid):
                os.kill(pid, signal.SIGCONT)
        running = [n for n in NODES if self.pid(n)]
        self._log(f"up: running={running}")
        if not running:
            self._bootstrap_from_stopped()
        else:
            # a node just launched (or just thawed/healed) may need a moment to answer / re-merge
            states = self._settle(running, timeout=8)
            for n, s in states.items():
                if s and s.get("wsrep_desync_count", "0") != "0":
                    self.desync(n, False)
            if any(_nil_group(s) for s in states.values()):
                # Seen after a full re-merge with "No node with complete state" (Galera 4.23): a Primary
                # whose group UUID is nil; a joiner then stays Synced at size 0 whatever is restarted.
                self._log("up: nil group UUID, the whole cluster again from its most advanced node")
                self._rebuild_cluster()
            elif not any(_primary(s) for s in states.values()):
                self._repair(states)
        try:
            self._start_missing()
            self._wait_all_synced(timeout=45)
        except LabError as exc:
            # Someone is stuck outside the Primary component: restart it as a joiner. A Synced node of the
            # Primary component stays (even at size < 3: it is what the others join); with none left
            # there is nothing to join, and the cluster is built again.
            self._log(f"up: not converging, restarting the stragglers: {exc}")
            try:
                for n in NODES:
                    s = self.status_vars(n)
                    if not (_primary(s) and not _nil_group(s) and s.get("wsrep_local_state_comment") == "Synced"):
                        self.stop(n)
                if not any(self.pid(n) for n in NODES):
                    raise LabError("no Synced node of a Primary component left to join")
                self._start_missing()
                self._wait_all_synced(timeout=60)
            except LabError as again:
                self._log(f"up: still not converging, the whole cluster again: {again}")
                self._rebuild_cluster()
                self._start_missing()
                self._wait_all_synced(timeout=60)
        self._defaults()
        self._log(f"up: done in {time.monotonic() - t0:.1f}s")
        return f"3 nodes Synced, size 3 ({time.monotonic() - t0:.1f}s)"

    def _log(self, msg: str) -> None:
        now = time.time()
        with open(self.base / "lab.log", "a") as f:
            f.write(f"{time.strftime('%H:%M:%S', time.localtime(now))}.{int(now * 1000) % 1000:03d} {msg}\n")

    def _settle(self, running: list[int], timeout: float) -> dict[int, dict[str, str] | None]:
        """Status of the running nodes. Without a Primary among them, wait up to ``timeout`` while some
        node does not answer yet (starting), or briefly when all three run (they may re-merge)."""
        start = time.monotonic()
        while True:
            states = {n: self.status_vars(n) for n in running}
            waited = time.monotonic() - start
            if any(_primary(s) for s in states.values()) or waited >= timeout:
                return states
            if all(states.values()) and (len(running) < len(NODES) or waited >= 3):
                return states
            time.sleep(0.2)

    def _repair(self, states: dict[int, dict[str, str] | None]) -> None:
        """Running nodes but no Primary component (e.g. two nodes were killed)."""
        answering = {n: s for n, s in states.items() if s}
        if answering:
            best = max(answering, key=lambda n: (int(answering[n].get("wsrep_last_committed") or -1), -n))
            try:
                self._log(f"repair: pc.bootstrap on {self.name(best)}")
                self.sql(best, "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'")
                self.wait_for(_primary, nodes=[best], timeout=10, what="Primary after pc.bootstrap")
                # the other running non-Primary nodes re-merge on their own, or get restarted by up()
                return
            except (LabError, pymysql.MySQLError, OSError):
                pass
        self._log("repair: stopping everything")
        self._rebuild_cluster()

    def _rebuild_cluster(self) -> None:
        """Every node stopped cleanly, then a new cluster bootstrapped from the most advanced one."""
        for n in reversed(NODES):
            self.stop(n)
        self._bootstrap_from_stopped()

    def _bootstrap_from_stopped(self) -> None:
        if not (self.datadir(1) / "mysql").is_dir() and not any(
                (self.datadir(n) / "mysql").is_dir() for n in NODES):
            self._init_datadir(1)
            first = 1
        else:
            # most advanced node by seqno; ties: safe_to_bootstrap, then the lowest number
            candidates = [n for n in NODES if (self.datadir(n) / "mysql").is_dir()]
            pos = {n: self._grastate(n) for n in candidates}
            if len(candidates) > 1 and all(seq < 0 for seq, _ in pos.values()):
                # every node crashed (seqno -1 in grastate.dat): ask InnoDB, as galera_recovery does
                pos = {n: (self._recover_seqno(n), safe) for n, (_, safe) in pos.items()}
                self._log(f"recovered positions: {pos}")
            first = max(candidates, key=lambda n: (*pos[n], -n))
        self._log(f"bootstrap {self.name(first)} grastate={self._grastate(first)}")
        self._set_safe_to_bootstrap(first)
        self._launch(first, "--wsrep-new-cluster")
        self._wait_synced(first, timeout=60)
        self._ensure_monitor_user(first)

    def _recover_seqno(self, n: int) -> int:
        """mariadbd --wsrep-recover: the last committed seqno InnoDB knows of (-1 if unknown)."""
        self._prepare(n)
        log = self.errlog(n)
        before = log.stat().st_size if log.exists() else 0
        with open(self.dir(n) / "stdout.log", "ab") as out:
            subprocess.run([MARIADBD, f"--defaults-file={self.cnf(n)}", f"--user={OS_USER}", "--wsrep-recover"],
                           stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=120)
        with open(log, "rb") as f:
            f.seek(before)
            found = re.findall(rb"Recovered position:\s*[0-9a-f-]+:(-?\d+)", f.read())
        return int(found[-1]) if found else -1

    def _start_missing(self) -> None:
        for n in NODES:
            if self.pid(n) is None:
                self._log(f"start {self.name(n)}")
                self._launch(n)
                self._wait_synced(n)
                self._log(f"{self.name(n)} Synced")

    def _wait_all_synced(self, timeout: float) -> None:
        self.wait_for(_healthy, NODES, timeout, what="Synced, Primary, size 3")

    def _defaults(self) -> None:
        """Default state on a running healthy cluster: monitor user present, no desync."""
        for n in NODES:
            if self.sql(n, "SELECT @@global.wsrep_desync")[0][0]:
                self.desync(n, False)
        if not self.sql(1, f"SELECT 1 FROM mysql.user WHERE user='{MONITOR_USER}'"):
            self._ensure_monitor_user(1)

    def reset(self) -> None:
        """Back to the healthy 3-node default state; a few ms when already there."""
        if self._is_default():
            return
        self.up()

    def _is_default(self) -> bool:
        if self._tagged_rules():
            return False
        for n in NODES:
            pid = self.pid(n)
            if pid is None or self._frozen(pid) or not self.sock(n).exists():
                return False
            try:
                conn = self._root(n, 2.0)
                try:
                    with conn.cursor() as cur:
                        cur.execute("SHOW GLOBAL STATUS LIKE 'wsrep%'")
                        s = {str(k): str(v) for k, v in cur.fetchall()}
                        cur.execute("SELECT @@global.wsrep_desync")
                        desync = cur.fetchone()[0]
                finally:
                    conn.close()
            except (pymysql.MySQLError, OSError):
                return False
            if not _healthy(s) or desync:
                return False
        return True

    def down(self, wipe: bool = False) -> str:
        """Stop every node cleanly (node1 last, so it is safe_to_bootstrap); wipe deletes the base dir."""
        if not self.base.exists():
            return "not set up"
        with self._lock():
            self.heal()
            for n in reversed(NODES):
                self.stop(n)
            if wipe:
                shutil.rmtree(self.base)
        return "stopped" + (f", {self.base} wiped" if wipe else "")

    def status(self) -> str:
        lines = []
        for n in NODES:
            pid = self.pid(n)
            head = f"{self.name(n)} {CLIENT_HOST}:{CLIENT_PORTS[n]}"
            if pid is None:
                lines.append(f"{head} down")
            elif self._frozen(pid):
                lines.append(f"{head} pid={pid} FROZEN (SIGSTOP)")
            else:
                lines.append(f"{head} pid={pid} {_brief(self.status_vars(n))}")
        rules = self._tagged_rules()
        if rules:
            lines.append(f"iptables: {len(rules)} {IPT_TAG} rule(s) (partition active)")
        return "\n".join(lines)

    # ------------------------------------------------------------------ faults
    def kill(self, n: int) -> None:
        """SIGKILL (crash) node n; returns once the process is gone."""
        pid = self._signal(n, signal.SIGKILL)
        if not self._wait_gone(pid, 10):
            raise LabError(f"{self.name(n)} pid {pid} survived SIGKILL")

    def freeze(self, n: int) -> None:
        """SIGSTOP node n (hung process: TCP connects succeed, nothing answers), and wait until the kernel
        has stopped it (the signal is delivered asynchronously: CI once read it still running)."""
        pid = self._signal(n, signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while not self._frozen(pid) and time.monotonic() < deadline:
            time.sleep(0.01)

    def thaw(self, n: int) -> None:
        self._signal(n, signal.SIGCONT)

    def stop(self, n: int, timeout: float = STOP_TIMEOUT) -> None:
        """Clean shutdown (SIGTERM) of node n and wait; SIGKILL if it does not stop in time. No-op if down."""
        pid = self.pid(n)
        if pid is None:
            return
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGTERM)
        if not self._wait_gone(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            self._wait_gone(pid, 10)
            raise LabError(f"{self.name(n)} pid {pid} ignored SIGTERM for {timeout:.0f}s, killed\n"
                           + self.tail(n))

    def start(self, n: int, wait: bool = True, timeout: float = START_TIMEOUT) -> None:
        """(Re)start node n as a joiner; with wait, until it is Synced. Needs a Primary component to join
        (after losing quorum use up())."""
        with self._lock():
            if self.pid(n) is None:
                if not any(_primary(self.status_vars(i)) for i in NODES if i != n):
                    raise LabError(f"cannot start {self.name(n)}: no other node is in a Primary component; "
                                   "use up()")
                self._launch(n)
        if wait:
            self._wait_synced(n, timeout)

    def isolate(self, n: int) -> None:
        """Cut node n's galera traffic (gcomm + IST, both directions) with tagged iptables DROP rules;
        client ports stay reachable."""
        ports = ",".join(str(p) for p in (*GCOMM_PORTS.values(), *IST_PORTS.values()))
        ip = GCOMM_IPS[n]
        for direction in ("-s", "-d"):
            run(["iptables", "-w", "5", "-I", "INPUT", "-i", "lo", direction, ip, "-p", "tcp",
                 "-m", "multiport", "--ports", ports, "-m", "comment", "--comment", IPT_TAG, "-j", "DROP"],
                timeout=10)

    def _tagged_rules(self) -> list[str]:
        out = run(["iptables", "-w", "5", "-S", "INPUT"], timeout=10).stdout
        return [line for line in out.splitlines() if IPT_TAG in line and line.startswith("-A ")]

    def heal(self) -> None:
        """Remove every iptables rule tagged by isolate()."""
        for _ in range(50):
            rules = self._tagged_rules()
            if not rules:
                return
            for rule in rules:
                args = _split_rule(rule)
                run(["iptables", "-w", "5", "-D", *args[1:]], timeout=10, check=False)
        raise LabError(f"could not remove iptables rules tagged {IPT_TAG}: {self._tagged_rules()}")

    def general_log_path(self, n: int) -> Path:
        return self.dir(n) / "general.log"

    def general_log(self, n: int, on: bool) -> Path:
        """MariaDB's general query log of node n, to ``general_log_path(n)`` (every connection and statement,
        with its connection id and, on Connect, the account). Off by default: switched on by a test that
        audits what a client sent (set by root, global: it lasts until turned off or the node restarts)."""
        path = self.general_log_path(n)
        if on:
            self.sql(n, f"SET GLOBAL general_log_file='{path}'")
        self.sql(n, f"SET GLOBAL general_log={'ON' if on else 'OFF'}")
        return path

    def desync(self, n: int, on: bool = True) -> None:
        """SET GLOBAL wsrep_desync on node n (state Donor/Desynced while on)."""
        self.sql(n, f"SET GLOBAL wsrep_desync={'ON' if on else 'OFF'}")


# ---------------------------------------------------------------------- helpers
def _primary(s: dict[str, str] | None) -> bool:
    return bool(s) and s.get("wsrep_cluster_status") == "Primary"


def _nil_group(s: dict[str, str] | None) -> bool:
    return bool(s) and _primary(s) and s.get("wsrep_cluster_state_uuid") == "00000000-0000-0000-0000-000000000000"


def _healthy(s: dict[str, str] | None) -> bool:
    return (_primary(s) and not _nil_group(s) and s.get("wsrep_local_state_comment") == "Synced"
            and s.get("wsrep_cluster_size") == "3" and s.get("wsrep_ready") == "ON")


def _brief(s: dict[str, str] | None) -> str:
    if not s:
        return "not answering"
    return (f"{s.get('wsrep_local_state_comment')} {s.get('wsrep_cluster_status')} "
            f"size={s.get('wsrep_cluster_size')} ready={s.get('wsrep_ready')} "
            f"conf_id={s.get('wsrep_cluster_conf_id')}")


def _split_rule(rule: str) -> list[str]:
    return shlex.split(rule)
