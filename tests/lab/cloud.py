"""A lab cloud of hosts: the control plane placed on hosts (network namespaces) that really fail together.

    python -m tests.lab up cloud | status cloud | down cloud
    python -m tests.lab power ctl-2 off|on      (through the host's own BMC: Redfish or IPMI)
    python -m tests.lab feed pdu-a off|on       (every host of the feed loses power at once)
    python -m tests.lab switch sw-1 down|up     (every host on the switch is cut at once)
    python -m tests.lab link ctl-1 down|up      (the host's own cable)
    python -m tests.lab kill|freeze|thaw|stop|start ctl-2 galera|rabbitmq
    python -m tests.lab partition|heal ctl-2 galera|rabbitmq   (cut off its cluster peers; clients still reach it)
    python -m tests.lab alarm ctl-2 memory|disk | clear-alarms (a real RabbitMQ resource alarm)
    python -m tests.lab config                  (the hatui.toml an operator would write for this lab)

Topology (module constants; everything under ``LAB_BASE/cloud``, default /tmp/hatui-lab/cloud):

  host   address      netns      switch (bridge)     feed   rack  BMC (on 127.0.0.1, out of band)
  ctl-1  10.216.1.11  hc-ctl-1   sw-1 (br-hc-sw1)    pdu-a  r1    Redfish http :18101
  ctl-2  10.216.2.12  hc-ctl-2   sw-2 (br-hc-sw2)    pdu-a  r1    IPMI :9102/udp
  ctl-3  10.216.1.13  hc-ctl-3   sw-1 (br-hc-sw1)    pdu-b  r2    Redfish http :18103
  cmp-1  10.216.2.21  hc-cmp-1   sw-2 (br-hc-sw2)    pdu-b  r2    IPMI :9104/udp

  The two switches are two bridges joined by a trunk veth (one L2 segment, as two stacked switches);
  the jump side has 10.216.1.1/24 on br-hc-sw1 and 10.216.2.1/24 on br-hc-sw2, so it reaches each
  switch on its own link. Hosts have 10.216.x.y/24 on eth0 and the on-link route 10.216.0.0/16 only (no
  default route): they reach each other across the trunk and nothing else. GUARD: ``unreachable
  10.216.0.0/16 metric 4000`` in the root namespace, installed first and removed last. Names: each
  namespace gets /etc/netns/<ns>/hosts (``ip netns exec`` bind-mounts it over /etc/hosts) with every
  host's name, so Erlang's ``rabbit@ctl-2`` resolves inside the lab.

  Each controller runs a MariaDB Galera node (3306, gcomm 4567, IST 4568, SST 4444) and a RabbitMQ node
  ``rabbit@ctl-N`` (AMQP 5672, management 15672, its own epmd 4369, dist 25672), listening on the host's
  own address. Accounts are the Galera and RabbitMQ labs' (``galera.MONITOR_USER``,
  ``rabbit.MONITOR_USER`` / ``rabbit.CANARY_USER``, same passwords). Each host runs an SSH-like banner
  listener on :22 (as the hosts lab does).

  OpenStack (``OpenStackOnHosts``: the loopback lab's tests/lab/openstack.py, its config templates and
  launch code, placed on the hosts; the same venv), each instance in its host's namespace on the host's
  address, standard ports, 1 worker per service, nova and neutron ``host = <host name>``:

    ctl-1  haproxy (stats http://10.216.1.11:8404/;csv; the API VIP 10.216.1.10, a second address on
           ctl-1's eth0: keystone :5000, nova_api :8774, placement :8778, glance_api :9292,
           neutron_api :9696, galera :3306 tcp: ctl-1's node active, ctl-2/ctl-3 backup, UP when Synced),
           keystone, nova-api, nova-conductor, nova-scheduler, placement-api, glance-api, neutron-server
           + neutron-rpc-server, neutron-metadata-agent
    ctl-2  keystone, nova-api, nova-conductor, nova-scheduler, placement-api
    ctl-3  keystone, nova-api, nova-conductor, nova-scheduler
    cmp-1  nova-compute (compute_driver = fake.FakeDriverWithoutFakeNodes: one node, named cmp-1)

  SPOFs by construction: HAProxy and its VIP (ctl-1), one glance-api and one neutron-server behind it
  (``KNOWN_SPOFS``: hatui's haproxy.spof findings), the metadata agent. Every service reaches
  MariaDB (keystone too: no sqlite shared across hosts) and the APIs through the VIP, RabbitMQ through
  the three controllers' addresses (transport_url), as in a real cloud (oslo.messaging
  heartbeat_timeout_threshold 10 s instead of 60: a client on a dead node fails over within the tests'
  waits). The catalog's URLs are the VIP's; clouds.yaml (``BASE/openstack/clouds.yaml``: hatui-cloud-admin,
  -reader, -system-reader) authenticates at http://10.216.1.10:5000/v3. nova report_interval 2 s /
  service_down_time 6 s, neutron 2 s / 6 s.

Power (``powerd``, one daemon in the root namespace, ``python -m tests.lab.cloud powerd``): every 0.2 s
it reads each host's power as the BMC has it (Redfish: a GET through the emulator, which is what applies
the fake driver's pending change; IPMI: the chassis_control power file) and the feeds' state
(``state/feed-<name>``). A host whose BMC says Off, or whose feed is off, is cut like a power cut: every
process in its namespace (``ip netns pids``) gets SIGKILL at once and its eth0 goes down (its address
stops answering); a feed off also sets the BMCs of its hosts Off (out of band), so they report Off. When
power comes back the daemon sets eth0 up and boots the host's servers (the listener, mariadbd as a
joiner, rabbitmq-server, its OpenStack services, daemons last), the way the host would at start;
``Lab.up()`` / ``reset()`` then repair the clusters (a Galera cluster that lost its Primary component is
bootstrapped again, as galera.Lab does; a RabbitMQ node whose boot failed is forgotten, wiped and joins
again) and start any OpenStack service that exited while its dependencies were away.

Faults: ``power(host, on)`` through the BMC's own API (IPMI: at once; Redfish: the emulator applies it
1-11 s later, see hosts.py), ``feed(name, on)``, ``switch(name, up)`` (the bridge and every port on it
down), ``link(host, up)`` (the host's bridge-side veth), and per service ``kill`` / ``freeze`` / ``thaw``
/ ``stop`` / ``start`` for ``galera`` and ``rabbitmq``.

Not built: a bonded host on both switches. This machine's kernel has no bonding (or team) driver (``ip link
add type bond``: "Unknown device type"), and a host bridging both switches would close a loop over the
trunk; hatui's own handling of a host on two switches or feeds is unit tested (tests/unit/test_redundancy.py).

Measured on this machine (2 cores, 24 GiB, other agents' labs and tests running beside it), 2026-12-02:
  RSS of the whole lab (every process of the 4 namespaces, the 4 BMCs, powerd): 0.90-0.94 GB
    (3 mariadbd + 3 RabbitMQ VMs with their epmd, 4 listeners; no OpenStack service yet)
  up() from nothing (no base dir, no namespaces):  15.2-17.8 s (Galera bootstrap + 2 rsync SSTs ~14 s,
    RabbitMQ boots and clusters at the same time)
  up() when healthy: 0.3 s (0.7 s with the interpreter's start)
With the OpenStack services (2026-12-03, load average 5-8 from other sessions' tests):
  RSS of the whole lab: 4.64 GB after up(), 4.82-4.83 GB steady and at the peak sampled every 5 s through
    tests/lab/test_cloud_lab.py and tests/integration/cloud (OpenStack 3.7-3.8 GB of it: 20 instances,
    ~40 processes; a nova daemon ~250 MB, a gunicorn API ~120-190 MB, HAProxy 15 MB)
  up() from nothing (no base dir, no namespaces; the OpenStack venv of tests/lab/openstack.py installed):
    216-226 s (2 runs: Galera 18 s, then OpenStack 196-197 s: databases, keystone db_sync and bootstrap,
    4 schema syncs, 16 instances importing at once); budget 6 min
  up() when healthy: 2.8 s (3.7 s with the interpreter's start: OpenStack problems() asks nova and neutron)
  kill of nova-compute@cmp-1 -> reset() until it beats again: 17 s
  ctl-2 powered off through IPMI -> its nova-conductor and nova-scheduler 'down' in os-services: 6.0 s;
    powered on -> both 'up' again 25 s later from powerd's boot alone (reset() then finds the whole lab,
    Galera and RabbitMQ included, healthy: 1.5 s)
  power off through IPMI -> every process of the namespace gone: 1.3 s (ipmitool ~1 s, powerd <= 0.2 s);
    through Redfish: 6.1 s (the fake driver applies a ForceOff 1-11 s after the request)
  reset() after ctl-2 powered off and on again (IST, RabbitMQ rejoin): 6.3 s; after feed pdu-b off plus
    a killed Galera node, a killed RabbitMQ node and a link down: 11.1 s; after ctl-1 (Redfish) power
    cycled: 22.7 s
2026-12-04 (this machine, the suite's other labs down):
  up() from nothing, the OpenStack venv installed: 87-98 s (3 runs; 2026-12-03's 216-226 s was under a
    load average of 5-8); in the background of tests/run-all.sh, while the other tests run: the same
  tests/integration/cloud (6 tests) + tests/lab/test_cloud_lab.py (4 tests), lab up: 197-230 s (3 runs)
  a daemon that died at boot (nova-scheduler exits when Keystone answers 500 while Galera rejoins): seen
    once in ~15 power cycles; reset() starts it again
2026-12-07 (fresh machine, in the background of the install): up() from nothing 91.4 s (Galera 13.5 s,
  OpenStack 77 s, 16 instances); RSS 4.66 GB after up(), 5.03 GB after an hour of faults
  alarm(ctl-2, memory) then reset(): 6.1 s; partition(ctl-3, rabbitmq) 20 s then reset(): 40 s (the node
  restarted, then every RPC daemon)
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import shutil
import signal
import sqlite3
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from . import galera, openstack, rabbit
from .common import LAB_BASE, LabError, pid_alive, port_open, run, wait_until
from .hosts import BANNER, BMC_PASSWORD, BMC_USER, LISTENER_CODE, TEMPLATES, _pids_with, _proc_state

BASE = LAB_BASE / "cloud"
CIDR = "10.216.0.0/16"
GUARD_METRIC = 4000
TRUNK = ("vh-hc-trunk1", "vh-hc-trunk2")  # the veth pair joining the two switches
POWER_POLL = 0.2
# After a host boots, powerd starts again any of its OpenStack servers that exits, as systemd's
# Restart=on-failure would (nova-api exits when its database connection drops while its Galera node
# rejoins); later a killed server stays down, so a test can inject that fault.
BOOT_SUPERVISE, RESTART_EVERY = 120.0, 3.0
HEARTBEAT_TIMEOUT = 10  # oslo.messaging heartbeat_timeout_threshold of every RPC client (default 60 s)
STUCK_AFTER = 120.0  # s a reset waits before it restarts a daemon that does not report again


@dataclass(frozen=True)
class Switch:
    name: str
    bridge: str
    jump_address: str  # the jump host's address on this switch (/24)


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    switch: str
    feed: str
    rack: str
    bmc: str  # redfish | ipmi
    index: int
    roles: tuple[str, ...]

    @property
    def netns(self) -> str:
        return f"hc-{self.name}"

    @property
    def veth(self) -> str:
        return f"vh-hc-{self.name}"

    @property
    def redfish_port(self) -> int:
        return 18100 + self.index

    @property
    def ipmi_port(self) -> int:
        return 9100 + self.index

    @property
    def system_id(self) -> str:
        return f"21600000-0000-4000-8000-00000000000{self.index}"

    @property
    def redfish_url(self) -> str:
        return f"http://127.0.0.1:{self.redfish_port}"


SWITCHES = {s.name: s for s in (Switch("sw-1", "br-hc-sw1", "10.216.1.1"),
                                Switch("sw-2", "br-hc-sw2", "10.216.2.1"))}
CONTROLLER = ("galera", "rabbitmq")
HOSTS = {h.name: h for h in (
    Host("ctl-1", "10.216.1.11", "sw-1", "pdu-a", "r1", "redfish", 1, CONTROLLER),
    Host("ctl-2", "10.216.2.12", "sw-2", "pdu-a", "r1", "ipmi", 2, CONTROLLER),
    Host("ctl-3", "10.216.1.13", "sw-1", "pdu-b", "r2", "redfish", 3, CONTROLLER),
    Host("cmp-1", "10.216.2.21", "sw-2", "pdu-b", "r2", "ipmi", 4, ()),
)}
FEEDS = sorted({h.feed for h in HOSTS.values()})
CONTROLLERS = [h for h in HOSTS.values() if "galera" in h.roles]
SERVICES = ("galera", "rabbitmq")
SSH_PORT = 22
GALERA_PORT, GCOMM_PORT, IST_PORT, SST_PORT = 3306, 4567, 4568, 4444
AMQP_PORT, MGMT_PORT, DIST_PORT = 5672, 15672, 25672
EPMD_PORT = 4369
# what partition() cuts between cluster peers: the cluster's own traffic, not its clients'
PARTITION_PORTS = {"galera": (GCOMM_PORT, IST_PORT, SST_PORT), "rabbitmq": (DIST_PORT, EPMD_PORT)}
PARTITION_TAG = "hatui-cloud-partition"


def host(name: str) -> Host:
    try:
        return HOSTS[name]
    except KeyError:
        raise LabError(f"no cloud lab host {name!r} (have {', '.join(HOSTS)})") from None


def _ctl(n: int) -> Host:
    return HOSTS[f"ctl-{n}"]


def _ns_pids(netns: str) -> list[int]:
    out = run(["ip", "netns", "pids", netns], check=False, timeout=10).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def _ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return run(["ip", *(["-n", netns] if netns else []), *args], check=check, timeout=10)


def _spawn(argv: list[str], log: Path, netns: str | None = None, env: dict | None = None,
           cwd: Path | None = None) -> None:
    """Start ``argv`` in its own session (setsid -f), inside ``netns`` when given; returns at once."""
    cmd = ["setsid", "-f", *argv]
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n=== {time.strftime('%F %T')} start: {' '.join(argv)[:300]}\n".encode())
        out.flush()
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                       cwd=str(cwd) if cwd else None, check=True, timeout=10)


# ---------------------------------------------------------------------------------------------- Galera
class GaleraOnHosts(galera.Lab):
    """galera.Lab with node N = ctl-N: each mariadbd in its host's namespace on the host's address."""

    @staticmethod
    def name(n: int) -> str:
        return f"ctl-{n}"

    def dir(self, n: int) -> Path:
        return self.base / f"ctl-{n}"

    def nodes(self) -> list[tuple[str, str, int]]:
        return [(self.name(n), _ctl(n).address, GALERA_PORT) for n in galera.NODES]

    def _tagged_rules(self) -> list[str]:  # no iptables partitions here (the root ones are the other lab's)
        return []

    def heal(self) -> None:
        return None

    def isolate(self, n: int) -> None:
        raise LabError("use link()/switch() in the cloud lab")

    def _write_cnf(self, n: int) -> None:
        d, h = self.dir(n), _ctl(n)
        gcomm = ",".join(f"{_ctl(i).address}:{GCOMM_PORT}" for i in galera.NODES)
        self.cnf(n).write_text(f"""[mysqld]
