"""One reachability probe and what its outcome means: the vocabulary shared by TCP and ICMP probes.

Every probe has its own deadline and ends in one of: open, silent (a banner port that accepts but says
nothing: a hung sshd), refused (TCP reset, ICMP port-unreachable or admin-prohibited: something rejects
it), timeout (nothing came back: DROP, host down, cable out), unreachable (no route, ARP failed, ICMP
host-unreachable) or error (a local problem, e.g. out of file descriptors: it says nothing about the host).
"""
from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import re
import socket
import time
from typing import Any

BANNER_BYTES = 64
_UNREACHABLE_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}
_REFUSED_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET}


def probe_result(address: str, probe: str, outcome: str, latency: float | None,
                 detail: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"address": address, "probe": probe, "outcome": outcome,
                           "latency": None if latency is None else round(latency, 6)}
    if detail:
        out["detail"] = detail
    return out


def errno_of(exc: BaseException) -> int | None:
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


def outcome_of_errno(code: int | None) -> str:
    if code in _REFUSED_ERRNOS:
        return "refused"
    if code in _UNREACHABLE_ERRNOS:
        return "unreachable"
    if code == errno.ETIMEDOUT:
        return "timeout"
    return "error"


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
        return probe_result(address, probe, "error", None, os.strerror(exc.errno or 0))
    sock.setblocking(False)
    try:
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, (address, port))
            connected = time.monotonic() - t0
            if banner:
                data = await loop.sock_recv(sock, BANNER_BYTES)
                if not data:
                    return probe_result(address, probe, "silent", connected, "closed without a word")
        return probe_result(address, probe, "open", connected)
    except TimeoutError:
        if connected is not None:
            return probe_result(address, probe, "silent", connected, f"no banner within {timeout:g} s")
        return probe_result(address, probe, "timeout", time.monotonic() - t0)
    except OSError as exc:
        code = errno_of(exc)
        outcome = outcome_of_errno(code)
        detail = "" if outcome != "error" else (errno.errorcode.get(code or 0) or str(exc))[:80]
        return probe_result(address, probe, outcome, time.monotonic() - t0, detail)
    finally:
        sock.close()
