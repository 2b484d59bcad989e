"""hatui is read-only, proven from the servers' side: one ``hatui watch`` (and a ``check --json``) against the
whole lab, with every way in logged, then every statement and request of hatui's own accounts audited.

- MariaDB: the general query log of every node (switched on by root for this test only); hatui's connections
  are those whose Connect line names its account. Only SELECT / SHOW / session SET (and Quit, Ping) allowed.
- RabbitMQ management API and HAProxy (stats page and admin socket): through recording relays
  (tests/integration/relay.py), since neither server keeps an access log. Only GET; only ``show ...`` on
  the socket. AMQP: the broker's definitions (users, vhosts, permissions, queues, exchanges, bindings,
  policies, parameters) are the same after as before, and every AMQP method the canary sent (read from its
  frames through a relay) is one of its round trip's: a server-named, exclusive, non-durable queue, a publish
  to the default exchange, a consume; no exchange, binding, purge or delete.
- OpenStack: the gunicorn access logs the lab writes (tests/lab/openstack.py) for the bytes appended while
  hatui ran; hatui's requests are those with its User-Agent ("hatui", "hatui/<version> keystoneauth1...").
  Only GET/HEAD, plus POST /v3/auth/tokens (its login).
- Redfish: the emulators' request logs; only GET. IPMI: every ipmitool hatui started (seen in /proc) asks
  ``chassis power status`` at the USER privilege level.

Each source uses the README's least-privilege account, checked here too: Galera USAGE only, RabbitMQ
``monitoring`` tag without vhost rights and the canary's three regexes, an OpenStack project reader (plus
the README's two policy lines, so the service lists are really read).
"""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from tests.integration.conftest import GALERA_PW_ENV
from tests.integration.hatui_proc import Watcher, check_json, hatui_env
from tests.integration.hosts.lab_config import BMC_PW_ENV, hosts_toml
from tests.integration.relay import Relay
from tests.lab import galera as galera_lab
from tests.lab import hosts as hosts_lab
from tests.lab import openstack as os_lab
from tests.lab import rabbit as rabbit_lab

pytestmark = pytest.mark.lab

RUN_FOR = 10.0  # s of `hatui watch`: every target polled many times (intervals 0.5-1 s)

# general log: "[YYMMDD HH:MM:SS]<tab(s)> <id> <Command><tab><argument>"
GENERAL_LINE = re.compile(r"^(?:\d{6}\s+\d{1,2}:\d{2}:\d{2})?\s+(\d+)\s+(Connect|Query|Quit|Init DB|Prepare|Execute|"
                          r"Close stmt|Reset stmt|Field List|Statistics|Ping|Change user|Set option|Refresh|"
                          r"Shutdown|Kill|Processlist|Long Data|Fetch)\t?(.*)$")