datadir={d}/data
socket={self.sock(n)}
pid-file={self.pidfile(n)}
log-error={self.errlog(n)}
tmpdir={d}/tmp
bind-address={h.address}
port={GALERA_PORT}
skip-name-resolve
skip-log-bin
performance_schema=OFF
innodb_buffer_pool_size=8M
innodb_log_file_size=16M
innodb_log_buffer_size=2M
key_buffer_size=1M
aria_pagecache_buffer_size=1M
query_cache_size=0
innodb_autoinc_lock_mode=2
binlog_format=ROW
default_storage_engine=InnoDB
max_connections=200
wsrep_on=ON
wsrep_provider={galera.PROVIDER}
wsrep_cluster_name=hatui-cloud
wsrep_cluster_address=gcomm://{gcomm}
wsrep_node_name={self.name(n)}
wsrep_node_address={h.address}
wsrep_node_incoming_address={h.address}:{GALERA_PORT}
wsrep_sst_method=rsync
wsrep_sst_receive_address={h.address}:{SST_PORT}
wsrep_provider_options="gmcast.listen_addr=tcp://{h.address}:{GCOMM_PORT};ist.recv_addr={h.address}:{IST_PORT};gcache.size=32M;{galera.EVS}"
wsrep_slave_threads=1

[sst]
""")

    def _launch(self, n: int, *extra: str) -> None:
        self._prepare(n)
        self.pidfile(n).unlink(missing_ok=True)
        _spawn([galera.MARIADBD, f"--defaults-file={self.cnf(n)}", f"--user={galera.OS_USER}", *extra],
               self.dir(n) / "stdout.log", netns=_ctl(n).netns)

    def status(self) -> str:
        lines = []
        for name, addr, port in self.nodes():
            n = int(name.rsplit("-", 1)[1])
            pid = self.pid(n)
            state = ("down" if pid is None else "FROZEN (SIGSTOP)" if self._frozen(pid)
                     else galera._brief(self.status_vars(n)))
            lines.append(f"{name} {addr}:{port} pid={pid or '-'} {state}")
        return "\n".join(lines)

    def boot(self, n: int) -> None:
        """What the host does at start: mariadbd as a joiner (no wait)."""
        if self.datadir(n).joinpath("mysql").is_dir() and self.pid(n) is None:
            self._launch(n)


# ---------------------------------------------------------------------------------------------- RabbitMQ
class RabbitOnHosts:
    """Three RabbitMQ nodes rabbit@ctl-N, one per controller namespace, clustered at first boot."""

    def __init__(self, base: Path):
        self.base = base
        self.http = httpx.Client(auth=(rabbit.ADMIN_USER, rabbit.ADMIN_PASSWORD), timeout=3, trust_env=False)

    @staticmethod
    def node_name(h: Host) -> str:
        return f"rabbit@{h.name}"

    def dir(self, h: Host) -> Path:
        return self.base / h.name

    def _env(self, h: Host) -> dict[str, str]:
        d = self.dir(h)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        erl = f"-kernel net_ticktime {rabbit.NET_TICKTIME}"
        env.update(HOME=str(self.base), RABBITMQ_CONF_ENV_FILE=str(self.base / "rabbitmq-env.conf"),
                   RABBITMQ_NODENAME=self.node_name(h), RABBITMQ_NODE_IP_ADDRESS=h.address,
                   RABBITMQ_NODE_PORT=str(AMQP_PORT), RABBITMQ_DIST_PORT=str(DIST_PORT),
                   RABBITMQ_CONFIG_FILE=str(d / "rabbitmq.conf"),
                   RABBITMQ_ADVANCED_CONFIG_FILE=str(d / "advanced.config"),
                   RABBITMQ_ENABLED_PLUGINS_FILE=str(d / "enabled_plugins"),
                   RABBITMQ_MNESIA_BASE=str(d / "mnesia"), RABBITMQ_MNESIA_DIR=str(d / "mnesia" / "node"),
                   RABBITMQ_LOG_BASE=str(d / "log"), RABBITMQ_PID_FILE=str(d / "rabbit.pid"),
                   RABBITMQ_FEATURE_FLAGS_FILE=str(d / "feature_flags"),
                   RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=erl, RABBITMQ_CTL_ERL_ARGS=erl)
        return env

    def write_files(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "rabbitmq-env.conf").write_text("")
        cookie = self.base / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(os.urandom(16).hex().upper())
            cookie.chmod(0o400)
        first = CONTROLLERS[0]
        for h in CONTROLLERS:
            (self.dir(h) / "log").mkdir(parents=True, exist_ok=True)
            (self.dir(h) / "mnesia").mkdir(exist_ok=True)
            # The first node forms the cluster, the others join it; peer discovery only acts on a blank node.
            self._write_conf(h, None if h == first else first)
            (self.dir(h) / "advanced.config").write_text("[].\n")
            (self.dir(h) / "enabled_plugins").write_text("[rabbitmq_management].\n")

    def _write_conf(self, h: Host, join: Host | None) -> None:
        peers = ("cluster_formation.peer_discovery_backend = classic_config\n"
                 f"cluster_formation.classic_config.nodes.1 = {self.node_name(join)}\n"
                 "cluster_formation.discovery_retry_limit = 240\n"
                 "cluster_formation.discovery_retry_interval = 500\n") if join else ""
        (self.dir(h) / "rabbitmq.conf").write_text(f"""\
