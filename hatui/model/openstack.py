"""The OpenStack area's state at one instant: Keystone's token, the endpoint round, HAProxy's backends
and the service lists, each the usable (fresh, understood) answer of its target, parsed on arrival."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hatui.model.endpoints import EndpointRound
from hatui.model.haproxy import HaproxyBackend
from hatui.model.keystone import TokenInfo
from hatui.model.services import ServiceRow
from hatui.model.snapshot import Snapshot


@dataclass(frozen=True)
class OpenStackState:
    label: str                                   # the cloud's name (Keystone's subject)
    token: TokenInfo | None                      # None: no usable answer (failure, stale, garbled)
    keystone_failing: bool                       # the keystone target's latest poll is a fresh failure
    round: EndpointRound | None
    backends: dict[str, tuple[HaproxyBackend, ...]] = field(default_factory=dict)  # lb name -> usable backends
    services: dict[str, tuple[ServiceRow, ...]] = field(default_factory=dict)       # nova|neutron -> rows
    # the last round or the one before, fresh or not: where the APIs are does not change when one fails
    last_round: EndpointRound | None = None

    @property
    def service_rows(self) -> list[ServiceRow]:
        return [r for rows in self.services.values() for r in rows]


def derive(snapshot: Snapshot, section: Any) -> OpenStackState:
    ks = snapshot.get("keystone", section.label)
    ep = snapshot.get("endpoint", "endpoints")
    backends = {}
    for stats in section.haproxy:
        st = snapshot.get("haproxy", stats.name)
        if st is not None and st.parsed is not None:
            backends[stats.name] = st.parsed
    services = {}
    for which in section.services:
        st = snapshot.get("services", which)
        if st is not None and st.parsed is not None:
            services[which] = st.parsed
    last = next((v for v in ((ep.value, ep.previous_value) if ep is not None else ())
                 if isinstance(v, EndpointRound)), None)
    return OpenStackState(section.label, ks.parsed if ks else None, bool(ks and ks.failed),
                          ep.parsed if ep else None, backends, services, last)
