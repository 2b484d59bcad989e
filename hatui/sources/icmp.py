"""ICMP echo for the reachability probes, by the best means this process has, decided once:

- an unprivileged ping socket (Linux ``net.ipv4.ping_group_range``), one per request through icmplib: the
  kernel gives each its own id and delivers it only its own replies and errors;
- else a raw socket (root or CAP_NET_RAW): ONE per address family for all requests, replies dispatched
  by (id, sequence) from a reader that drains the socket. A raw socket receives a copy of every ICMP
  packet of the machine, so a socket per request costs N x N deliveries (bench/hosts.py: 1,000 pings at
  once took 5-6 s that way, with 256 in flight);
- else the ``ping`` binary (iputils: setuid or capabilities), with -W, killed past the deadline;
- else none ("off", said in the data).
"""
from __future__ import annotations

import asyncio
import ipaddress
import itertools
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
from typing import Any

from icmplib import AsyncSocket, ICMPRequest, ICMPv4Socket, ICMPv6Socket
from icmplib.exceptions import DestinationUnreachable, ICMPError, ICMPLibError, TimeoutExceeded

from hatui.sources.ipmi import dies_with_hatui
from hatui.sources.probe import errno_of, outcome_of_errno, probe_result

# ICMP destination-unreachable codes (RFC 792/1812, RFC 4443): port unreachable and the administratively
# prohibited ones are a REJECT (something answered on the host's behalf); the others are no route.
_ICMP_REJECT_CODES = {4: {3, 9, 10, 13}, 6: {1, 4, 5, 6}}
_UNREACHABLE_WORDS = {4: {0: "network unreachable", 1: "host unreachable", 3: "port unreachable",
                          9: "network prohibited", 10: "host prohibited", 13: "administratively prohibited"},
                      6: {0: "no route", 1: "administratively prohibited", 3: "address unreachable",
                          4: "port unreachable", 5: "source address failed policy", 6: "reject route"}}
_PING_TIME = re.compile(r"time[=<](\d+(?:\.\d+)?) ms")  # iputils: "time=0.045 ms", "time<1 ms"


def pick_icmp_mode() -> str:
    """How this process can send ICMP echo: "unprivileged", "raw", "ping" or "off"."""
    for mode, privileged in (("unprivileged", False), ("raw", True)):
        try:
            ICMPv4Socket(privileged=privileged).close()
            return mode
        except ICMPLibError:
            continue
    return "ping" if shutil.which("ping") else "off"


def _icmp_outcome(address: str, version: int, reply, elapsed: float) -> dict[str, Any]:
    """An ICMP reply (echo reply or error about our request) as a probe result."""
    try:
        reply.raise_for_status()
    except DestinationUnreachable as exc:
        outcome = "refused" if exc.reply.code in _ICMP_REJECT_CODES[version] else "unreachable"
        return probe_result(address, "icmp", outcome, elapsed, str(exc).lower())
    except ICMPError as exc:  # time exceeded (a routing loop), redirect ...
        return probe_result(address, "icmp", "unreachable", elapsed, str(exc).lower())
    return probe_result(address, "icmp", "open", elapsed)


def _icmp_failure(address: str, exc: BaseException, elapsed: float) -> dict[str, Any]:
    outcome = outcome_of_errno(errno_of(exc))
    return probe_result(address, "icmp", outcome, elapsed, "" if outcome != "error" else str(exc)[:80])


async def icmp_socket(address: str, timeout: float, privileged: bool, ident: int) -> dict[str, Any]:
    """One echo request on a socket of its own. For unprivileged ping sockets: the kernel gives each its
    own id and delivers it only its own replies, and errors (host unreachable ...) arrive on it."""
    version = ipaddress.ip_address(address).version
    cls = ICMPv6Socket if version == 6 else ICMPv4Socket
    t0 = time.monotonic()
    try:
        with AsyncSocket(cls(privileged=privileged)) as sock:
            request = ICMPRequest(address, id=ident, sequence=1)
            sock.send(request)
            reply = await sock.receive(request, timeout)
            return _icmp_outcome(address, version, reply, max(0.0, reply.time - request.time))
    except TimeoutExceeded:
        return probe_result(address, "icmp", "timeout", time.monotonic() - t0)
    except (ICMPLibError, OSError) as exc:
        return _icmp_failure(address, exc, time.monotonic() - t0)


# ICMP types (RFC 792, RFC 4443): echo request/reply, and the errors that quote our request
_ECHO_REQUEST = {4: 8, 6: 128}
_ECHO_REPLY = {4: 0, 6: 129}
_UNREACHABLE = {4: 3, 6: 1}
_TIME_EXCEEDED = {4: 11, 6: 3}
RAW_RCVBUF = 4 << 20  # replies of 1,000 pings at once: the default ~200 KB holds ~270 (lab: replies lost)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def echo_request(version: int, ident: int, seq: int) -> bytes:
    header = struct.pack("!BBHHH", _ECHO_REQUEST[version], 0, 0, ident, seq)
    payload = b"hatui-reachability-probe"
    if version == 6:
        return header + payload  # the kernel computes ICMPv6 checksums on raw sockets
    return struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload


def parse_icmp(packet: bytes, version: int) -> tuple[int, int, int, int] | None:
    """(type, code, id, sequence) of an echo reply, or of an error quoting an echo request; else None.
    An IPv4 raw socket receives the IP header too; IPv6 raw sockets do not."""
    icmp = packet[(packet[0] & 0x0F) * 4:] if version == 4 and packet else packet
    if len(icmp) < 8:
        return None
    kind, code = icmp[0], icmp[1]
    if kind == _ECHO_REPLY[version]:
        return kind, code, *struct.unpack("!HH", icmp[4:8])
    if kind in (_UNREACHABLE[version], _TIME_EXCEEDED[version]):
        quoted = icmp[8:]
        if version == 4:
            quoted = quoted[(quoted[0] & 0x0F) * 4:] if quoted else b""
        else:
            quoted = quoted[40:]  # the fixed IPv6 header of our request
        if len(quoted) >= 8 and quoted[0] == _ECHO_REQUEST[version]:
            return kind, code, *struct.unpack("!HH", quoted[4:8])
    return None


class SharedRawIcmp:
    """Echo requests of every host on one raw socket per address family, replies dispatched by (id,
    sequence) from one reader callback that drains the socket. A raw socket receives a copy of every ICMP
    packet of the machine, so a socket per request costs N x N deliveries (bench/hosts.py, 1,000 pings at
    once: 5-6 s with a socket each)."""

    def __init__(self, ident: int) -> None:
        self.ident = ident
        self._seq = itertools.count(1)
        self._socks: dict[int, socket.socket] = {}
        self._waiting: dict[tuple[int, int], tuple[asyncio.Future, float]] = {}

    def _sock(self, version: int) -> socket.socket:
        sock = self._socks.get(version)
        if sock is None:
            family, proto = (socket.AF_INET6, socket.IPPROTO_ICMPV6) if version == 6 else \
                (socket.AF_INET, socket.IPPROTO_ICMP)
            sock = socket.socket(family, socket.SOCK_RAW, proto)
            sock.setblocking(False)
            for opt in (o for o in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF) if o is not None):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, opt, RAW_RCVBUF)
                    break
                except (OSError, TypeError):
                    continue
            asyncio.get_running_loop().add_reader(sock, self._drain, version, sock)
            self._socks[version] = sock
        return sock

    def _drain(self, version: int, sock: socket.socket) -> None:
        now = time.monotonic()
        while True:
            try:
                packet = sock.recv(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # an error queued on the socket: it names no request; those time out
            parsed = parse_icmp(packet, version)
            if parsed is None:
                continue
            kind, code, ident, seq = parsed
            waiting = self._waiting.get((version, seq)) if ident == self.ident else None
            if waiting is not None and not waiting[0].done():
                waiting[0].set_result((kind, code, now - waiting[1]))

    async def ping(self, address: str, timeout: float) -> dict[str, Any]:
        version = ipaddress.ip_address(address).version
        seq = next(self._seq) & 0xFFFF
        key = (version, seq)
        t0 = time.monotonic()
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._waiting[key] = (fut, t0)
        try:
            sock = self._sock(version)
            async with asyncio.timeout(timeout):
                await loop.sock_sendto(sock, echo_request(version, self.ident, seq), (address, 0))
                kind, code, elapsed = await fut
        except TimeoutError:
            return probe_result(address, "icmp", "timeout", time.monotonic() - t0)
        except OSError as exc:
            return _icmp_failure(address, exc, time.monotonic() - t0)
        finally:
            self._waiting.pop(key, None)
        if kind == _ECHO_REPLY[version]:
            return probe_result(address, "icmp", "open", elapsed)
        if kind == _UNREACHABLE[version]:
            outcome = "refused" if code in _ICMP_REJECT_CODES[version] else "unreachable"
            words = _UNREACHABLE_WORDS[version].get(code, f"destination unreachable, code {code}")
            return probe_result(address, "icmp", outcome, elapsed, words)
        return probe_result(address, "icmp", "unreachable", elapsed, "time exceeded (a routing loop?)")

    def close(self) -> None:
        for sock in self._socks.values():
            try:
                asyncio.get_running_loop().remove_reader(sock)
            except RuntimeError:
                pass  # no loop any more: the reader went with it
            sock.close()
        self._socks.clear()


async def ping_binary(address: str, timeout: float) -> dict[str, Any]:
    """``ping -n -c 1 -W timeout``: for machines without ICMP sockets; killed past the deadline."""
    argv = ["ping", "-n", "-c", "1", "-W", f"{timeout:g}", address]
    t0 = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *dies_with_hatui(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}, start_new_session=True)
    except OSError as exc:
        return probe_result(address, "icmp", "error", None, f"ping: {exc.strerror}")
    try:
        async with asyncio.timeout(timeout + 1.0):
            out, _ = await proc.communicate()
    except TimeoutError:
        return probe_result(address, "icmp", "timeout", time.monotonic() - t0)
    finally:
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await proc.wait()
    return ping_outcome(address, proc.returncode, out.decode("utf-8", "replace"), time.monotonic() - t0)


def ping_outcome(address: str, returncode: int | None, text: str, elapsed: float) -> dict[str, Any]:
    """What ``ping -n -c 1`` said (exit code and output) as a probe result."""
    if returncode == 0:
        m = _PING_TIME.search(text)
        return probe_result(address, "icmp", "open", float(m.group(1)) / 1000 if m else elapsed)
    if "Port Unreachable" in text or "Prohibited" in text:
        return probe_result(address, "icmp", "refused", elapsed, "port unreachable")
    if "Unreachable" in text or returncode == 2:
        return probe_result(address, "icmp", "unreachable", elapsed)
    return probe_result(address, "icmp", "timeout", elapsed)