listeners.tcp.1 = {h.address}:{AMQP_PORT}
management.tcp.ip = {h.address}
management.tcp.port = {MGMT_PORT}
cluster_partition_handling = ignore
{peers}loopback_users = none
default_user = {rabbit.ADMIN_USER}
default_pass = {rabbit.ADMIN_PASSWORD}
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.file.level = info
log.console = false
collect_statistics_interval = 1000
management.rates_mode = basic
""")

    def wipe(self) -> None:
        """Every node's data gone, as on a new machine: the next boot forms a new cluster (users made again)."""
        for h in CONTROLLERS:
            shutil.rmtree(self.dir(h) / "mnesia", ignore_errors=True)
            (self.dir(h) / "feature_flags").unlink(missing_ok=True)
        (self.base / "users-ok").unlink(missing_ok=True)

    def pid(self, h: Host) -> int | None:
        needle = f"RABBITMQ_PID_FILE={self.dir(h) / 'rabbit.pid'}"
        for pid in _ns_pids(h.netns):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                env = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if b"beam" in cmd and needle in env and pid_alive(pid):
                return pid
        return None

    def boot(self, h: Host) -> None:
        if self.pid(h) is None:
            _spawn([str(rabbit.RMQ_BIN / "rabbitmq-server")], self.dir(h) / "log" / "stdout.log", netns=h.netns,
                   env=self._env(h), cwd=self.dir(h))

    def ctl(self, h: Host, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return run(["ip", "netns", "exec", h.netns, str(rabbit.RMQ_BIN / "rabbitmqctl"), "-n", self.node_name(h),
                    *args], env=self._env(h), timeout=timeout, cwd=str(self.base))

    def url(self, h: Host, path: str) -> str:
        return f"http://{h.address}:{MGMT_PORT}{path}"

    def view(self, h: Host) -> list | None:
        try:
            r = self.http.get(self.url(h, "/api/nodes"), timeout=3)
            return r.json() if r.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    def client_nodes(self, binary: str, host: str) -> set[str]:
        """The RabbitMQ nodes a host's RPC client (oslo.messaging names its connections
        ``<binary>:<pid>:<uuid>``) holds connections to, as the cluster lists them."""
        address = HOSTS[host].address
        for h in CONTROLLERS:
            try:
                r = self.http.get(self.url(h, "/api/connections?columns=node,peer_host,"
                                              "client_properties.connection_name"), timeout=3)
                conns = r.json() if r.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                continue
            if isinstance(conns, list):
                return {c["node"] for c in conns if c.get("peer_host") == address
                        and str(c.get("client_properties", {}).get("connection_name", "")).startswith(binary + ":")}
        raise LabError("no RabbitMQ node lists its connections")

    def problems(self) -> list[str]:
        out = []
        for h in CONTROLLERS:
            pid = self.pid(h)
            if not pid:
                out.append(f"{self.node_name(h)} not running")
                continue
            if _proc_state(pid) in ("T", "t"):
                out.append(f"{self.node_name(h)} frozen")
                continue
            v = self.view(h)
            if v is None:
                out.append(f"{self.node_name(h)}: no /api/nodes")
                continue
            seen = {x.get("name"): x for x in v}
            for k in CONTROLLERS:
                x = seen.get(self.node_name(k))
                if not x or not x.get("running"):
                    out.append(f"{h.name} sees {self.node_name(k)} not running")
                elif x.get("partitions"):
                    out.append(f"{h.name}: {k.name} partitioned from {x['partitions']}")
                elif x.get("mem_alarm") or x.get("disk_free_alarm"):
                    out.append(f"{h.name}: {k.name} alarm mem={x.get('mem_alarm')} disk={x.get('disk_free_alarm')}")
        return out

    def _restart(self, h: Host) -> None:
        pid = self.pid(h)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 10, 0.05, "the beam to die")
        self.boot(h)

    def alarm(self, h: Host, kind: str, timeout: float = 30) -> None:
        """A real resource alarm on h's node (publishers then blocked cluster-wide): ``memory`` (watermark
        0.0001) or ``disk`` (free limit 1 PB). Waits until the node's API reports it."""
        if kind == "memory":
            self.ctl(h, "set_vm_memory_high_watermark", str(rabbit.ALARM_MEM_WATERMARK))
            field = "mem_alarm"
        elif kind == "disk":
            self.ctl(h, "set_disk_free_limit", str(rabbit.ALARM_DISK_FREE_LIMIT))
            field = "disk_free_alarm"
        else:
            raise LabError(f"alarm kind must be 'memory' or 'disk', not {kind!r}")
        wait_until(lambda: any(x.get("name") == self.node_name(h) and x.get(field) for x in self.view(h) or ()),
                   timeout, 0.3, f"{field} on {self.node_name(h)}")

    def clear_alarms(self, timeout: float = 30) -> None:
        """The default watermark and disk limit on every running node; waits until no node reports an alarm."""
        for h in CONTROLLERS:
            if self.pid(h) and _proc_state(self.pid(h) or 0) not in ("T", "t"):
                self.ctl(h, "set_vm_memory_high_watermark", str(rabbit.MEM_WATERMARK), timeout=30)
                self.ctl(h, "set_disk_free_limit", str(rabbit.DISK_FREE_LIMIT), timeout=30)

        def clear() -> bool:
            views = [self.view(h) for h in CONTROLLERS if self.pid(h)]
            return all(v is not None and not any(x.get("mem_alarm") or x.get("disk_free_alarm") for x in v)
                       for v in views)
        wait_until(clear, timeout, 0.3, "no RabbitMQ alarm")

    def _boot_failed(self, h: Host) -> bool:
        """The node's last start ended in BOOT FAILED (seen at a first boot on a loaded machine: a joiner
        copied the schema before the feature flags were enabled, ``schema_integrity_check_failed``)."""
        try:
            text = (self.dir(h) / "log" / "stdout.log").read_text(errors="replace")
        except OSError:
            return False
        return "BOOT FAILED" in text.rsplit("\n=== ", 1)[-1]

    def _rebuild(self, h: Host) -> None:
        """A node that cannot boot from its own data: forgotten by a running peer, its data wiped, booted
        again as a new joiner (the cluster's state lives on in its peers)."""
        peer = next((p for p in CONTROLLERS if p != h and self.pid(p)), None)
        if peer is not None:
            with contextlib.suppress(LabError, subprocess.TimeoutExpired):
                self.ctl(peer, "forget_cluster_node", self.node_name(h), timeout=60)
        # A blank first node would form a cluster of its own: it joins the running peer instead.
        self._write_conf(h, peer if peer is not None else (None if h == CONTROLLERS[0] else CONTROLLERS[0]))
        shutil.rmtree(self.dir(h) / "mnesia", ignore_errors=True)
        (self.dir(h) / "mnesia").mkdir()
        (self.dir(h) / "feature_flags").unlink(missing_ok=True)
        self.boot(h)

    def ensure_users(self) -> None:
        h = CONTROLLERS[0]

        def send(method: str, path: str, body: object = None) -> None:
            r = self.http.request(method, self.url(h, path), json=body, timeout=10)
            if r.status_code >= 400 and not (method == "DELETE" and r.status_code == 404):
                raise LabError(f"{method} {path} -> {r.status_code} {r.text[:200]}")

        send("PUT", f"/api/users/{rabbit.MONITOR_USER}",
             {"password": rabbit.MONITOR_PASSWORD, "tags": rabbit.MONITOR_TAGS})
        send("PUT", f"/api/users/{rabbit.CANARY_USER}", {"password": rabbit.CANARY_PASSWORD, "tags": ""})
        send("PUT", f"/api/permissions/%2F/{rabbit.CANARY_USER}", rabbit.CANARY_PERMISSIONS)
        send("PUT", "/api/cluster-name", {"name": "hatui-cloud"})
        (self.base / "users-ok").write_text("ok\n")

    def repair(self, timeout: float = 180) -> set[str]:
        """Every node running, clustered, without alarm or partition; returns the hosts whose node it had to
        restart or rebuild."""
        for h in CONTROLLERS:
            pid = self.pid(h)
            if pid and _proc_state(pid) in ("T", "t"):
                os.kill(pid, signal.SIGCONT)
        for h in CONTROLLERS:
            if HostPower.booted(h):
                self.boot(h)
        deadline = time.monotonic() + timeout
        restarted: set[str] = set()
        silent_since: dict[str, float] = {}
        while True:
            probs = self.problems()
            if not probs:
                break
            if time.monotonic() > deadline:
                raise LabError(f"RabbitMQ on the cloud hosts not healthy after {timeout:.0f}s: {probs}")
            for h in CONTROLLERS:
                if h.name not in restarted and self.pid(h) is None and HostPower.booted(h) and self._boot_failed(h):
                    restarted.add(h.name)
                    self._rebuild(h)
            if any(" alarm mem=" in p for p in probs):
                self.clear_alarms()
            now = time.monotonic()
            for h in CONTROLLERS:
                # A partition that stays (handling = ignore), or a node whose start hangs after one (Erlang's
                # global name server stuck after "Faking nodedown/nodeup", seen once a partition healed):
                # the node is killed and boots again, as an operator would restart it.
                partitioned = any(f"{h.name}: " in p and "partitioned" in p for p in probs)
                silent = f"{self.node_name(h)}: no /api/nodes" in probs
                silent_since[h.name] = silent_since.get(h.name, now) if silent else now
                if h.name not in restarted and (partitioned or now - silent_since[h.name] > 30):
                    restarted.add(h.name)
                    self._restart(h)
                    break
            time.sleep(0.5)
        if not (self.base / "users-ok").exists():
            self.ensure_users()
        return restarted


