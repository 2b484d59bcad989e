"""Host-state lab: BMCs (Redfish and IPMI) and network reachability of three lab hosts, with real faults.

    python -m tests.lab up hosts | status hosts | down hosts

What runs (everything under ``LAB_BASE/hosts``, default /tmp/hatui-lab/hosts; every process in its own
session via ``setsid -f``; a process is recognised by a marker in /proc/PID/cmdline, never by a pid file):

  host   address (netns)          Redfish http / https (basic auth)                IPMI lanplus
  hostA  10.213.0.11 hatui-hostA  http://127.0.0.1:18001  https://127.0.0.1:18441  127.0.0.1:9001/udp
  hostB  10.213.0.12 hatui-hostB  http://127.0.0.1:18002  https://127.0.0.1:18442  127.0.0.1:9002/udp
  hostC  10.213.0.13 hatui-hostC  http://127.0.0.1:18003  https://127.0.0.1:18443  127.0.0.1:9003/udp

  Redfish system ids (stable): hostA 11111111-0000-4000-8000-000000000001, hostB ...-000000000002,
  hostC ...-000000000003; system Name = host name; /redfish/v1/Systems/<id>. Every host has its own
  emulator pair (sushy-tools fake driver), so one host's BMC can hang while the others answer; the http
  and https emulators of a host share one state dir (same machine, two doors). Credentials for all BMCs:
  ``BMC_USER`` / ``BMC_PASSWORD`` (hatui-bmc / hatui-lab-bmc-pw). The Redfish service root /redfish/v1/ is
  anonymous (sushy exempts it, as the spec wants); everything else answers 401 without credentials.
  HTTPS: a throw-away CA and a server cert for IP 127.0.0.1 / localhost, made with openssl at up() into
  ``<base>/tls`` (``Lab().ca_bundle``), kept while valid. Redfish and IPMI of one host are independent
  fakes: powering a host off via IPMI does not change its Redfish PowerState (and neither touches the
  network).

  Network: bridge br-hatui, jump-host side 10.213.0.1/24 in the root namespace; host X lives in netns
  hatui-hostX behind veth vh-hostX (root side, enslaved to the bridge) / eth0 (host side). Each host answers
  ping and runs a TCP listener on :22 that sends an SSH-like banner and closes (backlog 16). GUARD: an
  ``unreachable 10.213.0.0/24 metric 4000`` route is installed before anything else and removed last, so
  lab traffic fails locally instead of following the default route if the bridge goes away.

  Bench network (``bench_net()``): netns hatui-bench behind veth vh-bench (10.214.0.1/30 <-> .2), route
  10.214.0.0/16 via it, guard ``unreachable 10.214.0.0/16 metric 4000``. The blackholed addresses
  10.214.1.1, 10.214.1.2, ... (250 per /24) sit on the namespace's lo and iptables DROPs everything coming in
  (TCP and ICMP, silently); the answering addresses 127.77.1.1, ... are loopback with one listener process.

Faults (each real): ``power()`` through the BMC's own API (Redfish Reset / ipmitool chassis power);
``freeze_bmc()`` SIGSTOPs a host's emulators or ipmi_sim; ``link()`` sets the bridge-side veth down;
``blackhole()`` / ``reject()`` load iptables rules inside the host's namespace (DROP all inbound; REJECT tcp
with tcp-reset and the rest with icmp-port-unreachable); ``stop_listener()`` SIGSTOPs (hung sshd: connect
succeeds until the backlog is full, no banner) or kills (refused) the :22 listener. Facility (one state per host,
shown by both its BMCs): ``set_supply()`` fails or restores a power supply, ``wire_supply()`` plugs one into
another feed (Redfish only), ``set_temperature()`` sets the inlet, ``set_fan()`` / ``stop_fan()`` a fan; the
Redfish emulators run inside tests/lab/hosts/redfish_facility.py (Chassis PowerSubsystem and Thermal from
the state file), ipmi_sim polls one file per sensor (SDRs and sensors rendered into ipmi/<host>.emu).
What a new client meets: ``recertify()`` restarts one host's HTTPS emulator with another certificate
(``other_ca_certificate()``: one from a CA of its own), ``set_bmc_password()`` changes the Redfish BMCs' password.
``reset()`` undoes all of it; Redfish and IPMI power are reset out-of-band (the fake driver's sqlite row /
chassis_control's power file) so that reset does not wait for the emulator's power delay.

Gotchas:
- ipmi_sim knows cipher suites 0-3 only: ipmitool needs ``-C 3``; with its default (17) every command hangs
  in retries until a timeout ("Unable to Get Channel Cipher Suites").
- sushy's fake driver applies a power change at int(now) + randint(1, 11) s, on the next read: up to 11 s
  (measured below). Use ``wait_power()``.
- sushy checks the bcrypt htpasswd on every request: the digests here use cost 4 (~1 ms), not 12 (~250 ms).
- a SIGSTOPped emulator or listener still completes TCP handshakes in the kernel (until the backlog is
  full): clients see a read timeout, not a connect error. A frozen ipmi_sim: the UDP datagrams queue, no
  answer; ipmitool gives up after its own retries.
- link down with a warm ARP entry: connects time out; once the neighbour entry fails (~2-3 s) they get
  EHOSTUNREACH.

Measured on this machine (2 cores, Debian 12, sushy-tools 2.2.0, OpenIPMI ipmi_sim, ipmitool 1.8.19):
  up() from nothing (wiped base dir: certs, 6 emulators, 3 ipmi_sim, netns):  3.7-3.9 s
                                        (7.9 s while the Galera/RabbitMQ labs were starting)
  up() when healthy (checks + reset):                                 0.4-0.6 s
  reset() when healthy:                                               0.09-0.19 s
  Redfish ForceOff -> PowerState Off (wait_power, 15 samples):        0.75-8.8 s (theory: 0-11 s)
  ipmitool chassis power status, healthy / wrong password:           0.06 s rc 0 / 0.05 s rc 1
  ipmitool against a frozen ipmi_sim (gives up by itself, rc 1, "Unable to establish IPMI v2 / RMCP+
    session"): -N 1 -R 1: 2.0 s; -N 1 -R 2: 6.1 s; -N 2 -R 1: 4.1 s; -N 1 -R 3: 12 s; ipmitool's
    default (-R 4; -R 0 means default too): 20 s. ipmitool() kills it at ``timeout`` (LabError).
  Redfish GET against a frozen emulator: connect succeeds, ReadTimeout at the client's read timeout.
  TCP connect, blackholed host: timeout at the client's timeout (1.0 s / 3.0 s), ping fails (1 s);
    rejected host: ECONNREFUSED in 0.05-0.7 ms, ping "Destination Port Unreachable";
    link down (warm ARP): timeout (1 s / 5 s); listener SIGSTOPped: connect ok, banner read times out
    (after ~17 connects the backlog is full and connects time out too); listener killed: ECONNREFUSED.
  bench_net(500): 0.4 s; 1,000 asyncio connects (500 answering + 500 blackholed, 1 s timeout, no
    concurrency limit): 1.04 s {open: 500, timeout: 500}; bench_net_down(): 0.09 s.

pyghmi 1.6.19 (PyPI; tried in a throw-away venv) against these ipmi_sim BMCs:
  Command(bmc, userid, password, port=..., keepalive=False).get_power() -> {'powerstate': 'on'} in 3-75 ms.
  With str credentials a SECOND Command() to the same BMC in one process hangs (>30 s): pass bytes.
  Wrong password: IpmiException("Incorrect password provided") in 0.05 s. Command() has no timeout
  parameter: against a frozen BMC a new session fails with IpmiException(None) after ~5 s; an established
  keepalive session blocks get_power() 28.6 s ("Session no longer connected") and stays dead after the BMC
  thaws. No thread leak: pyghmi keeps one global daemon I/O thread, whatever the number of failures.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import pickle
import signal
import socket
import sqlite3
import ssl
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .common import LAB_BASE, LabError, pid_alive, run, wait_until

BMC_USER = "hatui-bmc"
BMC_PASSWORD = "hatui-lab-bmc-pw"

NET_CIDR = "10.213.0.0/24"
JUMP_ADDR = "10.213.0.1"
BRIDGE = "br-hatui"
GUARD_METRIC = 4000
SSH_PORT = 22
LISTEN_BACKLOG = 16
BANNER = "SSH-2.0-OpenSSH_9.2p1 hatui-lab"

BENCH_CIDR = "10.214.0.0/16"
BENCH_NS = "hatui-bench"
BENCH_VETH = "vh-bench"
BENCH_ROOT_ADDR = "10.214.0.1"
BENCH_NS_ADDR = "10.214.0.2"
BENCH_LOOPBACK_PREFIX = "127.77"

BMC_HOST = "127.0.0.1"
TEMPLATES = Path(__file__).resolve().parent / "hosts"
BASE = LAB_BASE / "hosts"

START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
REDFISH_POWER_TIMEOUT = 15.0  # the fake driver applies a change within 11 s

# Facility: each host has two power supplies (PSU 1 on pdu-a outlet A<n>, PSU 2 on pdu-b outlet B<n>), an
# inlet temperature and two fans, with the BMC's thresholds below. One state per host, shown through both of
# its BMCs: Redfish (redfish_facility.py serves it from <redfish state dir>/facility.json) and IPMI (ipmi_sim
# polls one file per sensor every POLL_MS; IPMI readings are bytes: degrees C, and RPM / 100).
FACILITY_LAUNCHER = TEMPLATES / "redfish_facility.py"
POLL_MS = 500
INLET = 24                       # degrees C
INLET_UNC, INLET_UCR, INLET_UNR = 30, 40, 50
FAN_RPM = 5400
FAN_LNC, FAN_LCR = 800, 600      # RPM (IPMI: M = 100, so the thresholds are whole hundreds)
FEEDS = ("pdu-a", "pdu-b")
# IPMI sensor numbers (and SDR record ids): inlet, fan 1, fan 2, supply 1, supply 2
SENSOR_INLET, SENSOR_FAN1, SENSOR_FAN2, SENSOR_PS1, SENSOR_PS2 = 1, 2, 3, 4, 5

# Python 3.11 on the lab hosts: the listener is plain stdlib, run with ``python -c`` inside the namespace.
LISTENER_CODE = r"""
import selectors, socket, sys
banner = (sys.argv[2] + "\r\n").encode()
backlog = int(sys.argv[3])
sel = selectors.DefaultSelector()
for spec in sys.argv[4:]:
    host, port = spec.rsplit(":", 1)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(backlog)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