READ_STATEMENT = re.compile(r"(?is)^\s*(SELECT|SHOW)\b|^\s*SET\s+(?!.*\b(GLOBAL|PASSWORD|ROLE|STATEMENT)\b)")
READ_COMMANDS = {"Connect", "Query", "Quit", "Ping", "Statistics"}
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+) \S+ "[^"]*" "(?P<ua>[^"]*)"$')
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# AMQP 0-9-1 methods (class, method) the canary may send: connection.*, channel.open/close(-ok),
# queue.declare (checked: server-named, exclusive), basic.qos/consume/cancel/publish/get/ack/reject/nack
CANARY_METHODS = {(20, 10), (20, 40), (20, 41), (50, 10), (60, 10), (60, 20), (60, 30), (60, 40), (60, 70),
                  (60, 80), (60, 90), (60, 120), (85, 10)}


def _amqp_methods(stream: bytes) -> list[tuple[int, int, bytes]]:
    """(class, method, arguments) of every method frame a client sent (after the 8-byte protocol header)."""
    out, i = [], 8 if stream.startswith(b"AMQP") else 0
    while i + 7 <= len(stream):
        ftype, size = stream[i], int.from_bytes(stream[i + 3:i + 7], "big")
        payload = stream[i + 7:i + 7 + size]
        if ftype == 1 and len(payload) >= 4:
            out.append((int.from_bytes(payload[:2], "big"), int.from_bytes(payload[2:4], "big"), payload[4:]))
        i += 7 + size + 1  # frame-end octet
    return out


def _shortstr(args: bytes, at: int) -> tuple[str, int]:
    n = args[at]
    return args[at + 1:at + 1 + n].decode(), at + 1 + n


@pytest.fixture(scope="module")
def labs():
    """Every lab up (each up() is a quick no-op when healthy), reset after."""
    g, r, h, o = galera_lab.Lab(), rabbit_lab.Lab(), hosts_lab.Lab(), os_lab.Lab()
    for lab in (g, r, h, o):
        lab.up()
    yield g, r, h, o
    for lab in (g, r, h, o):
        lab.reset()


def _offsets(paths: list[Path]) -> dict[Path, int]:
    return {p: p.stat().st_size if p.exists() else 0 for p in paths}


def _appended(offsets: dict[Path, int]) -> dict[Path, str]:
    out = {}
    for p, off in offsets.items():
        with open(p, "rb") as f:
            f.seek(off)
            out[p] = f.read().decode(errors="replace")
    return out


def _galera_statements(text: str, user: str) -> list[tuple[str, str]]:
    """(command, argument) of every connection of ``user`` in a general-log excerpt."""
    ours: set[str] = set()
    out = []
    for line in text.splitlines():
        m = GENERAL_LINE.match(line)
        if not m:
            continue
        cid, command, arg = m.groups()
        if command == "Connect":
            if arg.startswith(f"{user}@"):
                ours.add(cid)
            else:
                ours.discard(cid)  # ids are reused only after a Quit, but be safe
        if cid in ours:
            out.append((command, arg.strip()))
    return out


def _ipmitool_argvs(seen: dict[int, list[str]], stop: threading.Event) -> None:
    while not stop.is_set():
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) in seen:
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"ipmitool") and str(hosts_lab.BMC_HOST).encode() in argv:
                seen[int(entry.name)] = [a.decode() for a in argv if a]
        time.sleep(0.02)