# ---------------------------------------------------------------------------------------------- OpenStack
VIP = "10.216.1.10"  # the API VIP: a second address on ctl-1's eth0, HAProxy's frontends on standard ports
KEYSTONE_PORT, NOVA_API_PORT, PLACEMENT_PORT, GLANCE_PORT, NEUTRON_PORT, LB_STATS_PORT = (
    5000, 8774, 8778, 9292, 9696, 8404)
# what each host runs besides Galera and RabbitMQ (binary, port); HAProxy on ctl-1 only, glance-api and
# neutron-server on ctl-1 only (behind the VIP: SPOFs by construction), placement on ctl-1 and ctl-2
OPENSTACK: dict[str, tuple[tuple[str, int | None], ...]] = {
    "ctl-1": (("haproxy", LB_STATS_PORT), ("keystone", KEYSTONE_PORT), ("nova-api", NOVA_API_PORT),
              ("nova-conductor", None), ("nova-scheduler", None), ("placement-api", PLACEMENT_PORT),
              ("glance-api", GLANCE_PORT), ("neutron-server", NEUTRON_PORT), ("neutron-rpc-server", None),
              ("neutron-metadata-agent", None)),
    "ctl-2": (("keystone", KEYSTONE_PORT), ("nova-api", NOVA_API_PORT), ("nova-conductor", None),
              ("nova-scheduler", None), ("placement-api", PLACEMENT_PORT)),
    "ctl-3": (("keystone", KEYSTONE_PORT), ("nova-api", NOVA_API_PORT), ("nova-conductor", None),
              ("nova-scheduler", None)),
    "cmp-1": (("nova-compute", None),),
}
_COMPONENT = {"haproxy": "haproxy", "keystone": "keystone", "placement-api": "placement", "glance-api": "glance"}
_WSGI_MODULE = {"keystone": "keystone.wsgi.api", "nova-api": "nova.wsgi.osapi_compute",
                "placement-api": "placement.wsgi.api", "glance-api": "glance.wsgi.api",
                "neutron-server": "neutron.wsgi.api"}
LB_BACKENDS = ("keystone", "nova_api", "placement", "glance_api", "neutron_api")
READER_POLICY = {"nova": {"os_compute_api:os-services:list": "role:reader"}, "neutron": {"get_agent": "role:reader"}}
# SPOFs by construction, as hatui names them with the config of Lab.config(): one glance-api and one
# neutron-server behind the VIP; the lone HAProxy (and its VIP) on ctl-1, so ctl-1 takes every API down;
# ctl-1 and ctl-2 share feed pdu-a and rack r1, ctl-1 and ctl-3 switch sw-1, each pair 2 of the 3 Galera
# and RabbitMQ nodes; cmp-1 the only nova-compute (its feed, rack and switch are said in its finding).
KNOWN_SPOFS = frozenset({"haproxy.spof:lb/glance_api/ctl-1", "haproxy.spof:lb/neutron_api/ctl-1",
                         "haproxy.spof:lb", "redundancy.spof:ctl-1", "redundancy.spof:pdu-a",
                         "redundancy.spof:r1", "redundancy.spof:sw-1", "redundancy.spof:cmp-1"})