print("listening on", len(sys.argv) - 4, "address(es)", flush=True)
while True:
    for key, _ in sel.select():
        try:
            c, _ = key.fileobj.accept()
        except OSError:
            continue
        try:
            c.setblocking(False)
            c.send(banner)
        except OSError:
            pass
        c.close()
"""

IPTABLES_DEFAULT = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:HATUI-BLACKHOLE - [0:0]
:HATUI-REJECT - [0:0]
-A INPUT -j HATUI-BLACKHOLE
-A INPUT -j HATUI-REJECT
COMMIT
"""
IPTABLES_BLACKHOLE = ["-A HATUI-BLACKHOLE -j DROP"]
IPTABLES_REJECT = [
    "-A HATUI-REJECT -p tcp -j REJECT --reject-with tcp-reset",
    "-A HATUI-REJECT -j REJECT --reject-with icmp-port-unreachable",
]


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    netns: str
    veth: str
    system_id: str
    mac: str
    ipmi_port: int
    redfish_port: int
    redfish_tls_port: int
    guid: str

    @property
    def redfish_url(self) -> str:
        return f"http://{BMC_HOST}:{self.redfish_port}"

    @property
    def redfish_https_url(self) -> str:
        return f"https://{BMC_HOST}:{self.redfish_tls_port}"

    @property
    def system_path(self) -> str:
        return f"/redfish/v1/Systems/{self.system_id}"


HOSTS: tuple[Host, ...] = tuple(
    Host(
        name=f"host{x}",
        address=f"10.213.0.{11 + i}",
        netns=f"hatui-host{x}",
        veth=f"vh-host{x}",
        system_id=f"11111111-0000-4000-8000-00000000000{i + 1}",
        mac=f"52:54:00:13:00:{11 + i}",
        ipmi_port=9001 + i,
        redfish_port=18001 + i,
        redfish_tls_port=18441 + i,
        guid=f"a1234567 89abcdef a1234567 89abcd{i + 1:02x}".replace(" ", ""),
    )
    for i, x in enumerate("ABC")
)
HOST_BY_NAME = {h.name: h for h in HOSTS}


def _full_sdr(num: int, entity: int, instance: int, stype: int, reading_type: int, unit: int, m: int, name: str,
              nominal: int, thresholds: tuple[int, int, int, int, int, int], masks: tuple[int, ...]) -> str:
    """An IPMI 2.0 Full Sensor Record (SDR type 01h, IPMI spec table 43-1) as ipmi_sim main_sdr_add bytes.
    ``thresholds``: unr, ucr, unc, lnr, lcr, lnc (raw bytes: value = M x raw); ``masks``: assertion (LS, MS),
    deassertion (LS, MS), then the readable-thresholds (or discrete reading) mask."""
    caps = 0x44 if reading_type == 0x01 else 0x40  # auto re-arm; thresholds readable (threshold sensors)
    body = [0x20, 0x00, num, entity, instance, 0x7F, caps, stype, reading_type, *masks[:4], masks[4], 0x00,
            0x00, unit, 0x00, 0x00, m & 0xFF, (m >> 8) << 6, 0, 0, 0, 0, 0, nominal, 0, 0, 0xFF, 0x00,
            *thresholds, 0, 0, 0, 0, 0, 0xC0 | len(name), *name.encode()]
    return " ".join(f"0x{b:02x}" for b in [num, 0x00, 0x51, 0x01, len(body), *body])


def _allowed(addr: str) -> bool:
    """Lab traffic may only go to loopback, the lab bridge network or the bench network."""
    ip = ipaddress.ip_address(addr)
    return ip.is_loopback or any(ip in ipaddress.ip_network(n) for n in (NET_CIDR, BENCH_CIDR))


def _proc_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0]
    except (OSError, IndexError):
        return None


