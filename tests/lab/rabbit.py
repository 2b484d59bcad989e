"""Three-node RabbitMQ lab on loopback, with real faults, for hatui's RabbitMQ monitor tests.

Topology (all on 127.0.0.1, nodes run as the invoking user straight from /usr/lib/rabbitmq/bin,
bypassing Debian's ``su rabbitmq`` wrappers and the system service):

====  ==================  =====  ==========  =========
node  Erlang name         AMQP   management  dist port
====  ==================  =====  ==========  =========
1     rabbit1@localhost   5672   15672       41001
2     rabbit2@localhost   5673   15673       41002
3     rabbit3@localhost   5674   15674       41003
====  ==================  =====  ==========  =========

* private epmd on 127.0.0.1:4371 (``ERL_EPMD_PORT``); the system epmd on 4369 is never used;
* cookie, configs, data and logs under ``LAB_BASE/rabbit`` (node N in ``rabbitN/``, logs in ``rabbitN/log``);
* ``net_ticktime`` = 10 s (server and CLI), ``cluster_partition_handling = ignore`` so partitions persist
  until :meth:`Lab.heal`; clustering at first boot through ``classic_config`` peer discovery: the three
  boot at once, node 1 alone initialises the cluster, 2 and 3 retry until node 1 answers and join it (no
  ``join_cluster`` round trips).

Users (module constants):

* ``admin`` / ``hatui-lab-admin-pw`` - administrator, for the harness only;
* ``hatui-monitor`` / ``hatui-lab-monitor-pw`` - tag ``monitoring``, NO vhost permissions;
* ``hatui-queues`` / ``hatui-lab-queues-pw`` - tag ``monitoring``, on vhost ``/`` a permission entry whose
  three regexes are empty (match nothing): lists the vhost's queues, may not touch any;
* ``hatui-canary`` / ``hatui-lab-canary-pw`` - no tags, on vhost ``/``:
  configure ``^amq\\.gen-.*$``, write ``^amq\\.default$``, read ``^amq\\.gen-.*$``.
  ``queue.declare("", exclusive=True)`` checks *configure* on the server-generated name (``amq.gen-...``);
  ``basic.publish`` to the default exchange checks *write* on the exchange resource ``amq.default`` (not on
  the queue); ``basic.consume`` / ``basic.get`` check *read* on the queue.  Verified with pika by
  ``test_rabbit_lab.py::test_canary_permissions_are_least``: the round trip works with these, and emptying
  any one of the three regexes makes it fail (403 ACCESS_REFUSED); declaring a named queue is refused.

Faults (all real): :meth:`Lab.kill` (SIGKILL of the beam), :meth:`Lab.start`, :meth:`Lab.stop_app` /
:meth:`Lab.start_app`, :meth:`Lab.partition` (``erlang:disconnect_node/1``), :meth:`Lab.freeze` /
:meth:`Lab.thaw` (SIGSTOP / SIGCONT), :meth:`Lab.heal`, :meth:`Lab.alarm` / :meth:`Lab.clear_alarms`;
:meth:`Lab.reset` returns to the healthy default.

Gotchas learned here:

* ``partition(n)``: a single ``erlang:disconnect_node`` is turned into a full 2-way split by RabbitMQ's
  partial-partition logic, but *which* side ends up alone is a race (disconnecting 3 from 1 can leave 1
  alone). :meth:`Lab.partition` therefore runs the disconnect on node n itself, towards both peers, and
  returns the partitions each node reports; :meth:`Lab.heal` finds the minority from what the nodes
  report instead of trusting the argument, and falls back to restarting every app.
* a stopped app (``stop_app``) takes the management listener down with it: that node's API refuses
  connections while the Erlang VM and its distribution link stay up.
* a frozen node (SIGSTOP) is seen as down only after ~net_ticktime; after SIGCONT the cluster reports a
  partition (it needs :meth:`Lab.heal`).
* every rabbitmqctl call boots an Erlang VM (~0.7 s on this 2-core box), so the harness uses the
  management API (users, permissions, cluster name, health) wherever it can; :meth:`Lab.reset` on a
  healthy lab is HTTP only.
* httpx is used with ``trust_env=False``: a proxy from the environment must never see lab traffic.
* a blocked publisher (resource alarm) cannot close its connection: the broker stops reading the socket;
  clear the alarm first (or use pika's ``blocked_connection_timeout``).
* a rebuild (``up()`` from nothing, or after a failed repair) wipes the data: users, vhosts and permissions
  of other labs (the OpenStack lab's ``openstack`` user) are exported first (``down()`` too) to
  ``LAB_BASE/rabbit-foreign-definitions.json`` and re-imported after the rebuild.
* a node restarted after a kill waits for the Mnesia tables of the peer that went down last, even if that
  peer's app is merely stopped: the repair starts killed nodes and stopped apps at the same time.

Measured on this machine (2 cores shared with the Galera and OpenStack labs, gVisor; RabbitMQ 3.10.8,
Erlang 25.2.3); ``python -m tests.lab.rabbit measure [--fresh]`` prints most of them again:

* ``up()`` from nothing: 26-27 s (3 runs: 26.0, 26.8, 27.3 s; ~22 s on an idle box); ``down()``: ~7 s.
* ``reset()`` when healthy: ~40 ms median (HTTP only: 3 x /api/nodes, /api/users, /api/permissions).
* ``kill(n)`` -> /api/nodes on both other nodes says ``running: false``: 0.10-0.12 s.
* ``start(n)`` after a kill, until every peer lists it running with stats: 6-18 s (11 s typical).
* ``stop_app``: ~7 s; ``start_app`` (until peers list it with stats): ~7 s; one rabbitmqctl call: ~0.7 s.
* ``alarm()``: ~5 s until /api/nodes shows it; ``clear_alarms()``: ~5 s (one stats round after the CLI).
* ``partition(n)``: first report 3.5-5 s after the disconnect, the other side ~3 s later; ``heal()``:
  13-14 s (restart of the minority's app); the isolated side was n in every run (8/8).
* management API while a peer is frozen (SIGSTOP), GET on a healthy node: /api/nodes, /api/overview and
  /api/health/checks/node-is-quorum-critical block 10.7-12.2 s (until net_ticktime declares the peer down,
  then they answer in 20-60 ms with it ``running: false``); /api/health/checks/alarms and local-alarms
  answer in < 10 ms throughout. After SIGCONT the partition is reported ~4.5-5 s later;
  ``reset()`` after a 12 s freeze: ~17 s.
* repair of 2 killed nodes + the third's app stopped: ~18 s; of 1 killed, 1 app stopped, 1 frozen: ~19 s.
* ``test_rabbit_lab.py``: 47-66 s (with the other labs busy); ``capture_rabbit``: ~80 s.
"""
from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.lab.common import LAB_BASE, LabError, pid_alive, port_open, read_pid, run, wait_until

