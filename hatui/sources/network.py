"""Reachability of a host's management addresses: TCP connects and ICMP echo, each probe classified.

Every probe has its own deadline (``network_timeout``) and ends in one of: open, silent (a banner port
that accepts but says nothing: a hung sshd), refused (TCP reset, ICMP port-unreachable or
admin-prohibited: something rejects it), timeout (nothing came back: DROP, host down, cable out),
unreachable (no route, ARP failed, ICMP host-unreachable) or error (a local problem, e.g. out of file
descriptors: it says nothing about the host). A probe never raises: the poll's data is the list.

ICMP, decided once per process: an unprivileged ping socket (Linux ``net.ipv4.ping_group_range``), else
a raw socket (root or CAP_NET_RAW), both through icmplib; else the ``ping`` binary (iputils, setuid or
with capabilities), run with -W and killed past the deadline; else no ICMP (said in the data).

All hosts' probes share one bound (``max_probes`` in flight): the lab measured 1,000 loopback connects
at 7,500-9,400/s with 64-1,000 in flight, and each blackholed probe holds its slot for the full timeout.
"""
from __future__ import annotations

import asyncio
import errno
import ipaddress
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from typing import Any

from hatui.config.hosts import HostEntry, HostsSection
from hatui.sources.base import AsyncSource
from hatui.sources.ipmi import dies_with_hatui
from hatui.topology import TargetSpec

BANNER_BYTES = 64
_UNREACHABLE_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}
_REFUSED_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET}
# ICMP destination-unreachable codes (RFC 792, RFC 1812): port unreachable and the administratively
# prohibited ones are a REJECT (something answered on the host's behalf); the others are no route.
_ICMP_REJECT_CODES = {4: {3, 9, 10, 13}, 6: {1, 4, 5, 6}}
_PING_TIME = re.compile(r"time[=<]([\d.]+) ms")


def _result(address: str, probe: str, outcome: str, latency: float | None, detail: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"address": address, "probe": probe, "outcome": outcome,
                           "latency": None if latency is None else round(latency, 6)}
    if detail:
        out["detail"] = detail
    return out


def _errno_of(exc: BaseException) -> int | None:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:  # icmplib wraps OSErrors in its own errors
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno:
            return cur.errno
        m = re.search(r"\[Errno (\d+)\]", str(cur))
        if m:
            return int(m.group(1))
        cur = cur.__cause__ or cur.__context__
    return None


def _outcome_of_errno(code: int | None) -> str:
    if code in _REFUSED_ERRNOS:
        return "refused"
    if code in _UNREACHABLE_ERRNOS:
        return "unreachable"
    if code == errno.ETIMEDOUT:
        return "timeout"
    return "error"


class Prober:
    """Probes shared by every host of one run: the bound on probes in flight and the ICMP method."""

    def __init__(self, max_probes: int, ping: bool) -> None:
        self.slots = asyncio.Semaphore(max_probes)
        self.ping = ping
        self._icmp_mode: str | None = None if ping else "off"
        self._ids = itertools.count((os.getpid() * 7919) & 0xFFFF)

    @property
    def icmp_mode(self) -> str:
        if self._icmp_mode is None:
            self._icmp_mode = pick_icmp_mode()
        return self._icmp_mode

    async def tcp(self, address: str, port: int, timeout: float, banner: bool) -> dict[str, Any]:
        async with self.slots:
            return await _never_raises(tcp_probe(address, port, timeout, banner), address, f"tcp/{port}")

    async def icmp(self, address: str, timeout: float) -> dict[str, Any]:
        if self.icmp_mode == "off":
            return _result(address, "icmp", "error", None, "no ICMP here: no ping socket, raw socket or ping binary")
        async with self.slots:
            if self.icmp_mode == "ping":
                return await _never_raises(ping_binary(address, timeout), address, "icmp")
            probe = icmp_socket(address, timeout, self.icmp_mode == "raw", next(self._ids) & 0xFFFF)
            return await _never_raises(probe, address, "icmp")


async def _never_raises(probe, address: str, name: str) -> dict[str, Any]:
    """A probe's own bug says nothing about the host: it is a local "error" outcome, not a failed poll."""
    try:
        return await probe
    except Exception as exc:  # noqa: BLE001 - see above; cancellation still propagates
        return _result(address, name, "error", None, f"{type(exc).__name__}: {exc}"[:120])