class OpenStackOnHosts(openstack.Lab):
    """The OpenStack lab's services (its config templates and launch code) placed on the cloud's hosts:
    each instance in its host's namespace on the host's address, reporting the host's name; MariaDB
    through HAProxy's Galera VIP on ctl-1 (ctl-1's node active, the others backup), RabbitMQ on the
    three controllers, keystone on Galera too (no sqlite shared across hosts)."""

    keystone_sqlite = False
    cloud_prefix = "hatui-cloud"
    main_host = "ctl-1"
    metadata_host = VIP
    keystone_url = f"http://{VIP}:{KEYSTONE_PORT}"
    haproxy_defaults = ("    option redispatch", "    retries 2")
    start_timeout = 360.0  # ~20 instances importing at once on 2 cores

    def __init__(self, base: Path, galera_lab: GaleraOnHosts):
        self.base = base
        self.etc, self.log, self.rundir, self.state = base / "etc", base / "log", base / "run", base / "state"
        self.clouds_yaml_path = base / "clouds.yaml"
        self.haproxy_socket = self.rundir / "haproxy.sock"
        self.haproxy_stats_url = f"http://{self.stats_bind}/;csv"
        self.compute_urls = [f"http://{a}:{NOVA_API_PORT}/v2.1" for a in (VIP, *self._addresses("nova-api"))]
        self.network_urls = [f"http://{a}:{NEUTRON_PORT}" for a in (VIP, *self._addresses("neutron-server"))]
        self.catalog = (("nova", "compute", f"http://{VIP}:{NOVA_API_PORT}/v2.1"),
                        ("placement", "placement", f"http://{VIP}:{PLACEMENT_PORT}"),
                        ("glance", "image", f"http://{VIP}:{GLANCE_PORT}"),
                        ("neutron", "network", f"http://{VIP}:{NEUTRON_PORT}"))
        self.admin = openstack._Admin([f"http://{a}:{KEYSTONE_PORT}/v3"
                                       for a in (VIP, *self._addresses("keystone"))])
        self._galera = galera_lab
        super().__init__(components=" ".join(openstack.COMPONENTS), infra_up=False)

    @staticmethod
    def _addresses(binary: str) -> list[str]:
        return [HOSTS[h].address for h, svcs in OPENSTACK.items() if binary in (b for b, _ in svcs)]

    def _instances(self) -> list[openstack.Instance]:
        out = []
        for hname, svcs in OPENSTACK.items():
            h = HOSTS[hname]
            for binary, port in svcs:
                kind = "haproxy" if binary == "haproxy" else "wsgi" if binary in _WSGI_MODULE else "daemon"
                comp = _COMPONENT.get(binary) or binary.split("-", 1)[0]
                out.append(openstack.Instance(f"{binary}@{hname}", binary, hname, comp, kind, port,
                                              _WSGI_MODULE.get(binary, ""), h.address, h.netns, self.etc))
        return out

    def on(self, h: Host) -> list[openstack.Instance]:
        return [i for i in self.instances if i.host == h.name]

    # ------------------------------------------------------------------ where things are
    @property
    def vips(self) -> dict[str, tuple[str, str, tuple[str, ...]]]:
        names = {"keystone": "keystone", "nova_api": "nova-api", "placement": "placement-api",
                 "glance_api": "glance-api", "neutron_api": "neutron-server"}
        return {vip: (f"{VIP}:{port}", path, tuple(i.name for i in self._of(names[vip])))
                for vip, (port, path) in {"keystone": (KEYSTONE_PORT, "/v3"), "nova_api": (NOVA_API_PORT, "/"),
                                          "placement": (PLACEMENT_PORT, "/"), "glance_api": (GLANCE_PORT, "/"),
                                          "neutron_api": (NEUTRON_PORT, "/")}.items()}

    @property
    def stats_bind(self) -> str:
        return f"{HOSTS['ctl-1'].address}:{LB_STATS_PORT}"

    @property
    def db_host(self) -> str:
        return VIP

    @property
    def db_port(self) -> int:
        return GALERA_PORT

    @property
    def db_vip_bind(self) -> str:
        return f"{VIP}:{GALERA_PORT}"

    @property
    def auth_url(self) -> str:
        return f"{self.keystone_url}/v3"

    def _db_backends(self) -> list[tuple[str, str, int]]:
        return [(h.name, h.address, GALERA_PORT) for h in CONTROLLERS]

    def _infra_info(self) -> dict:
        if self._infra is None:
            self._infra = {"galera": self._galera, "db_port": GALERA_PORT,
                           "amqp": [f"{h.address}:{AMQP_PORT}" for h in CONTROLLERS],
                           "mgmt_urls": [f"http://{h.address}:{MGMT_PORT}/api" for h in CONTROLLERS],
                           "mq_admin": (rabbit.ADMIN_USER, rabbit.ADMIN_PASSWORD)}
        return self._infra

    def _wsgi_conf_dir(self, inst: openstack.Instance) -> Path:
        d = super()._wsgi_conf_dir(inst)
        return d / inst.host if inst.binary in ("placement-api", "glance-api") else d

    def _instance_conf(self, inst: openstack.Instance) -> str:
        conf = super()._instance_conf(inst) + f"my_ip = {inst.address}\n"
        if inst.binary == "nova-compute":
            state = self.base / "nova" / inst.host
            (state / "lock").mkdir(parents=True, exist_ok=True)
            # like a real single-node driver: a stable node name and the node identity in state_path/compute_id
            # (plain FakeDriver writes none: the second start refuses, "No local node identity found")
            conf += (f"compute_driver = fake.FakeDriverWithoutFakeNodes\nstate_path = {state}\n"
                     f"instances_path = {state / 'instances'}\n[oslo_concurrency]\nlock_path = {state / 'lock'}\n")
        if inst.binary == "neutron-metadata-agent":
            conf += f"metadata_proxy_socket = {self.base / 'neutron' / f'metadata_proxy-{inst.host}'}\n"
        # a connection to a powered-off node is given up after 10 s of missed heartbeats (default 60 s):
        # clients fail over to another node within the tests' waits
        return conf + f"[oslo_messaging_rabbit]\nheartbeat_timeout_threshold = {HEARTBEAT_TIMEOUT}\n"

    # ------------------------------------------------------------------ processes
    def _launch(self, inst: openstack.Instance, argv: list[str], env: dict, out) -> int | None:
        """In the host's namespace, detached (setsid -f): no zombie is left to the launcher (powerd
        launches at boot), and the instance is found by its marker in /proc."""
        subprocess.run(["ip", "netns", "exec", inst.netns, "setsid", "-f", *argv], stdin=subprocess.DEVNULL,
                       stdout=out, stderr=subprocess.STDOUT, env=env, cwd=str(self.base), check=True, timeout=10)
        return None

    def _wait_apis(self, deadline: float | None = None) -> None:
        """Until HAProxy serves keystone and placement through the VIP (it marks a started server UP ~2 s
        after it answers)."""
        def serving() -> bool:
            return all(openstack.http("GET", f"http://{VIP}:{port}/", timeout=3)[0] < 500
                       for port in (KEYSTONE_PORT, PLACEMENT_PORT))
        wait_until(serving, max(5.0, (deadline or time.monotonic() + 60) - time.monotonic()), 0.3,
                   "keystone and placement through the VIP")

    def _hang_pids(self) -> dict[int, int]:
        return {}  # the loopback lab's hang listeners are not this lab's (and it has none)

    # ------------------------------------------------------------------ policies: the README's two lines
    def clear_policy(self, component: str | None = None) -> None:
        """Back to this cloud's own policies: a reader may list nova services and neutron agents (the two
        lines the README asks an operator to add for hatui)."""
        super().clear_policy(component)
        for comp, rules in READER_POLICY.items():
            if component in (None, comp):
                self.set_policy(comp, rules)

    def _policy_overrides(self) -> list[str]:
        """Components whose policy.yaml is not this cloud's own (missing counts)."""
        def own(comp: str) -> str | None:
            return "".join(f'"{k}": "{v}"\n' for k, v in READER_POLICY[comp].items()) if comp in READER_POLICY else None

        def text(comp: str) -> str | None:
            try:
                return (self.etc / comp / "policy.yaml").read_text()
            except OSError:
                return None
        comps = set(READER_POLICY) | {p.parent.name for p in self.etc.glob("*/policy.yaml")}
        return sorted(c for c in comps if text(c) != own(c))

    def boot(self, h: Host) -> None:
        """What the host starts at boot (no wait): its servers, daemons last (they need the APIs)."""
        if not self._ready_stamps():
            return  # never set up: up() does it, in order
        for inst in sorted(self.on(h), key=lambda i: i.kind == "daemon"):
            with contextlib.suppress(LabError, subprocess.SubprocessError):
                self._spawn(inst)

    # ------------------------------------------------------------------ lifecycle
    def up(self) -> str:
        """Idempotent (Galera and RabbitMQ must be up): venv, configs, databases, HAProxy, keystone, catalog,
        schemas, every instance serving."""
        t0 = time.monotonic()
        venv_s = self.ensure_venv()
        if not venv_s and self._ready_stamps() and not self.problems():
            return f"healthy ({time.monotonic() - t0:.1f}s)"
        self._defaults_restore()  # (the reader's policies too)
        self._write_configs()
        self._ensure_databases()
        self._ensure_mq_user()
        self._up_haproxy()
        self._wait_db_vip()
        self._keystone_db()
        self._start_many(self._of("keystone"), self.start_timeout)
        wait_until(lambda: openstack.http("GET", f"{self.keystone_url}/v3", timeout=3)[0] < 500, 60, 0.3,
                   "keystone through the VIP")
        self._catalog()
        synced = self._sync_schemas()
        started = self._start_many(self.instances, self.start_timeout)
        self._wait_healthy(self.start_timeout)
        return f"up in {time.monotonic() - t0:.1f}s; synced {synced or 'nothing'}; started {len(started)}"

    def restart_daemons(self) -> None:
        daemons = [i for i in self.instances if i.kind == "daemon" and HostPower.booted(host(i.host))]
        self._stop_many(daemons)
        with contextlib.suppress(LabError):  # one that does not start is the reset's to retry
            self._start_many(daemons, 90)

    def reset(self) -> str:
        probs = self.problems()
        if not probs:
            return "healthy"
        self._defaults_restore()
        started = self._start_many(self.instances, self.start_timeout)
        t0 = time.monotonic()
        restarted = False
        while now := self.problems():
            if time.monotonic() - t0 > self.start_timeout:
                raise LabError(f"OpenStack lab not healthy after {self.start_timeout:.0f}s: {now}")
            # A daemon that died at boot on a dependency not ready yet (nova-scheduler exits when Keystone
            # answers 500 while its database rejoins): started again, as systemd's Restart= would.
            dead = [i for i in self.instances if f"{i.name} not running" in now]
            if dead:
                with contextlib.suppress(LabError):  # died again: tried again on a later turn, until the timeout
                    started += self._start_many(dead, 90)
            # After a power cut a daemon now and then never reports again: its RPC connection stuck in a
            # reconnect (oslo.messaging/kombu). An operator restarts it; so does the lab, once.
            stuck = [i for i in self.instances if any(p.startswith((f"{i.name} not up", f"{i.name} not alive"))
                                                      for p in now)]
            if stuck and not restarted and time.monotonic() - t0 > STUCK_AFTER:
                restarted = True
                self._stop_many(stuck)
                with contextlib.suppress(LabError):
                    started += self._start_many(stuck, 90)
            time.sleep(0.5)
        return f"reset (was: {'; '.join(probs)}; started {started or 'nothing'})"


# ---------------------------------------------------------------------------------------------- power
class HostPower:
    """Power as the BMCs and feeds have it, and the cut/boot that follows (used by powerd)."""

    @staticmethod
    def state_dir() -> Path:
        return BASE / "state"

    @staticmethod
    def booted(h: Host) -> bool:
        return not (HostPower.state_dir() / f"{h.name}.off").exists()

    @staticmethod
    def feed_on(feed: str) -> bool:
        return not (HostPower.state_dir() / f"feed-{feed}.off").exists()

    @staticmethod
    def ipmi_power_file(h: Host) -> Path:
        return BASE / "bmc" / "ipmi" / h.name / "power"

    @staticmethod
    def redfish_state(h: Host) -> Path:
        return BASE / "bmc" / "redfish" / h.name

    @staticmethod
    def bmc_on(h: Host, client: httpx.Client | None = None) -> bool | None:
        """The BMC's power state (None when it cannot be read: keep what is)."""
        if h.bmc == "ipmi":
            try:
                return HostPower.ipmi_power_file(h).read_text().strip() != "0"
            except OSError:
                return None
        try:
            c = client or httpx
            r = c.get(f"{h.redfish_url}/redfish/v1/Systems/{h.system_id}", auth=(BMC_USER, BMC_PASSWORD),
                      timeout=2)
            return r.json().get("PowerState") != "Off" if r.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    @staticmethod
    def force_bmc(h: Host, on: bool) -> None:
        """Out of band (the feed, reset()): what the BMC reports, with no pending change left."""
        if h.bmc == "ipmi":
            HostPower.ipmi_power_file(h).parent.mkdir(parents=True, exist_ok=True)
            HostPower.ipmi_power_file(h).write_text("1\n" if on else "0\n")
            return
        db = HostPower.redfish_state(h) / "fakedriver.sqlite"
        if not db.exists():
            return
        state = "On" if on else "Off"
        con = sqlite3.connect(db, timeout=5)
        try:
            with con:
                for key, value in con.execute("select key, value from cache").fetchall():
                    system = pickle.loads(value)
                    if system.get("power_state") != state or system.get("pending_power"):
                        system.update(power_state=state, pending_power=None)
                        con.execute("update cache set value=? where key=?", (pickle.dumps(system), key))
        finally:
            con.close()

    @staticmethod
    def cut(h: Host) -> None:
        """A power cut: SIGKILL every process of the namespace at once, the address stops answering."""
        (HostPower.state_dir() / f"{h.name}.off").write_text(f"{time.time()}\n")
        # Killed until the namespace has stayed empty for 0.3 s: once (CI) a process was still found in it
        # right after the first empty listing.
        quiet_since, deadline = None, time.monotonic() + 5
        while time.monotonic() < deadline:
            pids = _ns_pids(h.netns)
            if pids:
                quiet_since = None
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= 0.3:
                break
            time.sleep(0.05)
        _ip("link", "set", "eth0", "down", netns=h.netns, check=False)
        (HostPower.state_dir() / f"{h.name}.cut").write_text(f"{time.time()}\n")  # the cut is complete

    @staticmethod
    def boot(h: Host, start: bool = True) -> None:
        """Power is back: the link comes up (with its route: a link down drops it) and the host starts its
        servers (``start=False``: the caller starts them)."""
        _ip("link", "set", "eth0", "up", netns=h.netns, check=False)
        _ip("route", "replace", CIDR, "dev", "eth0", netns=h.netns, check=False)
        (HostPower.state_dir() / f"{h.name}.off").unlink(missing_ok=True)
        (HostPower.state_dir() / f"{h.name}.cut").unlink(missing_ok=True)
        if start:
            Lab().boot_host(h)


