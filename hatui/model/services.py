"""Control-plane services: nova ``os-services`` rows and neutron agents as one kind of row.

nova (``GET /os-services``, microversion 2.53): binary, host, zone, status enabled|disabled, state
up|down (nova's own verdict: ``now - updated_at > service_down_time``), forced_down, disabled_reason,
updated_at (UTC, no zone, whole seconds in MariaDB). neutron (``GET /v2.0/agents``): binary, host,
agent_type, alive (the same verdict with agent_down_time), admin_state_up, heartbeat_timestamp
(UTC, "YYYY-MM-DD HH:MM:SS").

The heartbeat age is measured against the server's clock (the answer's HTTP Date header) when there
is one, so a jump host with a skewed clock does not make healthy services look late.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hatui.model.observation import Garbled, Observation, finite


class ServicesGarbled(Garbled):
    """The answer is not a nova service list or a neutron agent list."""


@dataclass(frozen=True, slots=True)
class ServiceRow:
    kind: str                   # "nova" or "neutron"
    binary: str
    host: str
    zone: str
    enabled: bool               # nova status enabled / neutron admin_state_up
    up: bool                    # nova state up / neutron alive
    forced_down: bool
    disabled_reason: str
    heartbeat_age: float | None  # seconds since the last heartbeat, on the server's clock
    agent_type: str = ""

    @property
    def subject(self) -> str:
        return f"{self.binary}@{self.host}"

    @property
    def serving(self) -> bool:
        """Up and not forced down: counted toward its binary's redundancy. A disabled service (nova-compute
        only: nova refuses to disable others) or an agent set admin-down still runs what it runs; it only
        gets no new work: that is its own finding, not a loss."""
        return self.up and not self.forced_down


def _epoch(value: Any, what: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        t = datetime.fromisoformat(str(value).replace(" ", "T").replace("Z", ""))
        return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()
    except (ValueError, OverflowError, OSError):  # not a time, or one no clock can hold
        raise ServicesGarbled(f"{what} is not a time: {str(value)[:40]!r}") from None


def _age(now: float, beat: float | None) -> float | None:
    return None if beat is None else max(0.0, now - beat)


def _server_time(data: Mapping[str, Any], observed_at: float) -> float:
    """The server's clock (the answer's Date header) if it said, else the observation's time."""
    now = data.get("server_time")
    if now is None:
        return observed_at
    if not finite(now):
        raise ServicesGarbled(f"server_time is not a time: {str(now)[:40]!r}")
    return float(now) or observed_at


def _rows(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    rows = data.get(key)
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise ServicesGarbled(f"no '{key}' list in the answer")
    for r in rows:
        if not r.get("binary") or not r.get("host"):
            raise ServicesGarbled(f"a row of '{key}' without binary or host")
    return rows


def parse_nova_services(data: Mapping[str, Any], observed_at: float) -> tuple[ServiceRow, ...]:
    now = _server_time(data, observed_at)
    out = []
    for r in _rows(data, "services"):
        if r.get("state") not in ("up", "down") or r.get("status") not in ("enabled", "disabled"):
            raise ServicesGarbled(f"{r['binary']}@{r['host']}: state {r.get('state')!r}, status {r.get('status')!r}")
        out.append(ServiceRow(
            kind="nova", binary=str(r["binary"]), host=str(r["host"]), zone=str(r.get("zone") or ""),
            enabled=r["status"] == "enabled", up=r["state"] == "up", forced_down=bool(r.get("forced_down")),
            disabled_reason=str(r.get("disabled_reason") or ""),
            heartbeat_age=_age(now, _epoch(r.get("updated_at"), "updated_at")),
        ))
    return tuple(sorted(out, key=lambda s: (s.binary, s.host)))


def parse_neutron_agents(data: Mapping[str, Any], observed_at: float) -> tuple[ServiceRow, ...]:
    now = _server_time(data, observed_at)
    out = []
    for r in _rows(data, "agents"):
        if not isinstance(r.get("alive"), bool):
            raise ServicesGarbled(f"{r['binary']}@{r['host']}: alive is {r.get('alive')!r}")
        out.append(ServiceRow(
            kind="neutron", binary=str(r["binary"]), host=str(r["host"]),
            zone=str(r.get("availability_zone") or ""), enabled=r.get("admin_state_up") is not False,
            up=r["alive"], forced_down=False, disabled_reason="",
            heartbeat_age=_age(now, _epoch(r.get("heartbeat_timestamp"), "heartbeat_timestamp")),
            agent_type=str(r.get("agent_type") or ""),
        ))
    return tuple(sorted(out, key=lambda s: (s.binary, s.host)))


def parse_service_list(which: str, data: Mapping[str, Any], observed_at: float) -> tuple[ServiceRow, ...]:
    return (parse_nova_services if which == "nova" else parse_neutron_agents)(data, observed_at)


def rows_of(obs: Observation, section: Any) -> tuple[ServiceRow, ...]:
    """The services source's parser (hatui.areas): target ``nova`` or ``neutron``."""
    return parse_service_list(obs.target, obs.data, obs.observed_at)


def by_binary(rows: list[ServiceRow]) -> dict[str, list[ServiceRow]]:
    """Rows grouped by binary (nova-conductor, ...): the unit of redundancy."""
    out: dict[str, list[ServiceRow]] = {}
    for r in rows:
        out.setdefault(r.binary, []).append(r)
    return out