def _pids_with(marker: str) -> list[int]:
    """Live (non-zombie) processes whose argv contains ``marker`` as one whole argument."""
    needle = b"\0" + marker.encode() + b"\0"
    me = os.getpid()
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = b"\0" + f.read()
        except OSError:
            continue
        if needle in cmd and pid_alive(int(d)):
            found.append(int(d))
    return found


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def tcp_probe(addr: str, port: int, timeout: float = 1.0, read_banner: bool = False) -> tuple[str, float]:
    """Connect (and optionally read the banner); returns (outcome, seconds). Outcome: 'open', 'banner',
    'timeout', 'read-timeout' or an errno name such as 'ECONNREFUSED' / 'EHOSTUNREACH'."""
    if not _allowed(addr):
        raise LabError(f"refusing to probe {addr}: not a lab address")
    t0 = time.monotonic()
    try:
        with socket.create_connection((addr, port), timeout=timeout) as s:
            if not read_banner:
                return "open", time.monotonic() - t0
            s.settimeout(max(0.01, timeout - (time.monotonic() - t0)))
            try:
                data = s.recv(256)
            except TimeoutError:
                return "read-timeout", time.monotonic() - t0
            return ("banner" if data.startswith(b"SSH-") else "no-banner"), time.monotonic() - t0
    except TimeoutError:
        return "timeout", time.monotonic() - t0
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc)), time.monotonic() - t0