def powerd() -> None:
    """The power daemon's loop (one process; ``Lab.up()`` starts it)."""
    client = httpx.Client(trust_env=False)
    HostPower.state_dir().mkdir(parents=True, exist_ok=True)
    supervised: dict[str, float] = {}  # host -> when it booted
    last_round = 0.0
    while True:
        now = time.monotonic()
        if supervised and now - last_round >= RESTART_EVERY:
            last_round = now
            for name, t in list(supervised.items()):
                if now - t > BOOT_SUPERVISE or not HostPower.booted(HOSTS[name]):
                    del supervised[name]
                    continue
                try:
                    ost = Lab().openstack
                    dead = [i.name for i in ost.on(HOSTS[name]) if ost.pid(i.name) is None]
                    if dead:
                        print(f"{time.strftime('%T')} {name}: restarting {', '.join(dead)}", flush=True)
                        ost.boot(HOSTS[name])  # starts only what is not running
                except Exception as exc:  # noqa: BLE001 - the daemon keeps running; the log says why
                    print(f"{time.strftime('%T')} {name}: restart failed: {exc}", flush=True)
        for h in HOSTS.values():
            if not HostPower.feed_on(h.feed):
                if HostPower.bmc_on(h, client):
                    HostPower.force_bmc(h, False)
                want = False
            else:
                want = HostPower.bmc_on(h, client)
            if want is None or want == HostPower.booted(h):
                continue
            try:
                HostPower.cut(h) if not want else HostPower.boot(h)
            except Exception as exc:  # noqa: BLE001 - the daemon keeps running; the log says why
                print(f"{time.strftime('%T')} {h.name}: {'boot' if want else 'cut'} failed: {exc}", flush=True)
            else:
                print(f"{time.strftime('%T')} {h.name}: {'booted' if want else 'power cut'}", flush=True)
                if want:
                    supervised[h.name] = time.monotonic()
        time.sleep(POWER_POLL)