RMQ_BIN = Path("/usr/lib/rabbitmq/bin")
BASE = LAB_BASE / "rabbit"
HOST = "127.0.0.1"
NODES = (1, 2, 3)
EPMD_PORT = 4371
NET_TICKTIME = 10
CLUSTER_NAME = "hatui-lab"
VHOST = "/"

ADMIN_USER, ADMIN_PASSWORD = "admin", "hatui-lab-admin-pw"
MONITOR_USER, MONITOR_PASSWORD = "hatui-monitor", "hatui-lab-monitor-pw"
MONITOR_TAGS = "monitoring"
CANARY_USER, CANARY_PASSWORD = "hatui-canary", "hatui-lab-canary-pw"
CANARY_PERMISSIONS = {"configure": r"^amq\.gen-.*$", "write": r"^amq\.default$", "read": r"^amq\.gen-.*$"}
# hatui's queue list ([rabbitmq.queues]): tag monitoring and a permission entry on the vhost that matches
# nothing: RabbitMQ lists a vhost's queues only to users with an entry there, whatever their regexes
QUEUES_USER, QUEUES_PASSWORD = "hatui-queues", "hatui-lab-queues-pw"
QUEUES_PERMISSIONS = {"configure": "", "write": "", "read": ""}

MEM_WATERMARK = 0.4            # default vm_memory_high_watermark.relative
DISK_FREE_LIMIT = 50_000_000   # default disk_free_limit.absolute (50MB)
ALARM_MEM_WATERMARK = 0.0001   # -> mem_limit of a few MB: the memory alarm fires at once
ALARM_DISK_FREE_LIMIT = 10**15  # 1 PB: the disk alarm fires at once
MIN_SANE_MEM_LIMIT = 64 * 2**20  # a mem_limit below this means an alarm() watermark is still set


def node_name(n: int) -> str:
    return f"rabbit{n}@localhost"


def amqp_port(n: int) -> int:
    return 5671 + n


def mgmt_port(n: int) -> int:
    return 15671 + n


def dist_port(n: int) -> int:
    return 41000 + n


def _num(name: str) -> int | None:
    """``rabbit3@localhost`` -> 3 (None for a name that is not a lab node)."""
    for n in NODES:
        if name == node_name(n):
            return n
    return None


def _minority(parts: dict[int, list[int]]) -> list[int]:
    """The node(s) alone in a partition: listed by the most peers and listing the most peers themselves.
    {1: [3], 2: [3], 3: [1, 2]} -> [3]; a 3-way split gives a tie -> all three; no partition -> []."""
    if not any(parts.values()):
        return []
    score = {k: sum(k in ps for ps in parts.values()) + len(parts.get(k, [])) for k in NODES}
    top = max(score.values())
    return [k for k in NODES if score[k] == top]