class Lab:
    """The hosts lab (BMCs + network). All methods are synchronous, need root, and are bounded by timeouts."""

    USER = BMC_USER
    PASSWORD = BMC_PASSWORD

    def __init__(self, base: Path | str = BASE):
        self.base = Path(base)
        self._new_emu: set[str] = set()

    # ------------------------------------------------------------------ paths, addresses, helpers for tests
    @property
    def ca_bundle(self) -> Path:
        """PEM of the lab CA that signed the HTTPS emulators' certificate (for ``verify=``)."""
        return self.base / "tls" / "ca.pem"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the lab CA (httpx: ``verify=lab.ssl_context()``)."""
        return ssl.create_default_context(cafile=str(self.ca_bundle))

    @property
    def credentials(self) -> tuple[str, str]:
        return BMC_USER, BMC_PASSWORD

    @staticmethod
    def host(name: str) -> Host:
        try:
            return HOST_BY_NAME[name]
        except KeyError:
            raise LabError(f"no lab host {name!r} (have {', '.join(HOST_BY_NAME)})") from None

    def hosts(self) -> list[dict]:
        return [
            {
                "name": h.name,
                "address": h.address,
                "netns": h.netns,
                "ssh_port": SSH_PORT,
                "redfish_url": h.redfish_url,
                "redfish_https_url": h.redfish_https_url,
                "system_id": h.system_id,
                "system_path": h.system_path,
                "ipmi_host": BMC_HOST,
                "ipmi_port": h.ipmi_port,
            }
            for h in HOSTS
        ]

    def _d(self, *parts: str) -> Path:
        return self.base.joinpath(*parts)

    def _redfish_conf(self, h: Host, tls: bool) -> Path:
        return self._d("redfish", f"{h.name}-{'https' if tls else 'http'}.conf")

    def _redfish_state(self, h: Host) -> Path:
        return self._d("redfish", h.name)

    def _ipmi_conf(self, h: Host) -> Path:
        return self._d("ipmi", f"{h.name}.conf")

    def _ipmi_power_file(self, h: Host) -> Path:
        return self._d("ipmi", h.name, "power")

    def _ipmi_emu(self, h: Host) -> Path:
        return self._d("ipmi", f"{h.name}.emu")

    def _sensor_file(self, h: Host, sensor: str) -> Path:
        return self._d("ipmi", h.name, "sensors", sensor)

    def _facility_file(self, h: Host) -> Path:
        return self._redfish_state(h) / "facility.json"

    def _listener_tag(self, h: Host) -> str:
        return f"--hatui-lab-listener={self.base}/{h.name}"

    def _bench_tag(self) -> str:
        return f"--hatui-lab-listener={self.base}/bench"

    def _redfish_pids(self, h: Host, tls: bool | None = None) -> list[int]:
        kinds = (False, True) if tls is None else (tls,)
        return [p for t in kinds for p in _pids_with(str(self._redfish_conf(h, t)))]

    def _stale_bmcs(self, h: Host) -> list[int]:
        """BMC processes started before the facility sensors (plain sushy-emulator, ipmi_sim without the
        host's sensor file): restarted by up()."""
        launched = set(_pids_with(str(FACILITY_LAUNCHER)))
        with_emu = set(_pids_with(str(self._ipmi_emu(h))))
        return [p for p in self._redfish_pids(h) if p not in launched] + \
            [p for p in self._ipmi_pids(h) if p not in with_emu]

    def _ipmi_pids(self, h: Host) -> list[int]:
        return _pids_with(str(self._ipmi_conf(h)))

    def _listener_pids(self, h: Host) -> list[int]:
        return _pids_with(self._listener_tag(h))

    @staticmethod
    def _in_netns(pid: int, netns: str) -> bool:
        try:
            return os.readlink(f"/proc/{pid}/ns/net") == f"net:[{os.stat(f'/run/netns/{netns}').st_ino}]"
        except OSError:
            return False

    def _spawn(self, argv: list[str], marker: str, log: str, netns: str | None = None) -> int:
        """Start ``argv`` in its own session (setsid -f: re-parented away from us, outlives the caller)."""
        logf = self._d("logs", log)
        cmd = ["setsid", "-f", *argv]
        if netns:
            cmd = ["ip", "netns", "exec", netns, *cmd]
        with open(logf, "ab") as out:
            out.write(f"\n=== {time.strftime('%F %T')} start: {' '.join(argv)[:300]}\n".encode())
            out.flush()
            subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.base,
                check=True,
                timeout=10,
            )
        pids = wait_until(lambda: _pids_with(marker), 5, 0.02, f"process {marker} to appear")
        self._d("run", log.replace(".log", ".pid")).write_text(f"{pids[0]}\n")  # informational only
        return pids[0]

    @staticmethod
    def _stop(pids: list[int], timeout: float = STOP_TIMEOUT) -> None:
        if not pids:
            return
        _signal(pids, signal.SIGCONT)
        _signal(pids, signal.SIGTERM)
        try:
            wait_until(lambda: not any(pid_alive(p) for p in pids), timeout, 0.05, "processes to exit")
        except LabError:
            _signal([p for p in pids if pid_alive(p)], signal.SIGKILL)
            wait_until(lambda: not any(pid_alive(p) for p in pids), 2, 0.05, "processes to die")

    # ------------------------------------------------------------------ guard routes
    @staticmethod
    def _guard(cidr: str, on: bool) -> None:
        if on:
            run(["ip", "route", "replace", "unreachable", cidr, "metric", str(GUARD_METRIC)], timeout=10)
        else:
            run(
                ["ip", "route", "del", "unreachable", cidr, "metric", str(GUARD_METRIC)],
                check=False,
                timeout=10,
            )

    @staticmethod
    def _guard_present(cidr: str) -> bool:
        out = run(["ip", "route", "show", "exact", cidr], check=False, timeout=10).stdout
        return any(
            line.startswith("unreachable") and f"metric {GUARD_METRIC}" in line for line in out.splitlines()
        )

    # ------------------------------------------------------------------ files: certs, htpasswd, configs
    def _tls_valid(self) -> bool:
        tls = self._d("tls")
        if not all((tls / f).exists() for f in ("ca.pem", "server.pem", "server.key")):
            return False
        chk = run(
            ["openssl", "x509", "-checkend", "86400", "-noout", "-in", str(tls / "server.pem")],
            check=False,
            timeout=10,
        )
        ver = run(
            ["openssl", "verify", "-CAfile", str(tls / "ca.pem"), str(tls / "server.pem")],
            check=False,
            timeout=10,
        )
        return chk.returncode == 0 and ver.returncode == 0

    def _make_tls(self, tls: Path | None = None, ca_name: str = "hatui lab BMC CA") -> None:
        """A throw-away CA and a server certificate for 127.0.0.1/localhost (EC P-256, 30 days), in ``tls``
        (default: the lab's own)."""
        tls = tls or self._d("tls")
        tls.mkdir(parents=True, exist_ok=True)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run(
            [
                "openssl",
                "req",
                "-x509",
                *ec,
                "-keyout",
                str(tls / "ca.key"),
                "-out",
                str(tls / "ca.pem"),
                "-days",
                "30",
                "-subj",
                f"/CN={ca_name}",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            timeout=30,
        )
        run(
            [
                "openssl",
                "req",
                *ec,
                "-keyout",
                str(tls / "server.key"),
                "-out",
                str(tls / "server.csr"),
                "-subj",
                "/CN=127.0.0.1",
            ],
            timeout=30,
        )
        (tls / "server.ext").write_text(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
        )
        run(
            [
                "openssl",
                "x509",
                "-req",
                "-in",
                str(tls / "server.csr"),
                "-CA",
                str(tls / "ca.pem"),
                "-CAkey",
                str(tls / "ca.key"),
                "-CAcreateserial",
                "-days",
                "30",
                "-out",
                str(tls / "server.pem"),
                "-extfile",
                str(tls / "server.ext"),
            ],
            timeout=30,
        )
        for f in ("ca.key", "server.key"):
            os.chmod(tls / f, 0o600)

    def _htpasswd_ok(self, path: Path) -> bool:
        import bcrypt  # a dependency of sushy-tools

        try:
            user, digest = path.read_text().strip().split(":", 1)
            return user == BMC_USER and bcrypt.checkpw(BMC_PASSWORD.encode(), digest.encode())
        except (OSError, ValueError):
            return False

    @property
    def _htpasswd(self) -> Path:
        return self._d("redfish", "htpasswd")

    def _write_htpasswd(self, password: str) -> None:
        import bcrypt

        digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        tmp = self._htpasswd.with_suffix(".tmp")
        tmp.write_text(f"{BMC_USER}:{digest}\n")
        tmp.replace(self._htpasswd)  # whole: an emulator reading it meanwhile sees the old or the new one

    def _redfish_conf_text(self, h: Host, tls: bool, cert: Path | None = None, key: Path | None = None) -> str:
        """A host's emulator config; its HTTPS one with the lab's certificate unless ``cert``/``key`` are given."""
        lines = (f"SUSHY_EMULATOR_SSL_CERT = '{cert or self._d('tls', 'server.pem')}'\n"
                 f"SUSHY_EMULATOR_SSL_KEY = '{key or self._d('tls', 'server.key')}'\n") if tls else ""
        return string.Template((TEMPLATES / "redfish.conf.in").read_text()).substitute(
            name=h.name,
            port=h.redfish_tls_port if tls else h.redfish_port,
            state_dir=self._redfish_state(h),
            uuid=h.system_id,
            mac=h.mac,
            address=h.address,
            htpasswd=self._htpasswd,
            tls=lines,
        )

    def _write_files(self) -> bool:
        """Render configs; returns True when the TLS material was (re)generated."""
        for d in ("logs", "run", "redfish", "ipmi", "tls"):
            self._d(d).mkdir(parents=True, exist_ok=True)
        new_tls = False
        if not self._tls_valid():
            self._make_tls()
            new_tls = True
        if not self._htpasswd_ok(self._htpasswd):
            self._write_htpasswd(BMC_PASSWORD)
        chassis = self._d("ipmi", "chassis_control.sh")
        chassis.write_bytes((TEMPLATES / "chassis_control.sh").read_bytes())
        chassis.chmod(0o755)
        self._d("ipmi", "bmc.emu").write_bytes((TEMPLATES / "bmc.emu").read_bytes())
        self._new_emu = set()  # hosts whose ipmi_sim must restart to read their changed sensor file
        for h in HOSTS:
            self._sensor_file(h, "inlet").parent.mkdir(parents=True, exist_ok=True)
            if self._write_if_changed(self._ipmi_emu(h), (TEMPLATES / "bmc.emu").read_text() + self._sensors_emu(h)):
                self._new_emu.add(h.name)
        ipmi_tpl = string.Template((TEMPLATES / "ipmi_sim.conf.in").read_text())
        for h in HOSTS:
            for is_tls in (False, True):
                self._write_if_changed(self._redfish_conf(h, is_tls), self._redfish_conf_text(h, is_tls))
            self._ipmi_power_file(h).parent.mkdir(parents=True, exist_ok=True)
            self._write_if_changed(
                self._ipmi_conf(h),
                ipmi_tpl.substitute(
                    name=h.name,
                    port=h.ipmi_port,
                    guid=h.guid,
                    chassis_control=chassis,
                    power_file=self._ipmi_power_file(h),
                    user=BMC_USER,
                    password=BMC_PASSWORD,
                ),
            )
        return new_tls

    @staticmethod
    def _write_if_changed(path: Path, text: str) -> bool:
        try:
            if path.read_text() == text:
                return False
        except OSError:
            pass
        path.write_text(text)
        return True

    # ------------------------------------------------------------------ network
    @staticmethod
    def _ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return run(["ip", *(["-n", netns] if netns else []), *args], check=check, timeout=10)

    @staticmethod
    def _iptables_restore(netns: str, text: str, noflush: bool = False) -> None:
        run(
            [
                "ip",
                "netns",
                "exec",
                netns,
                "iptables-restore",
                "-w",
                "5",
                *(["--noflush"] if noflush else []),
            ],
            input=text,
            timeout=15,
        )

    def _net_up(self) -> None:
        if not Path(f"/sys/class/net/{BRIDGE}").exists():
            self._ip("link", "add", BRIDGE, "type", "bridge")
        self._ip("addr", "replace", f"{JUMP_ADDR}/24", "dev", BRIDGE)
        self._ip("link", "set", BRIDGE, "up")
        for h in HOSTS:
            if not Path(f"/run/netns/{h.netns}").exists():
                self._ip("netns", "add", h.netns)
            peer_ok = self._ip("link", "show", "eth0", netns=h.netns, check=False).returncode == 0
            veth_ok = Path(f"/sys/class/net/{h.veth}").exists()
            if veth_ok != peer_ok:  # half a pair: the other end sits in a deleted (orphaned) namespace
                self._ip("link", "del", h.veth if veth_ok else "eth0", netns=None if veth_ok else h.netns)
            if not (veth_ok and peer_ok):
                self._ip("link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", h.netns)
            self._ip("link", "set", h.veth, "master", BRIDGE, "up")
            self._ip("addr", "replace", f"{h.address}/24", "dev", "eth0", netns=h.netns)
            self._ip("link", "set", "eth0", "up", netns=h.netns)
            self._ip("link", "set", "lo", "up", netns=h.netns)

    def _start_listener(self, h: Host) -> None:
        self._spawn(
            [
                sys.executable,
                "-c",
                LISTENER_CODE,
                self._listener_tag(h),
                BANNER,
                str(LISTEN_BACKLOG),
                f"{h.address}:{SSH_PORT}",
            ],
            self._listener_tag(h),
            f"listener-{h.name}.log",
            netns=h.netns,
        )

    # ------------------------------------------------------------------ BMC processes
    def _emulator_argv(self, conf: Path) -> list[str]:
        """sushy-emulator inside the lab's facility layer (tests/lab/hosts/redfish_facility.py)."""
        return [sys.executable, str(FACILITY_LAUNCHER), "--config", str(conf)]

    def _sensors_emu(self, h: Host) -> str:
        """ipmi_sim commands for the host's sensors: SDRs (main repository) and sensors polled from files."""
        thr = (0, 0, 0, 0, 0x38)  # readable thresholds: unr ucr unc
        lines = ["# facility sensors, rendered by tests/lab/hosts.py: SDRs, then each sensor polled from its file",
                 "main_sdr_add 0x20 " + _full_sdr(SENSOR_INLET, 0x37, 1, 0x01, 0x01, 1, 1, "Inlet Temp", INLET,
                                                   (INLET_UNR, INLET_UCR, INLET_UNC, 0, 0, 0), thr)]
        for i, num in enumerate((SENSOR_FAN1, SENSOR_FAN2)):
            lines.append("main_sdr_add 0x20 " + _full_sdr(num, 0x1D, i + 1, 0x04, 0x01, 18, 100, f"Fan{i + 1}",
                                                          FAN_RPM // 100, (0, 0, 0, 0, FAN_LCR // 100,
                                                                           FAN_LNC // 100), (0, 0, 0, 0, 0x03)))
        for i, num in enumerate((SENSOR_PS1, SENSOR_PS2)):
            lines.append("main_sdr_add 0x20 " + _full_sdr(num, 0x0A, i + 1, 0x08, 0x6F, 0, 0, f"PS{i + 1} Status", 0,
                                                          (0, 0, 0, 0, 0, 0), (0x7F, 0x00, 0x7F, 0x00, 0x7F)))
        poll = f"poll {POLL_MS} file"
        lines += [f'sensor_add 0x20 0 {SENSOR_INLET} 0x01 0x01 {poll} "{self._sensor_file(h, "inlet")}"',
                  f"sensor_set_threshold 0x20 0 {SENSOR_INLET} 1 111000 {INLET_UNR} {INLET_UCR} {INLET_UNC} 0 0 0"]
        for i, num in enumerate((SENSOR_FAN1, SENSOR_FAN2)):
            lines += [f'sensor_add 0x20 0 {num} 0x04 0x01 {poll} "{self._sensor_file(h, f"fan{i + 1}")}"',
                      f"sensor_set_threshold 0x20 0 {num} 1 000011 0 0 0 0 {FAN_LCR // 100} {FAN_LNC // 100}"]
        for i, num in enumerate((SENSOR_PS1, SENSOR_PS2)):  # bit 0 presence, bit 1 failure (sensor type 0x08)
            lines.append(f'sensor_add 0x20 0 {num} 0x08 0x6f {poll} "{self._sensor_file(h, f"ps{i + 1}")}"')
        return "\n".join(lines) + "\n"

    def _start_redfish(self, h: Host, tls: bool) -> None:
        conf = self._redfish_conf(h, tls)
        self._spawn(
            self._emulator_argv(conf), str(conf), f"redfish-{h.name}-{'https' if tls else 'http'}.log"
        )

    def _start_ipmi(self, h: Host) -> None:
        st = self._d("ipmi", h.name, "state")
        st.mkdir(parents=True, exist_ok=True)
        conf = self._ipmi_conf(h)
        # main_sdr_add appends to the persisted repository on every start: start from none
        (st / "ipmi_sim" / h.name / "sdr.20.main").unlink(missing_ok=True)
        self._spawn(
            ["ipmi_sim", "-c", str(conf), "-f", str(self._ipmi_emu(h)), "-s", str(st), "-n"],
            str(conf),
            f"ipmi-{h.name}.log",
        )

    # ------------------------------------------------------------------ up / down / status / reset
    def up(self) -> str:
        """Idempotent: start what is missing, repair what is broken, then reset() to the default state."""
        t0 = time.monotonic()
        if os.geteuid() != 0:
            raise LabError("the hosts lab needs root (network namespaces, iptables)")
        self._guard(NET_CIDR, True)  # before anything else
        self.base.mkdir(parents=True, exist_ok=True)
        # an HTTPS BMC a test gave another certificate (recertify) and left so: restarted with the lab's
        foreign = {h.name for h in HOSTS if self._redfish_pids(h, True) and not self._own_certificate(h)}
        new_tls = self._write_files()
        self._net_up()
        started = []
        for h in HOSTS:
            strays = [p for p in self._listener_pids(h) if not self._in_netns(p, h.netns)]
            self._stop(strays)  # left running in a namespace that was deleted and re-created
            if not self._listener_pids(h):
                self._start_listener(h)
                started.append(f"listener-{h.name}")
            if new_tls or h.name in foreign:
                self._stop(self._redfish_pids(h, tls=True))
            self._stop(self._stale_bmcs(h) + (self._ipmi_pids(h) if h.name in self._new_emu else []))
            if not self._redfish_pids(h):  # neither door open: a fresh machine (power On, no pending change)
                self._rm_tree(self._redfish_state(h))
            self._write_facility(h, self._default_facility(h))  # before the BMCs start: they read it
            for tls in (False, True):
                if not self._redfish_pids(h, tls):
                    self._start_redfish(h, tls)
                    started.append(f"redfish-{h.name}-{'https' if tls else 'http'}")
            if not self._ipmi_pids(h):
                self._ipmi_power_file(h).write_text("1\n")
                self._start_ipmi(h)
                started.append(f"ipmi-{h.name}")
        self.reset()  # before waiting: a frozen listener or an iptables fault left behind would look broken
        self._wait_ready()
        return (
            f"up ({'started ' + ', '.join(started) if started else 'already running'}; "
            f"{time.monotonic() - t0:.2f}s)"
        )

    @staticmethod
    def _rm_tree(p: Path) -> None:
        if p.exists():
            run(["rm", "-rf", "--", str(p)], timeout=30)

    def _wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        import httpx

        def redfish_ok() -> bool:
            for h in HOSTS:
                for url, verify in ((h.redfish_url, False), (h.redfish_https_url, self.ssl_context())):
                    r = httpx.get(url + h.system_path, auth=self.credentials, verify=verify, timeout=2)
                    if r.status_code != 200:
                        return False
            return True

        wait_until(
            lambda: all(tcp_probe(h.address, SSH_PORT, 0.5, read_banner=True)[0] == "banner" for h in HOSTS),
            timeout,
            0.05,
            "the :22 listeners",
        )
        wait_until(redfish_ok, timeout, 0.1, "the Redfish emulators")
        wait_until(lambda: all(self._udp_bound(h.ipmi_port) for h in HOSTS), timeout, 0.05, "ipmi_sim ports")

    @staticmethod
    def _udp_bound(port: int) -> bool:
        with open("/proc/net/udp") as f:
            return any(line.split()[1] == f"0100007F:{port:04X}" for line in f.readlines()[1:])

    def reset(self) -> None:
        """Back to the default state, fast: BMCs thawed and On, links up, no iptables faults, listeners up."""
        if not self._htpasswd_ok(self._htpasswd):
            self._write_htpasswd(BMC_PASSWORD)
        for h in HOSTS:
            _signal(self._redfish_pids(h) + self._ipmi_pids(h), signal.SIGCONT)
            if self._redfish_pids(h, True) and not self._own_certificate(h):
                self.recertify(h.name)
            self._ipmi_power_file(h).write_text("1\n")
            self._write_facility(h, self._default_facility(h))
            self._redfish_force_power(h, "On")
            if Path(f"/sys/class/net/{h.veth}").exists():
                self._ip("link", "set", h.veth, "up")
            self._iptables_restore(h.netns, IPTABLES_DEFAULT)
            self.start_listener(h.name)
        for h in HOSTS:
            wait_until(lambda h=h: self._operstate(h.veth) == "up", 5, 0.02, f"{h.veth} up")

    def _redfish_force_power(self, h: Host, state: str) -> None:
        """Out-of-band: rewrite the fake driver's row (sqlite, pickled dict), dropping any pending change."""
        db = self._redfish_state(h) / "fakedriver.sqlite"
        if not db.exists():
            return
        with sqlite3.connect(db, timeout=5) as con:
            for key, value in con.execute("select key, value from cache").fetchall():
                system = pickle.loads(value)
                if system.get("power_state") != state or system.get("pending_power"):
                    system.update(power_state=state, pending_power=None)
                    con.execute("update cache set value=? where key=?", (pickle.dumps(system), key))
        con.close()

    @staticmethod
    def _operstate(dev: str) -> str | None:
        try:
            return Path(f"/sys/class/net/{dev}/operstate").read_text().strip()
        except OSError:
            return None

    def down(self) -> str:
        self.bench_net_down()
        for h in HOSTS:
            self._stop(self._redfish_pids(h) + self._ipmi_pids(h) + self._listener_pids(h))
        for h in HOSTS:
            self._ip("link", "del", h.veth, check=False)
            self._ip("netns", "del", h.netns, check=False)
        self._ip("link", "del", BRIDGE, check=False)
        self._guard(NET_CIDR, False)  # last
        return "down"

    def status(self) -> str:
        import httpx

        lines = [
            f"guard route {NET_CIDR}: {'present' if self._guard_present(NET_CIDR) else 'MISSING'}; "
            f"bridge {BRIDGE}: {self._operstate(BRIDGE) or 'absent'}"
        ]
        for h in HOSTS:
            lp = self._listener_pids(h)
            probe = (
                tcp_probe(h.address, SSH_PORT, 0.5, read_banner=True)[0]
                if Path(f"/run/netns/{h.netns}").exists()
                else "no netns"
            )
            parts = [
                f"{h.name} {h.address}: link {self._operstate(h.veth) or 'absent'}",
                f"listener {lp or 'DOWN'}{' STOPPED' if lp and _proc_state(lp[0]) == 'T' else ''} ({probe})",
            ]
            for tls in (False, True):
                pids = self._redfish_pids(h, tls)
                url = h.redfish_https_url if tls else h.redfish_url
                if not pids:
                    parts.append(f"{url} DOWN")
                elif _proc_state(pids[0]) == "T":
                    parts.append(f"{url} FROZEN")
                else:
                    try:
                        r = httpx.get(
                            url + h.system_path,
                            auth=self.credentials,
                            verify=self.ssl_context() if tls else False,
                            timeout=1,
                        )
                        parts.append(f"{url} {r.status_code} {r.json().get('PowerState')}")
                    except Exception as exc:  # noqa: BLE001 - status reports, never raises
                        parts.append(f"{url} {type(exc).__name__}")
            ip = self._ipmi_pids(h)
            if not ip:
                parts.append(f"ipmi :{h.ipmi_port} DOWN")
            elif _proc_state(ip[0]) == "T":
                parts.append(f"ipmi :{h.ipmi_port} FROZEN")
            else:
                r = self.ipmitool(h.name, "chassis", "power", "status", timeout=5)
                parts.append(f"ipmi :{h.ipmi_port} {(r.stdout or r.stderr).strip()}")
            lines.append("; ".join(parts))
        lines.append(f"bench net: {'up' if Path(f'/run/netns/{BENCH_NS}').exists() else 'down'}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ BMC clients (for tests and faults)
    def ipmitool(
        self,
        host: str,
        *args: str,
        user: str = BMC_USER,
        password: str = BMC_PASSWORD,
        retries: int = 1,
        interval: int = 1,
        timeout: float = 10.0,
    ) -> subprocess.CompletedProcess:
        """Run ipmitool (lanplus, -C 3) against the host's ipmi_sim; the result is returned whatever the exit
        code. ``timeout`` is a hard limit (LabError past it); against a frozen BMC ipmitool itself gives up
        after about (retries + 1) * interval seconds."""
        h = self.host(host)
        argv = [
            "ipmitool",
            "-I",
            "lanplus",
            "-C",
            "3",
            "-N",
            str(interval),
            "-R",
            str(retries),
            "-H",
            BMC_HOST,
            "-p",
            str(h.ipmi_port),
            "-U",
            user,
            "-P",
            password,
            *args,
        ]
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise LabError(f"ipmitool {' '.join(args)} on {host}: no answer within {timeout}s") from exc

    def redfish(
        self,
        host: str,
        path: str | None = None,
        method: str = "GET",
        json: dict | None = None,
        https: bool = False,
        auth: bool | tuple[str, str] = True,
        timeout: float = 5.0,
    ):
        """One HTTP request to the host's Redfish emulator; returns the httpx.Response. ``path`` defaults to
        the host's system resource."""
        import httpx

        h = self.host(host)
        url = (h.redfish_https_url if https else h.redfish_url) + (
            path if path is not None else h.system_path
        )
        creds = self.credentials if auth is True else (auth or None)
        return httpx.request(
            method, url, json=json, auth=creds, timeout=timeout, verify=self.ssl_context() if https else False
        )

    def power_state(self, host: str, via: str = "redfish") -> bool:
        """True when the BMC says On."""
        if via == "redfish":
            r = self.redfish(host)
            if r.status_code != 200:
                raise LabError(f"Redfish GET {host}: {r.status_code} {r.text[:200]}")
            return r.json()["PowerState"] == "On"
        if via == "ipmi":
            r = self.ipmitool(host, "chassis", "power", "status")
            if r.returncode != 0:
                raise LabError(f"ipmitool power status {host}: rc={r.returncode} {r.stderr.strip()}")
            return r.stdout.strip().endswith(" on")
        raise LabError(f"via must be 'redfish' or 'ipmi', not {via!r}")

    # ------------------------------------------------------------------ facility: supplies, inlet, fans
    def _default_facility(self, h: Host) -> dict:
        n = HOSTS.index(h) + 1
        return {"supplies": [{"ok": True, "feed": FEEDS[0], "outlet": f"A{n}"},
                             {"ok": True, "feed": FEEDS[1], "outlet": f"B{n}"}],
                "inlet": INLET, "inlet_unc": INLET_UNC, "inlet_ucr": INLET_UCR, "inlet_unr": INLET_UNR,
                "fans": [FAN_RPM, FAN_RPM], "fan_lnc": FAN_LNC, "fan_lcr": FAN_LCR}

    def facility(self, host: str) -> dict:
        """The host's facility state as both its BMCs report it."""
        h = self.host(host)
        try:
            return json.loads(self._facility_file(h).read_text())
        except (OSError, ValueError):
            return self._default_facility(h)

    def _write_facility(self, h: Host, st: dict) -> None:
        """Write the state where both BMCs read it (each file atomically: a poll never reads half a file)."""
        def put(path: Path, text: str) -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text)
            os.replace(tmp, path)

        put(self._facility_file(h), json.dumps(st, indent=1) + "\n")
        put(self._sensor_file(h, "inlet"), f"{int(round(st['inlet']))}\n")
        for i, rpm in enumerate(st["fans"]):
            put(self._sensor_file(h, f"fan{i + 1}"), f"{int(rpm) // 100}\n")
        for i, supply in enumerate(st["supplies"]):
            put(self._sensor_file(h, f"ps{i + 1}"), "1\n" if supply["ok"] else "3\n")  # presence (+ failure)

    def _change(self, host: str, change) -> None:
        h = self.host(host)
        st = self.facility(host)
        change(st)
        self._write_facility(h, st)

    def set_supply(self, host: str, n: int, ok: bool) -> None:
        """Power supply ``n`` (1 or 2) failed (Redfish Health Critical, LineInputStatus NoInput; IPMI
        "Failure detected") or working again."""
        def change(st: dict) -> None:
            st["supplies"][n - 1]["ok"] = ok
        self._change(host, change)

    def wire_supply(self, host: str, n: int, feed: str) -> None:
        """Plug supply ``n`` into an outlet of ``feed`` (what Redfish's Links.Outlet says; IPMI cannot say)."""
        def change(st: dict) -> None:
            st["supplies"][n - 1]["feed"] = feed
        self._change(host, change)

    def set_temperature(self, host: str, celsius: float) -> None:
        """The host's inlet temperature (whole degrees: IPMI readings are bytes)."""
        def change(st: dict) -> None:
            st["inlet"] = int(round(celsius))
        self._change(host, change)

    def set_fan(self, host: str, n: int, rpm: int) -> None:
        """Fan ``n`` (1 or 2) at ``rpm`` (whole hundreds: IPMI readings are bytes of 100 RPM); 0 stops it."""
        def change(st: dict) -> None:
            st["fans"][n - 1] = int(rpm)
        self._change(host, change)

    def stop_fan(self, host: str, n: int) -> None:
        self.set_fan(host, n, 0)

    # ------------------------------------------------------------------ faults
    def power(self, host: str, on: bool, via: str = "redfish") -> None:
        """Power a host on/off through its BMC's own API. Redfish: POST ComputerSystem.Reset (On/ForceOff);
        the emulator applies it 0-11 s later (see wait_power). IPMI: ipmitool chassis power on/off (at
        once)."""
        h = self.host(host)
        if via == "redfish":
            r = self.redfish(
                host,
                f"{h.system_path}/Actions/ComputerSystem.Reset",
                "POST",
                json={"ResetType": "On" if on else "ForceOff"},
            )
            if r.status_code not in (200, 202, 204):
                raise LabError(f"Redfish Reset {host}: {r.status_code} {r.text[:200]}")
        elif via == "ipmi":
            r = self.ipmitool(host, "chassis", "power", "on" if on else "off")
            if r.returncode != 0:
                raise LabError(f"ipmitool power {'on' if on else 'off'} {host}: rc={r.returncode} {r.stderr}")
        else:
            raise LabError(f"via must be 'redfish' or 'ipmi', not {via!r}")

    def wait_power(
        self, host: str, on: bool, via: str = "redfish", timeout: float = REDFISH_POWER_TIMEOUT
    ) -> float:
        """Poll the BMC until it reports the wanted state; returns the seconds waited."""
        t0 = time.monotonic()
        wait_until(
            lambda: self.power_state(host, via) == on,
            timeout,
            0.2,
            f"{host} power {'On' if on else 'Off'} via {via}",
        )
        return time.monotonic() - t0

    def _bmc_pids(self, host: str, kind: str) -> list[int]:
        h = self.host(host)
        if kind == "redfish":
            pids = self._redfish_pids(h)
        elif kind == "ipmi":
            pids = self._ipmi_pids(h)
        else:
            raise LabError(f"kind must be 'redfish' or 'ipmi', not {kind!r}")
        if not pids:
            raise LabError(f"{kind} BMC of {host} is not running")
        return pids

    def set_bmc_password(self, password: str) -> None:
        """The Redfish BMCs' password for ``BMC_USER`` (all of them share one htpasswd; IPMI keeps its own).
        sushy reads the file on every request: the next request is judged by it. ``reset()`` puts
        ``BMC_PASSWORD`` back."""
        self._write_htpasswd(password)

    def other_ca_certificate(self, folder: Path) -> tuple[Path, Path]:
        """A server certificate for 127.0.0.1/localhost signed by a CA of its own (not the lab's, so a client
        trusting ``ca_bundle`` refuses it): (cert, key) in ``folder``."""
        self._make_tls(Path(folder), ca_name="a CA hatui does not trust")
        return Path(folder) / "server.pem", Path(folder) / "server.key"

    def _own_certificate(self, h: Host) -> bool:
        try:
            return self._redfish_conf(h, True).read_text() == self._redfish_conf_text(h, True)
        except OSError:
            return False

    def recertify(self, host: str, cert: Path | None = None, key: Path | None = None) -> None:
        """Give the host's HTTPS BMC another certificate (``cert``/``key``; None: the lab's own) and restart
        that emulator alone (its http door and the other BMCs answer on), as a BMC restarts its web server after
        a certificate upload. sushy-emulator loads its certificate at start; its server (werkzeug) closes every
        connection after its answer (``Connection: close``), so a client keeps none across the change. Until
        the new one listens (~1-2 s) its port refuses. Returns once it serves again."""
        h = self.host(host)
        self._redfish_conf(h, True).write_text(self._redfish_conf_text(h, True, cert, key))
        self._stop(self._redfish_pids(h, tls=True))
        self._start_redfish(h, tls=True)

        def serves() -> bool:
            ctx = ssl.create_default_context()
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # whichever certificate it has now
            with socket.create_connection((BMC_HOST, h.redfish_tls_port), timeout=1) as s, \
                    ctx.wrap_socket(s) as tls:
                tls.sendall(f"GET /redfish/v1/ HTTP/1.1\r\nHost: {BMC_HOST}\r\n\r\n".encode())
                return tls.recv(12).startswith(b"HTTP/1.")

        wait_until(serves, START_TIMEOUT, 0.05, f"{h.name}'s HTTPS BMC serving again")

    def freeze_bmc(self, host: str, kind: str = "redfish") -> None:
        """SIGSTOP the host's BMC: kind 'redfish' (its http and https emulators) or 'ipmi' (its ipmi_sim)."""
        pids = self._bmc_pids(host, kind)
        _signal(pids, signal.SIGSTOP)
        wait_until(lambda: all(_proc_state(p) == "T" for p in pids), 2, 0.01, f"{kind} BMC of {host} stopped")

    def thaw_bmc(self, host: str, kind: str = "redfish") -> None:
        pids = self._bmc_pids(host, kind)
        _signal(pids, signal.SIGCONT)
        wait_until(
            lambda: all(_proc_state(p) not in ("T", "t") for p in pids), 2, 0.01, f"{kind} BMC running"
        )

    def link(self, host: str, up: bool) -> None:
        """Set the bridge-side veth of the host up or down (carrier lost on both ends)."""
        h = self.host(host)
        self._ip("link", "set", h.veth, "up" if up else "down")
        want = "up" if up else "down"
        wait_until(lambda: self._operstate(h.veth) == want, 5, 0.02, f"{h.veth} {want}")

    def blackhole(self, host: str, on: bool) -> None:
        """DROP everything that reaches the host (inside its namespace): connects and pings time out."""
        self._iptables_restore(
            self.host(host).netns,
            "*filter\n-F HATUI-BLACKHOLE\n"
            + ("\n".join(IPTABLES_BLACKHOLE) + "\n" if on else "")
            + "COMMIT\n",
            noflush=True,
        )

    def reject(self, host: str, on: bool) -> None:
        """REJECT everything that reaches the host: TCP with a reset (ECONNREFUSED at once), the rest
        (ping included) with icmp-port-unreachable."""
        self._iptables_restore(
            self.host(host).netns,
            "*filter\n-F HATUI-REJECT\n" + ("\n".join(IPTABLES_REJECT) + "\n" if on else "") + "COMMIT\n",
            noflush=True,
        )

    def stop_listener(self, host: str, how: str = "stop") -> None:
        """The host's :22 service stops answering. how='stop': SIGSTOP (a hung sshd: the kernel still accepts
        up to the backlog (16), no banner comes); how='kill': the process exits (connects are refused)."""
        h = self.host(host)
        pids = self._listener_pids(h)
        if how == "stop":
            if not pids:
                raise LabError(f"listener of {host} is not running")
            _signal(pids, signal.SIGSTOP)
            wait_until(lambda: all(_proc_state(p) == "T" for p in pids), 2, 0.01, "listener stopped")
        elif how == "kill":
            _signal(pids, signal.SIGCONT)
            _signal(pids, signal.SIGKILL)
            # Not _listener_pids(): a dying process's cmdline reads empty once its memory is released, a moment
            # before its sockets close. Each pid must reach zombie (sockets closed), then the port must refuse.
            wait_until(lambda: not any(pid_alive(p) for p in pids), 5, 0.02, "listener gone")
            wait_until(
                lambda: tcp_probe(h.address, SSH_PORT, 0.5)[0] == "ECONNREFUSED", 5, 0.02, f"{host}:22 refused"
            )
        else:
            raise LabError(f"how must be 'stop' or 'kill', not {how!r}")

    def start_listener(self, host: str) -> None:
        """Undo stop_listener: SIGCONT a stopped listener, start a dead one."""
        h = self.host(host)
        pids = self._listener_pids(h)
        if pids:
            _signal(pids, signal.SIGCONT)
        else:
            self._start_listener(h)
            wait_until(lambda: tcp_probe(h.address, SSH_PORT, 0.5)[0] == "open", 5, 0.02, f"{host}:22 open")

    # ------------------------------------------------------------------ bench network
    @staticmethod
    def bench_blackholed(n: int) -> list[str]:
        return [f"10.214.{1 + i // 250}.{1 + i % 250}" for i in range(n)]

    @staticmethod
    def bench_answering(n: int) -> list[str]:
        return [f"{BENCH_LOOPBACK_PREFIX}.{1 + i // 250}.{1 + i % 250}" for i in range(n)]

    def bench_net(
        self, n_blackholed: int = 500, n_answering: int | None = None, port: int = SSH_PORT
    ) -> dict:
        """(Re)create the benchmark network: ``n_blackholed`` addresses that silently DROP everything (TCP and
        ICMP) and ``n_answering`` loopback addresses (default: as many) with a listener on ``port`` that sends
        the banner and closes. Returns {"answering": [(addr, port)], "blackholed": [(addr, port)], ...}."""
        n_answering = n_blackholed if n_answering is None else n_answering
        if not 0 < n_blackholed <= 250 * 250 or not 0 <= n_answering <= 250 * 250:
            raise LabError("bench_net: at most 62500 addresses of each kind")
        self.bench_net_down()
        self._guard(BENCH_CIDR, True)  # before anything else
        for d in ("logs", "run"):
            self._d(d).mkdir(parents=True, exist_ok=True)
        self._ip("netns", "add", BENCH_NS)
        self._ip("link", "add", BENCH_VETH, "type", "veth", "peer", "name", "eth0", "netns", BENCH_NS)
        self._ip("addr", "add", f"{BENCH_ROOT_ADDR}/30", "dev", BENCH_VETH)
        self._ip("link", "set", BENCH_VETH, "up")
        blackholed = self.bench_blackholed(n_blackholed)
        batch = [f"addr add {BENCH_NS_ADDR}/30 dev eth0", "link set eth0 up", "link set lo up"]
        batch += [f"addr add {a}/32 dev lo" for a in blackholed]
        run(["ip", "-n", BENCH_NS, "-batch", "-"], input="\n".join(batch) + "\n", timeout=60)
        self._iptables_restore(
            BENCH_NS,
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
            "-A INPUT -i eth0 -j DROP\nCOMMIT\n",
        )
        self._ip("route", "replace", BENCH_CIDR, "via", BENCH_NS_ADDR, "dev", BENCH_VETH)
        answering = self.bench_answering(n_answering)
        if answering:
            self._spawn(
                [
                    sys.executable,
                    "-c",
                    LISTENER_CODE,
                    self._bench_tag(),
                    BANNER,
                    "128",
                    *(f"{a}:{port}" for a in answering),
                ],
                self._bench_tag(),
                "listener-bench.log",
            )
            wait_until(lambda: tcp_probe(answering[-1], port, 0.5)[0] == "open", 10, 0.02, "bench listener")
        outcome = tcp_probe(blackholed[-1], port, 0.3)[0]
        if outcome != "timeout":
            raise LabError(f"bench_net: {blackholed[-1]}:{port} should time out, got {outcome}")
        return {
            "answering": [(a, port) for a in answering],
            "blackholed": [(a, port) for a in blackholed],
            "port": port,
            "cidr": BENCH_CIDR,
            "netns": BENCH_NS,
        }

    def bench_net_down(self) -> None:
        self._stop(_pids_with(self._bench_tag()))
        self._ip("link", "del", BENCH_VETH, check=False)
        self._ip("netns", "del", BENCH_NS, check=False)
        self._guard(BENCH_CIDR, False)  # last