# ---------------------------------------------------------------------------------------------- the lab
class Lab:
    """The cloud lab. Synchronous, bounded by timeouts, needs root."""

    def __init__(self, base: Path = BASE):
        self.base = Path(base)
        self.galera = GaleraOnHosts(self.base / "galera")
        self.rabbit = RabbitOnHosts(self.base / "rabbit")
        self.openstack = OpenStackOnHosts(self.base / "openstack", self.galera)

    # ------------------------------------------------------------------ lock
    @contextlib.contextmanager
    def _lock(self, timeout: float = 600):
        self.base.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.base / "cloud.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LabError("another process holds the cloud lab's lock") from None
                    time.sleep(0.2)
            yield
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ network
    @staticmethod
    def _guard(on: bool) -> None:
        if on:
            run(["ip", "route", "replace", "unreachable", CIDR, "metric", str(GUARD_METRIC)], timeout=10)
        else:
            run(["ip", "route", "del", "unreachable", CIDR, "metric", str(GUARD_METRIC)], check=False, timeout=10)

    def _net_up(self) -> None:
        for s in SWITCHES.values():
            if not Path(f"/sys/class/net/{s.bridge}").exists():
                _ip("link", "add", s.bridge, "type", "bridge")
            _ip("addr", "replace", f"{s.jump_address}/24", "dev", s.bridge)
            _ip("link", "set", s.bridge, "up")
        if not Path(f"/sys/class/net/{TRUNK[0]}").exists():
            _ip("link", "del", TRUNK[1], check=False)
            _ip("link", "add", TRUNK[0], "type", "veth", "peer", "name", TRUNK[1])
        _ip("link", "set", TRUNK[0], "master", SWITCHES["sw-1"].bridge, "up")
        _ip("link", "set", TRUNK[1], "master", SWITCHES["sw-2"].bridge, "up")
        hosts_file = "127.0.0.1 localhost\n" + "".join(f"{h.address} {h.name}\n" for h in HOSTS.values())
        for h in HOSTS.values():
            etc = Path("/etc/netns") / h.netns
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "hosts").write_text(hosts_file)
            if not Path(f"/run/netns/{h.netns}").exists():
                _ip("netns", "add", h.netns)
            peer_ok = _ip("link", "show", "eth0", netns=h.netns, check=False).returncode == 0
            veth_ok = Path(f"/sys/class/net/{h.veth}").exists()
            if veth_ok != peer_ok:
                _ip("link", "del", h.veth if veth_ok else "eth0", netns=None if veth_ok else h.netns)
            if not (veth_ok and peer_ok):
                _ip("link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", h.netns)
            _ip("link", "set", h.veth, "master", SWITCHES[h.switch].bridge, "up")
            _ip("addr", "replace", f"{h.address}/24", "dev", "eth0", netns=h.netns)
            if h.name == "ctl-1":  # the API VIP lives (and dies) with ctl-1
                _ip("addr", "replace", f"{VIP}/24", "dev", "eth0", netns=h.netns)
            _ip("link", "set", "lo", "up", netns=h.netns)
            if HostPower.booted(h):
                _ip("link", "set", "eth0", "up", netns=h.netns)
                _ip("route", "replace", CIDR, "dev", "eth0", netns=h.netns)

    # ------------------------------------------------------------------ BMCs and powerd
    def _bmc_pids(self, h: Host) -> list[int]:
        return _pids_with(str(self._bmc_conf(h)))

    def _bmc_conf(self, h: Host) -> Path:
        return self.base / "bmc" / h.bmc / f"{h.name}.conf"

    def _bmc_up(self) -> list[str]:
        import bcrypt

        bmc = self.base / "bmc"
        for d in ("redfish", "ipmi", "logs"):
            (bmc / d).mkdir(parents=True, exist_ok=True)
        htpasswd = bmc / "redfish" / "htpasswd"
        if not htpasswd.exists():
            digest = bcrypt.hashpw(BMC_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
            htpasswd.write_text(f"{BMC_USER}:{digest}\n")
        chassis = bmc / "ipmi" / "chassis_control.sh"
        chassis.write_bytes((TEMPLATES / "chassis_control.sh").read_bytes())
        chassis.chmod(0o755)
        (bmc / "ipmi" / "bmc.emu").write_bytes((TEMPLATES / "bmc.emu").read_bytes())
        started = []
        for h in HOSTS.values():
            conf = self._bmc_conf(h)
            if h.bmc == "redfish":
                conf.write_text(string.Template((TEMPLATES / "redfish.conf.in").read_text()).substitute(
                    name=h.name, port=h.redfish_port, state_dir=HostPower.redfish_state(h), uuid=h.system_id,
                    mac=f"52:54:00:16:00:{h.index:02x}", address=h.address, htpasswd=htpasswd, tls=""))
                if not self._bmc_pids(h):
                    exe = Path(sys.executable).parent / "sushy-emulator"
                    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "sushy_tools.emulator.main"]
                    _spawn([*argv, "--config", str(conf)], bmc / "logs" / f"redfish-{h.name}.log")
                    started.append(f"redfish-{h.name}")
            else:
                power = HostPower.ipmi_power_file(h)
                power.parent.mkdir(parents=True, exist_ok=True)
                if not power.exists():
                    power.write_text("1\n")
                conf.write_text(string.Template((TEMPLATES / "ipmi_sim.conf.in").read_text()).substitute(
                    name=h.name, port=h.ipmi_port, guid=f"a216{h.index:028x}", chassis_control=chassis,
                    power_file=power, user=BMC_USER, password=BMC_PASSWORD))
                if not self._bmc_pids(h):
                    st = bmc / "ipmi" / h.name / "state"
                    st.mkdir(parents=True, exist_ok=True)
                    _spawn(["ipmi_sim", "-c", str(conf), "-f", str(bmc / "ipmi" / "bmc.emu"), "-s", str(st), "-n"],
                           bmc / "logs" / f"ipmi-{h.name}.log")
                    started.append(f"ipmi-{h.name}")
        for h in HOSTS.values():
            wait_until(lambda h=h: self._bmc_pids(h), 10, 0.05, f"BMC of {h.name}")
        for h in HOSTS.values():
            if h.bmc == "redfish":
                wait_until(lambda h=h: HostPower.bmc_on(h) is not None, 30, 0.2, f"Redfish BMC of {h.name}")
        return started

    def _powerd_marker(self) -> str:
        return f"--hatui-cloud-powerd={self.base}"

    def _powerd_pids(self) -> list[int]:
        return _pids_with(self._powerd_marker())

    def _powerd_up(self) -> None:
        if self._powerd_pids():
            return
        _spawn([sys.executable, "-m", "tests.lab.cloud", "powerd", self._powerd_marker()],
               self.base / "powerd.log", cwd=Path(__file__).resolve().parents[2])
        wait_until(self._powerd_pids, 10, 0.05, "the power daemon")

    # ------------------------------------------------------------------ servers of a host
    def _listener_tag(self, h: Host) -> str:
        return f"--hatui-lab-listener={self.base}/{h.name}"

    def boot_host(self, h: Host, with_openstack: bool = True, with_galera: bool = True) -> None:
        """Start what the host runs at boot (no wait): its :22 listener, then its servers."""
        if not _pids_with(self._listener_tag(h)):
            _spawn([sys.executable, "-c", LISTENER_CODE, self._listener_tag(h), BANNER, "16",
                    f"{h.address}:{SSH_PORT}"], self.base / "logs" / f"listener-{h.name}.log", netns=h.netns)
        if "galera" in h.roles and with_galera:
            self.galera.boot(h.index)
        if "rabbitmq" in h.roles:
            self.rabbit.boot(h)
        if with_openstack:
            self.openstack.boot(h)

    # ------------------------------------------------------------------ lifecycle
    def up(self) -> str:
        """Idempotent: network, BMCs, power daemon, every host powered and booted, both clusters healthy."""
        if os.geteuid() != 0:
            raise LabError("the cloud lab needs root (network namespaces)")
        t0 = time.monotonic()
        with self._lock():
            self._guard(True)  # before anything else
            # No node running: a cold start over the data of a lab whose processes were all killed at once
            # (a session's end, a reboot). RabbitMQ 3.10 then boots only in the order the nodes went down,
            # and may not at all (seen: a feature-flag sync crash); the lab keeps no message, so it starts
            # a new cluster instead, as on a new machine.
            if not any(self.rabbit.pid(h) for h in CONTROLLERS):
                self.rabbit.wipe()
            self.rabbit.write_files()  # before powerd may boot a host
            HostPower.state_dir().mkdir(parents=True, exist_ok=True)
            self._restore_power()
            self._net_up()
            self._bmc_up()
            # With no Galera node running, three nodes started blind find no Primary (and a forced one can
            # come up with a nil group): galera.up() bootstraps from the most advanced node instead. So a
            # host left powered off by a killed lab is marked on here, not booted by powerd.
            galera_runs = any(self.galera.pid(n) for n in galera.NODES)
            if not galera_runs:
                for h in HOSTS.values():
                    if not HostPower.booted(h):
                        HostPower.boot(h, start=False)
            self._powerd_up()
            for h in HOSTS.values():
                if not _pids_with(self._listener_tag(h)):
                    self.boot_host(h, with_openstack=False, with_galera=galera_runs)  # OpenStack after, below
            for h in CONTROLLERS:
                self.rabbit.boot(h)  # boots in the background while Galera comes up
            g = self.galera.up()
            self.rabbit.repair()  # and its users, on a new cluster
            for h in HOSTS.values():
                wait_until(lambda h=h: port_open(h.address, SSH_PORT, 0.5), 20, 0.1, f"{h.name}:22")
            t1 = time.monotonic()
            o = self.openstack.up()
        return (f"up in {time.monotonic() - t0:.1f}s (galera: {g}; openstack {time.monotonic() - t1:.1f}s: {o}); "
                f"RSS {self.rss_mb():.0f} MB")

    def _restore_power(self) -> None:
        """Feeds on, BMCs On, switches and links up: the default state (powerd then boots what is off)."""
        for f in FEEDS:
            (HostPower.state_dir() / f"feed-{f}.off").unlink(missing_ok=True)
        for h in HOSTS.values():
            HostPower.force_bmc(h, True)
        for s in SWITCHES.values():
            if Path(f"/sys/class/net/{s.bridge}").exists():
                self.switch(s.name, True)
        for h in HOSTS.values():
            if Path(f"/sys/class/net/{h.veth}").exists():
                _ip("link", "set", h.veth, "up", check=False)

    def _wait_booted(self, timeout: float = 20) -> None:
        wait_until(lambda: all(HostPower.booted(h) for h in HOSTS.values()), timeout, 0.1,
                   "powerd to boot every host")

    def reset(self) -> str:
        """Back to the default: power on everywhere, links up, nothing frozen, both clusters healthy."""
        t0 = time.monotonic()
        if self._is_default():
            return f"healthy ({time.monotonic() - t0:.2f}s)"
        with self._lock():
            self.heal()
            self._restore_power()
            self._powerd_up()
            self._wait_booted()
            for h in HOSTS.values():
                _ip("route", "replace", CIDR, "dev", "eth0", netns=h.netns, check=False)
                self.boot_host(h)
            self.galera.up()
            if self.rabbit.repair():
                # A node restarted by the repair took its queues' consumers with it (the conductors' and
                # schedulers' RPC servers do not come back by themselves): every RPC daemon is restarted,
                # as an operator would after rebuilding a broker node.
                self.openstack.restart_daemons()
            self.openstack.reset()
        return f"reset in {time.monotonic() - t0:.1f}s"

    def _is_default(self) -> bool:
        if not self._powerd_pids() or not all(HostPower.booted(h) for h in HOSTS.values()):
            return False
        if any(not HostPower.feed_on(f) for f in FEEDS):
            return False
        for h in HOSTS.values():
            if HostPower.bmc_on(h) is not True or self._operstate(h.veth) != "up":
                return False
        if any(self._operstate(s.bridge) not in ("up", "unknown") for s in SWITCHES.values()):
            return False
        if self._partitions():
            return False
        return self.galera._is_default() and not self.rabbit.problems() and not self.openstack.problems()

    @staticmethod
    def _operstate(dev: str) -> str | None:
        try:
            return Path(f"/sys/class/net/{dev}/operstate").read_text().strip()
        except OSError:
            return None

    def down(self) -> str:
        for pid in self._powerd_pids():
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(LabError):
            for h in CONTROLLERS:
                if self.rabbit.pid(h):
                    os.kill(self.rabbit.pid(h), signal.SIGTERM)
            self.galera.down()
        for h in HOSTS.values():
            if Path(f"/run/netns/{h.netns}").exists():
                for pid in _ns_pids(h.netns):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            for pid in self._bmc_pids(h):
                os.kill(pid, signal.SIGKILL)
            _ip("link", "del", h.veth, check=False)
            _ip("netns", "del", h.netns, check=False)
        _ip("link", "del", TRUNK[0], check=False)
        for s in SWITCHES.values():
            _ip("link", "del", s.bridge, check=False)
        self._guard(False)  # last
        return "down"

    def rss_mb(self) -> float:
        """Memory of every process of the lab: the hosts' namespaces, the BMCs and powerd."""
        pids = set(self._powerd_pids())
        for h in HOSTS.values():
            pids |= set(self._bmc_pids(h))
            if Path(f"/run/netns/{h.netns}").exists():
                pids |= set(_ns_pids(h.netns))
        total = 0
        for pid in pids:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total / 1024

    def status(self) -> str:
        lines = [f"powerd: {self._powerd_pids() or 'DOWN'}; RSS {self.rss_mb():.0f} MB"]
        for s in SWITCHES.values():
            lines.append(f"switch {s.name} ({s.bridge}, jump {s.jump_address}): {self._operstate(s.bridge)}")
        for f in FEEDS:
            lines.append(f"feed {f}: {'on' if HostPower.feed_on(f) else 'OFF'}")
        for h in HOSTS.values():
            lines.append(f"{h.name} {h.address} {h.switch} {h.feed} bmc={h.bmc} power="
                         f"{'on' if HostPower.booted(h) else 'OFF'} link={self._operstate(h.veth)} "
                         f"procs={len(_ns_pids(h.netns)) if Path(f'/run/netns/{h.netns}').exists() else '-'}")
        lines.append("galera:\n  " + self.galera.status().replace("\n", "\n  "))
        probs = self.rabbit.problems()
        lines.append("rabbitmq: " + ("healthy" if not probs else "; ".join(probs)))
        lines.append("openstack:\n  " + self.openstack.status().replace("\n", "\n  "))
        return "\n".join(lines)

    # ------------------------------------------------------------------ faults
    def power(self, name: str, on: bool) -> None:
        """Through the host's own BMC API: Redfish Reset (On / ForceOff) or ipmitool chassis power."""
        h = host(name)
        if h.bmc == "redfish":
            r = httpx.post(f"{h.redfish_url}/redfish/v1/Systems/{h.system_id}/Actions/ComputerSystem.Reset",
                           json={"ResetType": "On" if on else "ForceOff"}, auth=(BMC_USER, BMC_PASSWORD),
                           timeout=5, trust_env=False)
            if r.status_code not in (200, 202, 204):
                raise LabError(f"Redfish Reset {name}: {r.status_code} {r.text[:200]}")
        else:
            r = subprocess.run(["ipmitool", "-I", "lanplus", "-C", "3", "-N", "1", "-R", "1", "-H", "127.0.0.1",
                                "-p", str(h.ipmi_port), "-U", BMC_USER, "-P", BMC_PASSWORD, "chassis", "power",
                                "on" if on else "off"], capture_output=True, text=True, timeout=10)
            if r.returncode != 0:
                raise LabError(f"ipmitool power {name}: {r.stderr.strip()}")

    def wait_power(self, name: str, on: bool, timeout: float = 20) -> None:
        """Until powerd has cut (every process gone) or booted the host."""
        h = host(name)
        cut = HostPower.state_dir() / f"{h.name}.cut"
        wait_until(lambda: HostPower.booted(h) == on and (on or (cut.exists() and not _ns_pids(h.netns))),
                   timeout, 0.05, f"{name} {'booted' if on else 'powered off'}")

    def feed(self, name: str, on: bool) -> None:
        if name not in FEEDS:
            raise LabError(f"no feed {name!r} (have {', '.join(FEEDS)})")
        flag = HostPower.state_dir() / f"feed-{name}.off"
        if on:
            flag.unlink(missing_ok=True)
            for h in HOSTS.values():
                if h.feed == name:
                    HostPower.force_bmc(h, True)  # power restored: the hosts come back on
        else:
            flag.write_text(f"{time.time()}\n")

    def switch(self, name: str, up: bool) -> None:
        """The whole switch: its bridge and every port on it (the hosts' cables and the trunk)."""
        s = SWITCHES.get(name) or (_ for _ in ()).throw(LabError(f"no switch {name!r}"))
        state = "up" if up else "down"
        ports = [h.veth for h in HOSTS.values() if h.switch == name]
        ports.append(TRUNK[0] if name == "sw-1" else TRUNK[1])
        for dev in [s.bridge, *ports] if up else [*ports, s.bridge]:
            _ip("link", "set", dev, state, check=False)

    def link(self, name: str, up: bool) -> None:
        h = host(name)
        _ip("link", "set", h.veth, "up" if up else "down")

    def _service(self, name: str, service: str):
        h = host(name)
        if service not in h.roles:
            raise LabError(f"{name} runs no {service} (it runs {', '.join(h.roles) or 'nothing but sshd'})")
        return h

    def kill(self, name: str, service: str) -> None:
        h = self._service(name, service)
        if service == "galera":
            self.galera.kill(h.index)
        else:
            pid = self.rabbit.pid(h)
            if not pid:
                raise LabError(f"rabbitmq on {name} is not running")
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 10, 0.05, "the beam to die")

    def freeze(self, name: str, service: str, on: bool = True) -> None:
        h = self._service(name, service)
        pid = self.galera.pid(h.index) if service == "galera" else self.rabbit.pid(h)
        if not pid:
            raise LabError(f"{service} on {name} is not running")
        os.kill(pid, signal.SIGSTOP if on else signal.SIGCONT)

    def alarm(self, name: str, kind: str) -> None:
        """A real RabbitMQ resource alarm (``memory`` or ``disk``) on the host's node; ``clear_alarms()``."""
        self.rabbit.alarm(self._service(name, "rabbitmq"), kind)

    def clear_alarms(self) -> None:
        self.rabbit.clear_alarms()

    def partition(self, name: str, service: str, on: bool = True) -> None:
        """Cut the host's node off its cluster peers (Galera's gcomm/IST/SST, or RabbitMQ's distribution and
        epmd), both ways, while its clients still reach it: tagged iptables DROP rules in its namespace."""
        h = self._service(name, service)
        ports = ",".join(str(p) for p in PARTITION_PORTS[service])
        for chain, way in (("INPUT", "--dports"), ("INPUT", "--sports")):
            rule = [chain, "-p", "tcp", "-m", "multiport", way, ports, "-m", "comment", "--comment",
                    f"{PARTITION_TAG}-{service}", "-j", "DROP"]
            present = run(["ip", "netns", "exec", h.netns, "iptables", "-w", "-C", *rule], check=False,
                          timeout=10).returncode == 0
            if on and not present:
                run(["ip", "netns", "exec", h.netns, "iptables", "-w", "-A", *rule], timeout=10)
            elif not on and present:
                run(["ip", "netns", "exec", h.netns, "iptables", "-w", "-D", *rule], timeout=10)

    def _partitions(self) -> list[tuple[str, str]]:
        """(host, service) of every partition in place."""
        out = []
        for h in CONTROLLERS:
            rules = run(["ip", "netns", "exec", h.netns, "iptables", "-w", "-S", "INPUT"], check=False,
                        timeout=10).stdout
            out += [(h.name, svc) for svc in SERVICES if f"{PARTITION_TAG}-{svc}" in rules]
        return out

    def heal(self) -> None:
        for name, svc in self._partitions():
            self.partition(name, svc, on=False)

    def start(self, name: str, service: str) -> None:
        h = self._service(name, service)
        if service == "galera":
            self.galera.start(h.index)
        else:
            self.rabbit.boot(h)
            self.rabbit.repair()

    def stop(self, name: str, service: str) -> None:
        h = self._service(name, service)
        if service == "galera":
            self.galera.stop(h.index)
        else:
            self.rabbit.ctl(h, "stop_app", timeout=120)

    # ------------------------------------------------------------------ the operator's config
    def config(self) -> str:
        """The hatui.toml an operator would write for this lab (passwords by reference)."""
        out = ['[hatui]\ninterval = 1.0\ntimeout = 1.0\n',
               f'\n[galera]\nname = "cloud-db"\nuser = "{galera.MONITOR_USER}"\npassword_env = "{GALERA_PW_ENV}"\n']
        for h in CONTROLLERS:
            out.append(f'\n[[galera.nodes]]\nname = "{h.name}"\nhost = "{h.address}"\nport = {GALERA_PORT}\n')
        out.append(f'\n[rabbitmq]\nname = "cloud-mq"\nuser = "{rabbit.MONITOR_USER}"\n'
                   f'password_env = "{RABBIT_PW_ENV}"\n')
        for h in CONTROLLERS:
            out.append(f'\n[[rabbitmq.nodes]]\nname = "{h.name}"\nhost = "{h.address}"\n'
                       f'management_port = {MGMT_PORT}\namqp_port = {AMQP_PORT}\n'
                       f'erlang_node = "{self.rabbit.node_name(h)}"\n')
        out.append('\n[hosts]\npower_interval = 1.0\npower_timeout = 3.0\nnetwork_interval = 0.5\n'
                   'network_timeout = 0.5\njump_host = "jump"\n'
                   f'interfaces = [{", ".join(repr(s.bridge) for s in SWITCHES.values())}]\n'.replace("'", '"'))
        for h in HOSTS.values():
            if h.bmc == "redfish":
                bmc = f'{{ type = "redfish", url = "{h.redfish_url}", system = "{h.name}", '
            else:
                bmc = f'{{ type = "ipmi", host = "127.0.0.1", port = {h.ipmi_port}, '
            bmc += f'user = "{BMC_USER}", password_env = "{BMC_PW_ENV}" }}'
            out.append(f'\n[[hosts.host]]\nname = "{h.name}"\naddresses = ["{h.address}"]\nports = [{SSH_PORT}]\n'
                       f'banner_ports = [{SSH_PORT}]\npower_feed = "{h.feed}"\nrack = "{h.rack}"\n'
                       f'switch = "{h.switch}"\nbmc = {bmc}\n')
        os_lab = self.openstack
        out.append(f'\n[openstack]\ncloud = "{os_lab.cloud_prefix}-reader"\nname = "cloud"\ninterval = 1.0\n'
                   f'timeout = 3.0\nservice_down_time = {os_lab.service_down_time}\n'
                   f'report_interval = {os_lab.report_interval}\nagent_down_time = {os_lab.agent_down_time}\n'
                   f'agent_report_interval = {os_lab.agent_report_interval}\n'
                   f'\n[[openstack.haproxy]]\nname = "lb"\nurl = "{os_lab.haproxy_stats_url}"\n'
                   f'addresses = ["{VIP}"]  # its frontends: the catalog URLs go through it\n'
                   f'backends = [{", ".join(f"{b!r}" for b in LB_BACKENDS)}]\n'.replace("'", '"'))
        return "".join(out)

    @staticmethod
    def secrets_env() -> dict[str, str]:
        """The environment the config's password references need, and the clouds.yaml (as for the
        openstack CLI: its cloud ``hatui-cloud-reader`` authenticates at the keystone VIP on ctl-1)."""
        return {GALERA_PW_ENV: galera.MONITOR_PASSWORD, RABBIT_PW_ENV: rabbit.MONITOR_PASSWORD,
                BMC_PW_ENV: BMC_PASSWORD, "OS_CLIENT_CONFIG_FILE": str(BASE / "openstack" / "clouds.yaml")}