def test_hatui_writes_nothing_anywhere(labs, tmp_path):
    galera, rabbit, hosts, openstack = labs
    # ---- the least-privilege accounts are the ones used
    for n in galera_lab.NODES:
        grants = [g[0] for g in galera.sql(n, f"SHOW GRANTS FOR '{galera_lab.MONITOR_USER}'@'%'")]
        assert len(grants) == 1 and grants[0].startswith("GRANT USAGE ON *.* TO"), grants
    users = {u["name"]: u for u in rabbit.api(1, "/api/users")}
    assert users[rabbit_lab.MONITOR_USER]["tags"] in (["monitoring"], "monitoring")
    perms = {p["user"]: p for p in rabbit.api(1, "/api/permissions")}
    assert rabbit_lab.MONITOR_USER not in perms  # no vhost rights at all
    canary = perms[rabbit_lab.CANARY_USER]
    assert {k: canary[k] for k in ("configure", "write", "read")} == rabbit_lab.CANARY_PERMISSIONS
    assert users[rabbit_lab.CANARY_USER]["tags"] in ([], "")
    # the README's two policy lines for the project reader, so that nova and neutron lists are really read
    openstack.set_policy("nova", {"os_compute_api:os-services:list": "role:reader"})
    openstack.set_policy("neutron", {"get_agent": "role:reader"})

    # ---- logs on
    relays = {n: Relay((rabbit_lab.HOST, rabbit_lab.mgmt_port(n))) for n in rabbit_lab.NODES}
    amqp = {n: Relay((rabbit_lab.HOST, rabbit_lab.amqp_port(n))) for n in rabbit_lab.NODES}
    stats = Relay(("127.0.0.1", os_lab.STATS_PORT))
    sock = Relay(os_lab.HAPROXY_SOCKET)
    definitions_before = rabbit.api(1, "/api/definitions")
    access_logs = sorted(os_lab.LOG.glob("*-access.log"))
    redfish_logs = sorted((hosts.base / "logs").glob("redfish-*.log"))
    general = [galera.general_log_path(n) for n in galera_lab.NODES]
    offsets = _offsets(access_logs + redfish_logs + general)
    for n in galera_lab.NODES:
        galera.general_log(n, True)

    nodes = "".join(f'[[rabbitmq.nodes]]\nname = "mq-{n}"\nhost = "127.0.0.1"\nmanagement_port = {relays[n].port}\n'
                    f'amqp_port = {amqp[n].port}\n' for n in rabbit_lab.NODES)
    galera_nodes = "".join(f'[[galera.nodes]]\nname = "db-{n}"\nhost = "{host}"\nport = {port}\n'
                           for n, (_, host, port) in enumerate(galera.nodes(), start=1))
    config = tmp_path / "hatui.toml"
    config.write_text(
        f'[hatui]\ninterval = 0.5\ntimeout = 2\n'
        f'[galera]\nname = "lab-db"\nuser = "{galera_lab.MONITOR_USER}"\npassword_env = "{GALERA_PW_ENV}"\n'
        f'{galera_nodes}'
        f'[rabbitmq]\nname = "{rabbit_lab.CLUSTER_NAME}"\nuser = "{rabbit_lab.MONITOR_USER}"\n'
        f'password_env = "HATUI_LAB_RABBIT_PW"\n'
        f'[rabbitmq.canary]\nuser = "{rabbit_lab.CANARY_USER}"\npassword_env = "HATUI_LAB_RABBIT_CANARY_PW"\n'
        f'interval = 1.0\n{nodes}'
        f'[openstack]\ncloud = "hatui-lab-reader"\nname = "lab"\ninterval = 1.0\ntimeout = 3\n'
        f'[[openstack.endpoints]]\nname = "keystone-vip"\nurl = "http://127.0.0.1:15000/"\n'
        f'[[openstack.haproxy]]\nname = "lb"\nurl = "http://127.0.0.1:{stats.port}/;csv"\n'
        f'[[openstack.haproxy]]\nname = "lb-sock"\nsocket = "{sock.path}"\n'
        + hosts_toml(power_interval=0.5))
    env = {k: v for k, v in hatui_env().items() if not k.startswith("OS_")}
    env.update({GALERA_PW_ENV: galera_lab.MONITOR_PASSWORD, "HATUI_LAB_RABBIT_PW": rabbit_lab.MONITOR_PASSWORD,
                "HATUI_LAB_RABBIT_CANARY_PW": rabbit_lab.CANARY_PASSWORD, BMC_PW_ENV: hosts_lab.BMC_PASSWORD,
                "OS_CLIENT_CONFIG_FILE": str(openstack.clouds_yaml()), "XDG_CACHE_HOME": str(tmp_path / "cache")})

    ipmitools: dict[int, list[str]] = {}
    stop = threading.Event()
    sampler = threading.Thread(target=_ipmitool_argvs, args=(ipmitools, stop), daemon=True)
    sampler.start()
    try:
        w = Watcher(config, env)
        try:
            time.sleep(RUN_FOR)
            rc, doc = check_json(config, env, timeout=60)
        finally:
            w.stop()
    finally:
        stop.set()
        sampler.join(5)
        for n in galera_lab.NODES:
            galera.general_log(n, False)
        for r in (*relays.values(), *amqp.values(), stats, sock):
            r.close()
    appended = _appended(offsets)

    # hatui did poll everything (else the audit proves nothing): the check saw a healthy-enough lab
    assert "Traceback" not in (w.proc.stderr.read() if w.proc.stderr else "")
    ids = {f["id"] for f in doc["findings"]}
    assert not any(i.split(".")[0] in ("galera", "rabbitmq", "rabbitmq-amqp", "keystone") for i in ids), ids

    # ---- MariaDB: only reads on hatui's connections
    stmts = [s for p in general for s in _galera_statements(appended[p], galera_lab.MONITOR_USER)]
    queries = [arg for cmd, arg in stmts if cmd == "Query"]
    assert sum(cmd == "Connect" for cmd, _ in stmts) >= 3 and len(queries) >= 3 * 5, stmts[:20]
    assert {cmd for cmd, _ in stmts} <= READ_COMMANDS, stmts
    assert [q for q in queries if not READ_STATEMENT.match(q)] == []

    # ---- RabbitMQ: management API GETs only; nothing left in the broker
    mq_requests = [r for relay in relays.values() for r in relay.http_requests()]
    assert len(mq_requests) >= 3 * 5
    assert {m for m, _ in mq_requests} == {"GET"}, sorted(set(mq_requests))
    methods = [m for relay in amqp.values() for conn in relay.sent() for m in _amqp_methods(conn)]
    assert {(c, m) for c, m, _ in methods if c != 10} <= CANARY_METHODS, sorted({(c, m) for c, m, _ in methods})
    declares = [args for c, m, args in methods if (c, m) == (50, 10)]
    publishes = [args for c, m, args in methods if (c, m) == (60, 40)]
    assert len(declares) >= 3 * 3 and publishes, (len(declares), len(publishes))
    for args in declares:
        name, at = _shortstr(args, 2)
        flags = args[at]
        assert name == "" and flags & 4 and not flags & 2, (name, flags)  # server-named, exclusive, not durable
    assert {_shortstr(args, 2)[0] for args in publishes} == {""}  # the default exchange only
    definitions_after = rabbit.api(1, "/api/definitions")
    for key in ("users", "vhosts", "permissions", "topic_permissions", "parameters", "global_parameters",
                "policies", "queues", "exchanges", "bindings"):
        assert definitions_after.get(key) == definitions_before.get(key), key

    # ---- HAProxy: stats page GETs, `show ...` on the admin socket
    stat_requests = stats.http_requests()
    assert len(stat_requests) >= 5 and {m for m, _ in stat_requests} == {"GET"}, stat_requests
    commands = [line for conn in sock.sent() for line in conn.decode(errors="replace").splitlines() if line.strip()]
    assert len(commands) >= 5 and all(c.startswith("show ") for c in commands), sorted(set(commands))

    # ---- OpenStack APIs: hatui's requests (its User-Agent) are reads, and one login
    ours = []
    for p in access_logs:
        for line in appended[p].splitlines():
            m = ACCESS_LINE.search(line)
            if m and m["ua"].startswith("hatui"):
                ours.append((p.name.split("-access")[0], m["method"], m["path"].split("?")[0]))
    writes = [r for r in ours if r[1] not in ("GET", "HEAD") and (r[1], r[2]) != ("POST", "/v3/auth/tokens")]
    assert writes == []
    services = {s for s, _, _ in ours}
    assert {"keystone@lab-ctl-0", "nova-api@lab-ctl-0", "neutron-server@lab-ctl-0"} <= services, services
    assert any(path.endswith("/os-services") for _, _, path in ours) and any(
        path.endswith("/agents") for _, _, path in ours)

    # ---- Redfish: GETs only; IPMI: power status at USER level only
    redfish = [ANSI.sub("", line) for p in redfish_logs for line in appended[p].splitlines() if '"' in line]
    verbs = {m.group(1) for line in redfish if (m := re.search(r'"([A-Z]+) /', line))}
    assert len(redfish) >= 5 and verbs == {"GET"}, verbs
    assert ipmitools, "no ipmitool run seen"
    for argv in ipmitools.values():
        assert argv[-3:] == ["chassis", "power", "status"] and argv[argv.index("-L") + 1] == "USER", argv

    print(f"\naudited: {len(stmts)} MariaDB commands ({len(queries)} queries), {len(mq_requests)} RabbitMQ API "
          f"requests, {len(methods)} AMQP methods ({len(declares)} queue.declare), "
          f"{len(stat_requests)} HAProxy stats requests, "
          f"{len(commands)} socket commands, {len(ours)} OpenStack API requests "
          f"({sum(r[1] == 'POST' for r in ours)} logins), {len(redfish)} Redfish requests, "
          f"{len(ipmitools)} ipmitool runs; statements: {sorted(set(queries))}")
