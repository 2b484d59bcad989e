"""HAProxy backends and their servers, from the stats CSV (``show stat`` / ``.../;csv``).

STAT_FIELDS lists the columns read and what they mean (HAProxy management guide, "CSV format").
A backend's own row (svname BACKEND) gives its status; server rows give each server's.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hatui.model.observation import Garbled, Observation

# column -> what it tells the operator
STAT_FIELDS = {
    "pxname": "proxy (frontend/backend) name",
    "svname": "server name, or FRONTEND / BACKEND for the proxy's own row",
    "type": "0 frontend, 1 backend, 2 server, 3 listener",
    "status": "UP, DOWN, MAINT, DRAIN, NOLB, 'UP 1/2' (going down), 'DOWN 1/2' (going up), 'no check'",
    "act": "1 for an active server",
    "bck": "1 for a backup server (takes traffic only when no active server is UP)",
    "lastchg": "seconds since the last UP<->DOWN change",
    "check_status": "last health check: L4OK, L4CON (refused), L4TOUT, L7OK, L7STS (bad status), L7TOUT ...",
    "check_code": "HTTP status of the last L7 check",
    "last_chk": "last health check's words",
    "addr": "server address:port",
}

# Words for the check statuses an operator meets most (HAProxy management guide).
CHECK_WORDS = {
    "L4CON": "connection refused or reset",
    "L4TOUT": "connect timeout",
    "L6TOUT": "TLS handshake timeout",
    "L6RSP": "not TLS",
    "L7TOUT": "no HTTP answer (timeout)",
    "L7RSP": "not HTTP",
    "L7STS": "bad HTTP status",
    "SOCKERR": "socket error",
}


class HaproxyGarbled(Garbled):
    """The answer is not an HAProxy stats CSV."""


@dataclass(frozen=True, slots=True)
class HaproxyServer:
    backend: str
    name: str
    status: str
    backup: bool
    last_change: int | None       # seconds since the last state change
    check_status: str
    check_code: str
    check_words: str
    addr: str

    @property
    def serving(self) -> bool:
        """Takes traffic: UP (also 'UP 1/2' while going down, and servers without a health check)."""
        return self.status.startswith("UP") or self.status in ("no check", "OPEN")

    @property
    def maintenance(self) -> bool:
        """Taken out by an operator (or its tracked server): MAINT or DRAIN."""
        return self.status.startswith(("MAINT", "DRAIN"))

    @property
    def down(self) -> bool:
        return not self.serving and not self.maintenance

    @property
    def check(self) -> str:
        """The last health check in words: 'L4CON (connection refused or reset)'."""
        if not self.check_status:
            return ""
        code = f" {self.check_code}" if self.check_code else ""
        words = CHECK_WORDS.get(self.check_status.lstrip("* "), "")
        return f"{self.check_status}{code}" + (f" ({words})" if words else "")


@dataclass(frozen=True, slots=True)
class HaproxyBackend:
    name: str
    status: str                   # the BACKEND row's status: UP or DOWN
    servers: tuple[HaproxyServer, ...]

    @property
    def serving(self) -> tuple[HaproxyServer, ...]:
        return tuple(s for s in self.servers if s.serving)


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_haproxy_stats(data: Mapping[str, Any], only: list[str] | None = None) -> tuple[HaproxyBackend, ...]:
    """Backends (with their servers) from the source's ``{"rows": [...]}``; ``only``: backend names."""
    rows = data.get("rows")
    if not isinstance(rows, list):
        start = str(data.get("start", ""))[:40]
        raise HaproxyGarbled(f"not an HAProxy stats CSV (starts {start!r}; does the URL end in ;csv?)")
    backends: dict[str, str] = {}
    servers: dict[str, list[HaproxyServer]] = {}
    for r in rows:
        if not isinstance(r, Mapping) or "pxname" not in r or "svname" not in r:
            raise HaproxyGarbled("a stats row without pxname/svname")
        px, sv, kind = str(r["pxname"]), str(r["svname"]), str(r.get("type", ""))
        if only is not None and px not in only:
            continue
        if sv == "BACKEND" or kind == "1":
            backends[px] = str(r.get("status", ""))
        elif kind == "2" or sv not in ("FRONTEND", "BACKEND") and kind not in ("0", "3"):
            servers.setdefault(px, []).append(HaproxyServer(
                backend=px, name=sv, status=str(r.get("status", "")), backup=str(r.get("bck")) == "1",
                last_change=_int(str(r.get("lastchg", ""))), check_status=str(r.get("check_status", "")),
                check_code=str(r.get("check_code", "")), check_words=str(r.get("last_chk", "")),
                addr=str(r.get("addr", "")),
            ))
    return tuple(HaproxyBackend(name, status, tuple(servers.get(name, ())))
                 for name, status in backends.items())


def backends_of(obs: Observation, section: Any) -> tuple[HaproxyBackend, ...]:
    """The haproxy source's parser (hatui.areas): the backends that stats endpoint is asked to watch."""
    stats = next((h for h in getattr(section, "haproxy", ()) if h.name == obs.target), None)
    return parse_haproxy_stats(obs.data, stats.backends if stats is not None else None)