class Lab:
    """The RabbitMQ lab. Every method is synchronous, bounded by timeouts, and raises LabError on failure."""

    def __init__(self, base: Path = BASE):
        self.base = Path(base)
        self._http: httpx.Client | None = None

    # ------------------------------------------------------------------ paths, env, processes
    def node_dir(self, n: int) -> Path:
        return self.base / f"rabbit{n}"

    def _pid_file(self, n: int) -> Path:
        return self.node_dir(n) / "rabbit.pid"

    def _env(self, n: int) -> dict[str, str]:
        d = self.node_dir(n)
        mnesia = d / "mnesia" / node_name(n)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        erl_args = f"-kernel net_ticktime {NET_TICKTIME} -kernel inet_dist_use_interface {{127,0,0,1}}"
        env.update(
            HOME=str(self.base),  # -> $base/.erlang.cookie, shared by the nodes and the CLI
            ERL_EPMD_PORT=str(EPMD_PORT),
            ERL_EPMD_ADDRESS=HOST,
            RABBITMQ_CONF_ENV_FILE=str(self.base / "rabbitmq-env.conf"),  # empty: ignore /etc/rabbitmq
            RABBITMQ_NODENAME=node_name(n),
            RABBITMQ_NODE_IP_ADDRESS=HOST,
            RABBITMQ_NODE_PORT=str(amqp_port(n)),
            RABBITMQ_DIST_PORT=str(dist_port(n)),
            RABBITMQ_CONFIG_FILE=str(d / "rabbitmq.conf"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(d / "advanced.config"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(d / "enabled_plugins"),
            RABBITMQ_MNESIA_BASE=str(d / "mnesia"),
            RABBITMQ_MNESIA_DIR=str(mnesia),
            RABBITMQ_QUORUM_DIR=str(mnesia / "quorum"),
            RABBITMQ_FEATURE_FLAGS_FILE=str(d / "feature_flags"),
            RABBITMQ_LOG_BASE=str(d / "log"),
            RABBITMQ_PID_FILE=str(self._pid_file(n)),
            # short ticktime (server and CLI alike); distribution bound to loopback
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=erl_args,
            RABBITMQ_CTL_ERL_ARGS=erl_args,
        )
        return env

    @staticmethod
    def _cmdline(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return ""

    @staticmethod
    def _environ(pid: int) -> set[str]:
        try:
            return set(Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0"))
        except OSError:
            return set()

    def _is_our_beam(self, pid: int | None, n: int) -> bool:
        """A live beam.smp started by this lab for node n (its environment names the node and pid file)."""
        if not pid_alive(pid) or "beam" not in self._cmdline(pid):
            return False
        env = self._environ(pid)
        return f"RABBITMQ_NODENAME={node_name(n)}" in env and f"RABBITMQ_PID_FILE={self._pid_file(n)}" in env

    def beam_pid(self, n: int) -> int | None:
        """PID of node n's Erlang VM, or None. Pid files are checked against /proc, never trusted."""
        pid = read_pid(self._pid_file(n))
        if self._is_our_beam(pid, n):
            return pid
        for entry in Path("/proc").iterdir():  # pid file missing or stale: look for the VM itself
            if entry.name.isdigit() and "beam" in self._cmdline(int(entry.name)) and self._is_our_beam(
                    int(entry.name), n):
                return int(entry.name)
        return None

    def _epmd_pid(self) -> int | None:
        def ours(pid: int | None) -> bool:
            cmd = self._cmdline(pid) if pid_alive(pid) else ""
            return "epmd" in cmd and f"-port {EPMD_PORT}" in cmd

        pid = read_pid(self.base / "epmd.pid")
        if ours(pid):
            return pid
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and ours(int(entry.name)):
                return int(entry.name)
        return None

    @staticmethod
    def _proc_state(pid: int | None) -> str:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            return "?"

    def is_frozen(self, n: int) -> bool:
        return self._proc_state(self.beam_pid(n)) in ("T", "t")

    def log_tail(self, n: int, lines: int = 25) -> str:
        out = []
        for f in (self.node_dir(n) / "log" / f"{node_name(n)}.log", self.node_dir(n) / "log" / "stdout.log"):
            try:
                text = f.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            out.append(f"--- {f}:\n" + "\n".join(text))
        return "\n".join(out) or f"(no log under {self.node_dir(n) / 'log'})"

    def _fail(self, msg: str, n: int | None = None) -> LabError:
        return LabError(msg + (f"\n{self.log_tail(n)}" if n else ""))

    # ------------------------------------------------------------------ CLI and HTTP
    def ctl(self, n: int, *args: str, timeout: float = 60, check: bool = True, tool: str = "rabbitmqctl"):
        """Run rabbitmqctl (or another CLI tool) against node n with the lab's cookie and epmd."""
        try:
            return run([str(RMQ_BIN / tool), "-n", node_name(n), *args], env=self._env(n), timeout=timeout,
                       check=check, cwd=str(self.base))
        except LabError as exc:
            raise self._fail(f"rabbit{n}: {exc}", n) from None
        except Exception as exc:  # TimeoutExpired
            raise self._fail(f"rabbit{n}: {tool} {' '.join(args)}: {exc}", n) from None

    def eval(self, n: int, expr: str, timeout: float = 60) -> str:
        """Evaluate an Erlang expression on node n (``rabbitmqctl eval``); returns its printed result."""
        return self.ctl(n, "eval", expr, timeout=timeout).stdout.strip()

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(auth=(ADMIN_USER, ADMIN_PASSWORD), timeout=5, trust_env=False)
        return self._http

    def url(self, n: int, path: str) -> str:
        return f"http://{HOST}:{mgmt_port(n)}{path}"

    def api(self, n: int, path: str, *, timeout: float = 5.0, auth: tuple[str, str] | None = None) -> Any:
        """GET ``path`` on node n's management API (admin unless ``auth``); parsed JSON, raises on non-2xx."""
        kw = {"auth": auth} if auth else {}
        r = self.http.get(self.url(n, path), timeout=timeout, **kw)
        r.raise_for_status()
        return r.json()

    def _api_send(self, method: str, path: str, body: Any = None, n: int = 1) -> httpx.Response:
        r = self.http.request(method, self.url(n, path), json=body, timeout=10)
        if r.status_code >= 400 and not (method == "DELETE" and r.status_code == 404):
            raise LabError(f"{method} {path} on rabbit{n} -> {r.status_code}: {r.text[:300]}")
        return r

    def nodes(self) -> list[tuple[str, str, int, int]]:
        """[(erlang node name, host, amqp port, management port)] for the three nodes."""
        return [(node_name(n), HOST, amqp_port(n), mgmt_port(n)) for n in NODES]

    @staticmethod
    def wait_for(pred: Callable[[], object], timeout: float, what: str = "condition", interval: float = 0.2):
        return wait_until(pred, timeout, interval=interval, what=what)

    def views(self, timeout: float = 3.0) -> dict[int, list | Exception]:
        """/api/nodes as seen by each node (in parallel, so a frozen node costs ``timeout`` once)."""
        with concurrent.futures.ThreadPoolExecutor(len(NODES)) as pool:
            futs = {n: pool.submit(self.api, n, "/api/nodes", timeout=timeout) for n in NODES}
        out: dict[int, list | Exception] = {}
        for n, f in futs.items():
            try:
                out[n] = f.result()
            except Exception as exc:  # noqa: BLE001
                out[n] = exc
        return out

    # ------------------------------------------------------------------ health
    def problems(self, views: dict[int, list | Exception] | None = None) -> list[str]:
        """Everything that differs from the healthy default; [] when healthy."""
        views = self.views() if views is None else views
        probs = []
        for n in NODES:
            pid = self.beam_pid(n)
            if not pid:
                probs.append(f"rabbit{n}: not running")
                continue
            if self._proc_state(pid) in ("T", "t"):
                probs.append(f"rabbit{n}: frozen (SIGSTOP)")
            v = views[n]
            if isinstance(v, Exception):
                probs.append(f"rabbit{n}: management API: {type(v).__name__}: {v}")
                continue
            seen = {x.get("name"): x for x in v}
            for k in NODES:
                x = seen.get(node_name(k))
                if x is None:
                    probs.append(f"rabbit{n}: does not list rabbit{k}")
                    continue
                if not x.get("running"):
                    probs.append(f"rabbit{n}: sees rabbit{k} not running")
                    continue
                if x.get("partitions"):
                    probs.append(f"rabbit{n}: rabbit{k} partitioned from {x['partitions']}")
                if x.get("mem_alarm") or x.get("disk_free_alarm"):
                    probs.append(f"rabbit{n}: rabbit{k} alarm mem={x.get('mem_alarm')} disk={x.get('disk_free_alarm')}")
                if x.get("disk_free_limit") != DISK_FREE_LIMIT or (x.get("mem_limit") or 0) < MIN_SANE_MEM_LIMIT:
                    probs.append(f"rabbit{n}: rabbit{k} limits mem={x.get('mem_limit')} "
                                 f"disk={x.get('disk_free_limit')}")
        return probs

    def _users_ok(self) -> bool:
        users = {u["name"]: u for u in self.api(1, "/api/users")}
        perms = {p["user"]: p for p in self.api(1, "/api/permissions") if p["vhost"] == VHOST}

        def tags(u):
            t = u.get("tags")
            return sorted(t) if isinstance(t, list) else sorted(x for x in (t or "").split(",") if x)

        cp = perms.get(CANARY_USER)
        qp = perms.get(QUEUES_USER)
        return (
            MONITOR_USER in users and tags(users[MONITOR_USER]) == [MONITOR_TAGS] and MONITOR_USER not in perms
            and CANARY_USER in users and tags(users[CANARY_USER]) == []
            and cp is not None and all(cp[k] == v for k, v in CANARY_PERMISSIONS.items())
            and QUEUES_USER in users and tags(users[QUEUES_USER]) == [MONITOR_TAGS]
            and qp is not None and all(qp[k] == v for k, v in QUEUES_PERMISSIONS.items())
            and self._password_ok(users[QUEUES_USER], QUEUES_PASSWORD)
            and self._password_ok(users[MONITOR_USER], MONITOR_PASSWORD)
            and self._password_ok(users[CANARY_USER], CANARY_PASSWORD)
            and self.api(1, "/api/cluster-name").get("name") == CLUSTER_NAME
        )

    @staticmethod
    def _password_ok(user: dict, password: str) -> bool:
        """Check a password against /api/users' ``rabbit_password_hashing_sha256`` hash (salt[4] + sha256)."""
        try:
            raw = base64.b64decode(user["password_hash"])
        except (KeyError, ValueError):
            return False
        return len(raw) == 36 and hashlib.sha256(raw[:4] + password.encode()).digest() == raw[4:]

    def _ensure_users(self) -> None:
        self._api_send("PUT", f"/api/users/{MONITOR_USER}", {"password": MONITOR_PASSWORD, "tags": MONITOR_TAGS})
        self._api_send("DELETE", f"/api/permissions/%2F/{MONITOR_USER}")
        self._api_send("PUT", f"/api/users/{CANARY_USER}", {"password": CANARY_PASSWORD, "tags": ""})
        self._api_send("PUT", f"/api/permissions/%2F/{CANARY_USER}", CANARY_PERMISSIONS)
        self._api_send("PUT", f"/api/users/{QUEUES_USER}", {"password": QUEUES_PASSWORD, "tags": MONITOR_TAGS})
        self._api_send("PUT", f"/api/permissions/%2F/{QUEUES_USER}", QUEUES_PERMISSIONS)
        self._api_send("PUT", "/api/cluster-name", {"name": CLUSTER_NAME})
        self._api_send("DELETE", "/api/users/guest")

    def healthy(self) -> bool:
        return not self.problems()

    # ------------------------------------------------------------------ bring-up
    def _write_files(self) -> None:
        if self.base.exists():
            shutil.rmtree(self.base)
        self.base.mkdir(parents=True)
        (self.base / "rabbitmq-env.conf").write_text("")
        cookie = self.base / ".erlang.cookie"
        cookie.write_text(os.urandom(16).hex().upper())
        cookie.chmod(0o400)
        # nodes 2 and 3 join node 1 on their first boot (all three boot at once, 2 and 3 retry until 1 answers);
        # node 1 has no peers to try and initialises the cluster at once
        peers = f"""\
cluster_formation.peer_discovery_backend = classic_config
cluster_formation.classic_config.nodes.1 = {node_name(1)}
cluster_formation.discovery_retry_limit = 240
cluster_formation.discovery_retry_interval = 500
"""
        for n in NODES:
            d = self.node_dir(n)
            (d / "log").mkdir(parents=True)
            (d / "mnesia").mkdir()
            (d / "rabbitmq.conf").write_text(f"""\
listeners.tcp.1 = {HOST}:{amqp_port(n)}
management.tcp.ip = {HOST}
management.tcp.port = {mgmt_port(n)}
cluster_partition_handling = ignore
{peers if n != 1 else ""}loopback_users = none
default_user = {ADMIN_USER}
default_pass = {ADMIN_PASSWORD}
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.file.level = info
log.console = false
disk_free_limit.absolute = {DISK_FREE_LIMIT}
vm_memory_high_watermark.relative = {MEM_WATERMARK}
collect_statistics_interval = 1000
management.rates_mode = basic
""")
            (d / "advanced.config").write_text("[].\n")
            (d / "enabled_plugins").write_text("[rabbitmq_management].\n")

    def _start_epmd(self) -> None:
        if self._epmd_pid():
            return
        if port_open(HOST, EPMD_PORT):
            raise LabError(f"port {HOST}:{EPMD_PORT} is taken by something that is not the lab's epmd")
        self.base.mkdir(parents=True, exist_ok=True)
        with open(self.base / "epmd.log", "ab") as log:
            # setsid -f: the daemon is re-parented away from us (no zombie) and outlives the caller
            subprocess.run(["setsid", "-f", "epmd", "-address", HOST, "-port", str(EPMD_PORT)], stdout=log,
                           stderr=log, stdin=subprocess.DEVNULL, timeout=10, check=True)
        pid = wait_until(self._epmd_pid, 10, what="epmd to start")
        (self.base / "epmd.pid").write_text(str(pid))
        wait_until(lambda: port_open(HOST, EPMD_PORT), 10, what=f"epmd on {HOST}:{EPMD_PORT}")

    def _spawn(self, n: int) -> None:
        """Start node n's VM in its own session (outlives the caller); returns at once."""
        for port in (amqp_port(n), mgmt_port(n), dist_port(n)):
            if port_open(HOST, port):
                raise LabError(f"rabbit{n}: port {HOST}:{port} is already taken (another RabbitMQ? "
                               "`service rabbitmq-server stop`)")
        self._pid_file(n).unlink(missing_ok=True)
        d = self.node_dir(n)
        (d / "log").mkdir(parents=True, exist_ok=True)
        with open(d / "log" / "stdout.log", "ab") as log:
            subprocess.run(["setsid", "-f", str(RMQ_BIN / "rabbitmq-server")], env=self._env(n), cwd=str(d),
                           stdout=log, stderr=log, stdin=subprocess.DEVNULL, timeout=10, check=True)

    def _wait_api(self, n: int, timeout: float = 120) -> None:
        """Wait until node n's VM runs and its management API answers."""
        t0 = time.monotonic()
        seen_pid = False
        while time.monotonic() - t0 < timeout:
            if self.beam_pid(n):
                seen_pid = True
            elif seen_pid or time.monotonic() - t0 > 20:
                raise self._fail(f"rabbit{n}: the Erlang VM is gone (or never started)", n)
            try:
                if self.http.get(self.url(n, "/api/overview"), timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise self._fail(f"rabbit{n}: management API not answering after {timeout:.0f}s", n)

    def _wait_healthy(self, timeout: float, what: str = "a healthy cluster") -> None:
        last: list[str] = []

        def ok():
            nonlocal last
            last = self.problems()
            return not last

        try:
            wait_until(ok, timeout, interval=0.3, what=what)
        except LabError as exc:
            raise LabError(f"{exc}; problems: {'; '.join(last)}") from None

    @property
    def _foreign_file(self) -> Path:
        # next to the base dir, not in it: survives the wipe of a rebuild
        return self.base.parent / f"{self.base.name}-foreign-definitions.json"

    def _save_foreign_definitions(self) -> None:
        """Keep other labs' users, vhosts and permissions (e.g. the OpenStack lab's ``openstack`` user) so
        that a rebuild brings them back (with their password hashes)."""
        for n in NODES:
            try:
                defs = self.api(n, "/api/definitions", timeout=3)
                break
            except Exception:  # noqa: BLE001 - a node down, frozen or stopped: try the next
                continue
        else:
            return
        mine = {ADMIN_USER, MONITOR_USER, CANARY_USER, QUEUES_USER}
        keep = {
            "users": [u for u in defs.get("users", []) if u.get("name") not in mine],
            "vhosts": [v for v in defs.get("vhosts", []) if v.get("name") != VHOST],
            "permissions": [p for p in defs.get("permissions", []) if p.get("user") not in mine],
            "topic_permissions": [p for p in defs.get("topic_permissions", []) if p.get("user") not in mine],
        }
        self._foreign_file.write_text(json.dumps(keep, indent=1))

    def _restore_foreign_definitions(self) -> None:
        try:
            keep = json.loads(self._foreign_file.read_text())
        except (OSError, ValueError):
            return
        if any(keep.values()):
            self._api_send("POST", "/api/definitions", keep)

    def _fresh(self) -> None:
        self._save_foreign_definitions()
        for attempt in (1, 2):
            self._kill_everything()
            self._write_files()
            self._start_epmd()
            for n in NODES:
                self._spawn(n)
            try:
                for n in NODES:
                    self._wait_api(n)
                break
            except LabError:
                # Booting all three at once on a loaded machine, a node now and then exits before its peers'
                # tables are active ({incompatible_feature_flags, {not_active, ...}}): built again, once.
                if attempt == 2:
                    raise
        # A cluster formed in a hurry can be left with stable flags off (quorum queues refused: "the
        # corresponding feature flag is disabled"): what a fresh node has by default, every time.
        self.ctl(1, "enable_feature_flag", "all")
        self._ensure_users()
        self._restore_foreign_definitions()
        self._wait_healthy(60)

    def up(self) -> str:
        """Idempotent: start and cluster everything, or repair what is broken. Returns a status line."""
        t0 = time.monotonic()
        running = [n for n in NODES if self.beam_pid(n)]
        if not running or not self._epmd_pid() or not all((self.node_dir(n) / "mnesia").is_dir() for n in NODES):
            self._fresh()
            return f"rabbit lab built in {time.monotonic() - t0:.1f}s"
        if not self.problems() and self._users_ok():
            return f"rabbit lab already healthy ({time.monotonic() - t0:.2f}s)"
        try:
            self._repair()
            how = "repaired"
        except LabError as exc:
            print(f"rabbit lab: repair failed ({str(exc).splitlines()[0]}); rebuilding", file=sys.stderr)
            self._fresh()
            how = "rebuilt after a failed repair"
        return f"rabbit lab {how} in {time.monotonic() - t0:.1f}s"

    def _repair(self) -> None:
        for n in NODES:
            self.thaw(n)
        spawned = [n for n in NODES if not self.beam_pid(n)]
        stopped = [n for n in NODES if n not in spawned and not self._api_answers(n)]
        for n in spawned:
            self._spawn(n)
        # all at once: a restarted node waits for the Mnesia tables of the peer that went down last, which
        # may be one whose app is stopped (start_app blocks until the app runs)
        with concurrent.futures.ThreadPoolExecutor(len(NODES)) as pool:
            futs = [pool.submit(self.ctl, n, "start_app", timeout=180) for n in stopped]
            futs += [pool.submit(self._wait_api, n, 180) for n in spawned]
        for f in futs:
            f.result()
        for n in stopped:
            self._wait_api(n, 60)
        self.clear_alarms()
        for _ in range(3):
            # A node just thawed (or a link just cut) is reported partitioned only seconds later: wait for
            # health or for the partition to show, then heal it.
            try:
                wait_until(lambda: not self.problems() or any(self.partitions().values()), 20, interval=0.5)
            except LabError:
                pass
            self.heal()
            try:
                self._wait_healthy(30)
                break
            except LabError:
                if not any(self.partitions().values()):
                    raise
        if not self._users_ok():
            self._ensure_users()
        self._wait_healthy(60)

    def _api_answers(self, n: int, timeout: float = 3) -> bool:
        try:
            return self.http.get(self.url(n, "/api/overview"), timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    def reset(self) -> None:
        """Back to the healthy default; HTTP-only checks (well under 1 s) when already healthy."""
        for n in NODES:
            if self.is_frozen(n):
                self.thaw(n)
        if self.problems() or not self._users_ok():
            self.up()

    def _kill_everything(self) -> None:
        for n in NODES:
            pid = self.beam_pid(n)
            if pid:
                os.kill(pid, signal.SIGKILL)
        epmd = self._epmd_pid()
        if epmd:
            os.kill(epmd, signal.SIGKILL)
        wait_until(lambda: not any(self.beam_pid(n) for n in NODES) and not self._epmd_pid(), 15,
                   what="old lab processes to exit")

    def down(self) -> str:
        """Stop the nodes (SIGTERM = orderly shutdown, SIGKILL after 20 s) and the lab's epmd."""
        self._save_foreign_definitions()
        pids = {n: self.beam_pid(n) for n in NODES}
        for pid in pids.values():
            if pid:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGTERM)
        try:
            wait_until(lambda: not any(pid_alive(p) for p in pids.values() if p), 20, what="nodes to stop")
        except LabError:
            for pid in pids.values():
                if pid_alive(pid):
                    os.kill(pid, signal.SIGKILL)
        self._kill_everything()
        if self._http:
            self._http.close()
            self._http = None
        return "rabbit lab down"

    def status(self) -> str:
        views = self.views(timeout=2)
        lines = []
        for n in NODES:
            pid = self.beam_pid(n)
            state = "down" if not pid else ("frozen" if self._proc_state(pid) in "Tt" else "up")
            v = views[n]
            if isinstance(v, Exception):
                api = f"api: {type(v).__name__}"
            else:
                me = next((x for x in v if x.get("name") == node_name(n)), {})
                run_ = sorted(k for k in NODES if any(x.get("name") == node_name(k) and x.get("running") for x in v))
                api = (f"api: running={run_} partitions={me.get('partitions')} "
                       f"mem_alarm={me.get('mem_alarm')} disk_alarm={me.get('disk_free_alarm')}")
            lines.append(f"rabbit{n} pid={pid} {state} amqp={amqp_port(n)} mgmt={mgmt_port(n)} {api}")
        probs = self.problems(views)
        lines.append("healthy" if not probs else "problems: " + "; ".join(probs))
        return "\n".join(lines)

    # ------------------------------------------------------------------ faults
    def kill(self, n: int) -> None:
        """SIGKILL node n's Erlang VM."""
        pid = self.beam_pid(n)
        if not pid:
            raise LabError(f"rabbit{n} is not running")
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), 10, what=f"rabbit{n} ({pid}) to die")

    def start(self, n: int, timeout: float = 120) -> None:
        """Start node n again (after kill) - or start_app/thaw it - and wait until it rejoined the cluster."""
        if self.beam_pid(n):
            self.thaw(n)
            if not self._api_answers(n):
                self.start_app(n)
        else:
            self._spawn(n)
            self._wait_api(n, timeout)
        self._wait_rejoined(n, 60)

    def _wait_rejoined(self, n: int, timeout: float) -> None:
        def rejoined():
            for k in NODES:
                if not self.beam_pid(k):
                    continue
                try:
                    v = self.api(k, "/api/nodes", timeout=3)
                except httpx.ConnectError:  # that peer's app is stopped: it has no say
                    continue
                # running, and its first node stats (mem_limit...) arrived: ~5 s after the API answers
                if not any(x.get("name") == node_name(n) and x.get("running") and x.get("mem_limit") for x in v):
                    return False
            return True

        try:
            wait_until(rejoined, timeout, interval=0.3, what=f"rabbit{n} seen running (with stats) by its peers")
        except LabError as exc:
            raise self._fail(str(exc), n) from None

    def stop_app(self, n: int) -> None:
        """``rabbitmqctl stop_app`` on node n: the VM stays up, RabbitMQ (and its management API) stops."""
        self.ctl(n, "stop_app", timeout=120)

    def start_app(self, n: int) -> None:
        """``rabbitmqctl start_app`` on node n; waits until its management API answers again."""
        self.ctl(n, "start_app", timeout=120)
        self._wait_api(n, 60)
        self._wait_rejoined(n, 60)

    def freeze(self, n: int) -> None:
        """SIGSTOP node n's VM. Frozen past ~net_ticktime (10 s) its peers drop it; after thaw: a partition."""
        pid = self.beam_pid(n)
        if not pid:
            raise LabError(f"rabbit{n} is not running")
        os.kill(pid, signal.SIGSTOP)

    def thaw(self, n: int) -> None:
        pid = self.beam_pid(n)
        if pid:
            os.kill(pid, signal.SIGCONT)

    def partitions(self, timeout: float = 3.0) -> dict[int, list[int]]:
        """{node: [nodes it reports as partitioned from]} from each reachable node's own /api/nodes entry."""
        out = {}
        for n, v in self.views(timeout).items():
            if isinstance(v, Exception):
                continue
            me = next((x for x in v if x.get("name") == node_name(n)), None)
            if me is not None:
                out[n] = sorted(k for k in (_num(p) for p in me.get("partitions") or []) if k)
        return out

    def partition(self, n: int, timeout: float = 40) -> dict[int, list[int]]:
        """Cut node n's distribution links to its peers (``erlang:disconnect_node/1`` run on node n).

        Erlang reconnects within ~1 s and mnesia then reports ``inconsistent_database``: a real partition
        that stays (partition handling = ignore). Returns :meth:`partitions` once at least one node
        reports one. Which side is alone is normally n, but that is a race: check the result.
        """
        peers = ", ".join(f"'{node_name(k)}'" for k in NODES if k != n)
        self.eval(n, f"[erlang:disconnect_node(N) || N <- [{peers}]].")
        parts = wait_until(lambda: (p := self.partitions()) and any(p.values()) and p, timeout, interval=0.3,
                           what=f"a partition to be reported after disconnecting rabbit{n}")
        try:  # the other side reports it a few seconds later; settle so callers see both sides
            return wait_until(lambda: (p := self.partitions()) and all(p.get(k) for k in NODES) and p, 10,
                              interval=0.3)
        except LabError:
            return self.partitions() or parts

    def heal(self, timeout: float = 90) -> None:
        """Repair partitions: restart the app of the minority (the node(s) the others report partitioned),
        then, if any node still reports partitions after 15 s, the apps of all the others too."""
        parts = self.partitions()
        if not any(parts.values()):
            return
        try:  # the other side reports a few seconds after the first: wait for a clear picture
            parts = wait_until(lambda: (p := self.partitions()) and len(_minority(p)) == 1 and p, 8, interval=0.3)
        except LabError:
            parts = self.partitions()
        minority = _minority(parts)
        if not minority:
            return
        if len(minority) == len(NODES):  # 3-way split: keep node 1
            minority = [2, 3]
        for k in minority:
            self._restart_app(k)
        try:
            wait_until(lambda: not any(self.partitions().values()), 15, interval=0.5, what="partitions to clear")
            return
        except LabError:
            pass
        for k in NODES:
            if k not in minority:
                self._restart_app(k)
        try:
            wait_until(lambda: not any(self.partitions().values()), max(timeout - 15, 30), interval=0.5,
                       what="partitions to clear after restarting every app")
        except LabError as exc:
            raise LabError(f"{exc}; partitions: {self.partitions()}") from None

    def _restart_app(self, n: int) -> None:
        self.ctl(n, "stop_app", timeout=120)
        self.start_app(n)

    def alarm(self, kind: str, n: int, timeout: float = 30) -> None:
        """Raise a real resource alarm on node n: ``memory`` (watermark 0.0001) or ``disk`` (limit 1 PB).
        Publishers are then blocked cluster-wide. Waits until node n's API reports it."""
        if kind == "memory":
            self.ctl(n, "set_vm_memory_high_watermark", str(ALARM_MEM_WATERMARK))
            field = "mem_alarm"
        elif kind == "disk":
            self.ctl(n, "set_disk_free_limit", str(ALARM_DISK_FREE_LIMIT))
            field = "disk_free_alarm"
        else:
            raise ValueError(f"alarm kind must be 'memory' or 'disk', not {kind!r}")
        wait_until(lambda: any(x.get("name") == node_name(n) and x.get(field) for x in self.api(n, "/api/nodes")),
                   timeout, interval=0.3, what=f"{field} on rabbit{n}")

    def clear_alarms(self, timeout: float = 30) -> None:
        """Restore the default memory watermark and disk limit wherever they were changed; wait for no alarm."""
        todo: set[int] = set()
        known: set[int] = set()
        for v in self.views().values():
            if isinstance(v, Exception):
                continue
            for x in v:
                k = _num(x.get("name", ""))
                if not k or not x.get("running"):
                    continue
                known.add(k)
                if (x.get("mem_alarm") or x.get("disk_free_alarm") or x.get("disk_free_limit") != DISK_FREE_LIMIT
                        or (x.get("mem_limit") or 0) < MIN_SANE_MEM_LIMIT):
                    todo.add(k)
        todo |= {k for k in NODES if k not in known and self.beam_pid(k) and not self.is_frozen(k)}
        for k in sorted(todo):
            self.eval(k, f"vm_memory_monitor:set_vm_memory_high_watermark({MEM_WATERMARK}), "
                         f"rabbit_disk_monitor:set_disk_free_limit({DISK_FREE_LIMIT}).")

        def clear():
            for v in self.views().values():
                if isinstance(v, Exception):
                    continue
                if any(x.get("mem_alarm") or x.get("disk_free_alarm") for x in v if x.get("running")):
                    return False
            return True

        if todo:
            wait_until(clear, timeout, interval=0.3, what="alarms to clear")


def measure(fresh: bool = False) -> list[str]:
    """The numbers in this module's docstring. ``fresh`` first takes the lab down (others' users go too)."""
    lab, out = Lab(), []

    def note(line: str) -> None:
        out.append(line)
        print(line, flush=True)

    if fresh:
        lab.down()
        t = time.perf_counter()
        lab.up()
        note(f"up() from nothing: {time.perf_counter() - t:.1f} s")
    lab.reset()
    ts = []
    for _ in range(5):
        t = time.perf_counter()
        lab.reset()
        ts.append(time.perf_counter() - t)
    note(f"reset() when healthy: median {sorted(ts)[2] * 1000:.0f} ms (max {max(ts) * 1000:.0f} ms)")

    def down_seen(by: int, n: int) -> bool:
        return any(x["name"] == node_name(n) and not x["running"] for x in lab.api(by, "/api/nodes", timeout=3))

    t = time.perf_counter()
    lab.kill(3)
    wait_until(lambda: down_seen(1, 3) and down_seen(2, 3), 30, interval=0.02)
    note(f"kill(3) -> /api/nodes on 1 and 2 say running=false: {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    lab.start(3)
    note(f"start(3) until rejoined (with stats): {time.perf_counter() - t:.1f} s")

    paths = ("/api/nodes", "/api/overview", "/api/health/checks/alarms", "/api/health/checks/local-alarms",
             "/api/health/checks/node-is-quorum-critical")
    mon = httpx.Client(auth=(MONITOR_USER, MONITOR_PASSWORD), timeout=40, trust_env=False)

    def timed(path: str) -> str:
        t0 = time.perf_counter()
        try:
            code = str(mon.get(lab.url(1, path)).status_code)
        except httpx.HTTPError as exc:
            code = type(exc).__name__
        return f"{path} {code} after {time.perf_counter() - t0:.2f} s"

    lab.freeze(3)
    try:
        time.sleep(0.2)
        with concurrent.futures.ThreadPoolExecutor(len(paths)) as pool:
            for line in pool.map(timed, paths):
                note(f"rabbit3 frozen, GET on rabbit1: {line}")
        note(f"rabbit3 frozen, GET on rabbit1 once it is down: {timed('/api/nodes')}")
    finally:
        lab.thaw(3)
    t = time.perf_counter()
    lab.reset()
    note(f"reset() after a ~12 s freeze (partition -> heal): {time.perf_counter() - t:.1f} s")
    mon.close()
    return out


if __name__ == "__main__":
    lab = Lab()
    cmd = sys.argv[1] if len(sys.argv) > 1 else "status"
    if cmd == "measure":
        measure(fresh="--fresh" in sys.argv)
    elif cmd in ("up", "down", "status", "reset", "heal", "clear_alarms"):
        r = getattr(lab, cmd)()
        print(r if isinstance(r, str) else f"{cmd} ok")
    elif cmd in ("kill", "start", "stop_app", "start_app", "partition", "freeze", "thaw"):
        print(getattr(lab, cmd)(int(sys.argv[2])))
    elif cmd == "alarm":
        lab.alarm(sys.argv[2], int(sys.argv[3]))
    else:
        print(json.dumps(lab.api(int(sys.argv[2]), sys.argv[1]), indent=1))