async def tcp_probe(address: str, port: int, timeout: float, banner: bool = False) -> dict[str, Any]:
    """Connect (and for a banner port, wait for the service's first bytes), within ``timeout``."""
    probe = f"tcp/{port}"
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    loop = asyncio.get_running_loop()
    t0 = time.monotonic()
    connected: float | None = None
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        return _result(address, probe, "error", None, os.strerror(exc.errno or 0))
    sock.setblocking(False)
    try:
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, (address, port))
            connected = time.monotonic() - t0
            if banner:
                data = await loop.sock_recv(sock, BANNER_BYTES)
                if not data:
                    return _result(address, probe, "silent", connected, "closed without a word")
        return _result(address, probe, "open", connected)
    except TimeoutError:
        if connected is not None:
            return _result(address, probe, "silent", connected, f"no banner within {timeout:g} s")
        return _result(address, probe, "timeout", time.monotonic() - t0)
    except OSError as exc:
        code = _errno_of(exc)
        outcome = _outcome_of_errno(code)
        detail = "" if outcome != "error" else (errno.errorcode.get(code or 0) or str(exc))[:80]
        return _result(address, probe, outcome, time.monotonic() - t0, detail)
    finally:
        sock.close()


def pick_icmp_mode() -> str:
    """How this process can send ICMP echo: "unprivileged", "raw", "ping" or "off"."""
    from icmplib import ICMPv4Socket
    from icmplib.exceptions import ICMPLibError

    for mode, privileged in (("unprivileged", False), ("raw", True)):
        try:
            ICMPv4Socket(privileged=privileged).close()
            return mode
        except ICMPLibError:
            continue
    return "ping" if shutil.which("ping") else "off"


async def icmp_socket(address: str, timeout: float, privileged: bool, ident: int) -> dict[str, Any]:
    """One echo request through icmplib's asyncio socket (unprivileged ping socket or raw)."""
    from icmplib import AsyncSocket, ICMPRequest, ICMPv4Socket, ICMPv6Socket
    from icmplib.exceptions import DestinationUnreachable, ICMPError, ICMPLibError, TimeoutExceeded

    version = ipaddress.ip_address(address).version
    cls = ICMPv6Socket if version == 6 else ICMPv4Socket
    t0 = time.monotonic()
    try:
        with AsyncSocket(cls(privileged=privileged)) as sock:
            request = ICMPRequest(address, id=ident, sequence=1)
            sock.send(request)
            reply = await sock.receive(request, timeout)
            reply.raise_for_status()
            return _result(address, "icmp", "open", max(0.0, reply.time - request.time))
    except TimeoutExceeded:
        return _result(address, "icmp", "timeout", time.monotonic() - t0)
    except DestinationUnreachable as exc:
        outcome = "refused" if exc.reply.code in _ICMP_REJECT_CODES[version] else "unreachable"
        return _result(address, "icmp", outcome, time.monotonic() - t0, str(exc).lower())
    except ICMPError as exc:  # time exceeded (a routing loop), redirect ...
        return _result(address, "icmp", "unreachable", time.monotonic() - t0, str(exc).lower())
    except (ICMPLibError, OSError) as exc:
        code = _errno_of(exc)
        outcome = _outcome_of_errno(code)
        return _result(address, "icmp", outcome, time.monotonic() - t0,
                       "" if outcome != "error" else str(exc)[:80])


async def ping_binary(address: str, timeout: float) -> dict[str, Any]:
    """``ping -n -c 1 -W timeout``: for machines without ICMP sockets; killed past the deadline."""
    argv = ["ping", "-n", "-c", "1", "-W", f"{timeout:g}", address]
    t0 = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *dies_with_hatui(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}, start_new_session=True)
    except OSError as exc:
        return _result(address, "icmp", "error", None, f"ping: {exc.strerror}")
    try:
        async with asyncio.timeout(timeout + 1.0):
            out, _ = await proc.communicate()
    except TimeoutError:
        return _result(address, "icmp", "timeout", time.monotonic() - t0)
    finally:
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await proc.wait()
    text = out.decode("utf-8", "replace")
    elapsed = time.monotonic() - t0
    if proc.returncode == 0:
        m = _PING_TIME.search(text)
        return _result(address, "icmp", "open", float(m.group(1)) / 1000 if m else elapsed)
    if "Port Unreachable" in text or "Prohibited" in text:
        return _result(address, "icmp", "refused", elapsed, "port unreachable")
    if "Unreachable" in text or proc.returncode == 2:
        return _result(address, "icmp", "unreachable", elapsed)
    return _result(address, "icmp", "timeout", elapsed)


class NetworkSource(AsyncSource):
    """One host's management addresses: ICMP echo (if on) and a TCP connect per port, all at once."""

    def __init__(self, spec: TargetSpec, host: HostEntry, section: HostsSection, prober: Prober) -> None:
        super().__init__(spec)
        self.host, self.section, self.prober = host, section, prober

    async def poll(self) -> dict[str, Any]:
        timeout = self.section.network_timeout  # per probe; the spec's timeout is the whole poll's budget
        jobs = []
        for address in self.host.addresses:
            if self.prober.ping:
                jobs.append(self.prober.icmp(address, timeout))
            for port in self.host.ports:
                jobs.append(self.prober.tcp(address, port, timeout, port in self.host.banner_ports))
        probes = await asyncio.gather(*jobs)
        return {"icmp": self.prober.icmp_mode, "probes": list(probes)}