GALERA_PW_ENV = "HATUI_CLOUD_GALERA_PW"
RABBIT_PW_ENV = "HATUI_CLOUD_RABBIT_PW"
BMC_PW_ENV = "HATUI_CLOUD_BMC_PW"


def verb(argv: list[str]) -> str:
    """``power|feed|switch|link|kill|freeze|thaw|stop|start|config`` for ``python -m tests.lab``."""
    lab = Lab()
    cmd, args = argv[0], argv[1:]
    onoff = {"on": True, "up": True, "off": False, "down": False}
    if cmd == "config":
        return lab.config().rstrip("\n")
    if cmd in ("power", "feed", "switch", "link") and len(args) == 2 and args[1] in onoff:
        getattr(lab, cmd)(args[0], onoff[args[1]])
        return f"{cmd} {args[0]} {args[1]}"
    if cmd in ("kill", "freeze", "thaw", "stop", "start", "partition", "heal") and len(args) == 2 \
            and args[1] in SERVICES:
        if cmd == "thaw":
            lab.freeze(args[0], args[1], on=False)
        elif cmd == "heal":
            lab.partition(args[0], args[1], on=False)
        else:
            getattr(lab, cmd)(*args)
        return f"{cmd} {args[0]} {args[1]}"
    if cmd == "alarm" and len(args) == 2 and args[1] in ("memory", "disk"):
        lab.alarm(*args)
        return f"alarm {args[0]} {args[1]}"
    if cmd == "clear-alarms" and not args:
        lab.clear_alarms()
        return "alarms cleared"
    raise LabError(f"usage: {cmd} <host|feed|switch> <on|off|up|down> | <kill|freeze|thaw|stop|start|partition|heal> "
                   f"<host> <{'|'.join(SERVICES)}> | alarm <host> <memory|disk> | clear-alarms | config")


if __name__ == "__main__":
    if sys.argv[1:2] == ["powerd"]:
        powerd()
    else:
        print(verb(sys.argv[1:]))
