"""The state of the cloud at one instant: every configured area's derived state, computed once.

Built by the monitor for each assessment from the snapshot (whose values were parsed once, on
arrival) and read by rules, faces and panes alike, so that a quorum margin or a cluster picture is
worked out in one place. Each area's ``derive`` is declared in hatui.areas.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hatui.areas import BY_NAME, load
from hatui.model.copies import Copies
from hatui.model.redundancy import Element, Loss, data_points, down, pairs, single_points
from hatui.model.snapshot import Snapshot
from hatui.model.topology import Topology, build


@dataclass(frozen=True, slots=True)
class CloudState:
    taken_at: float
    areas: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # area -> why its state could not be derived (a bug in hatui, shown as UNKNOWN, never as healthy)
    errors: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    topology: Topology | None = None  # what runs where, across the areas (None: could not be built)
    # N-1 now: every host, domain or instance whose failure alone takes a service down, with what it takes
    single_points: tuple[tuple[Element, dict[str, Loss]], ...] = ()
    down: Mapping[str, Loss] = field(default_factory=lambda: MappingProxyType({}))  # services down now
    # N-2 as risk: pairs of hosts or domains that would take a service down together (shown, not alarmed)
    pairs: tuple[tuple[Element, Element, dict[str, Loss]], ...] = ()
    # durability N-1 now: every host, domain or instance whose failure alone would lose data, and which
    durability: tuple[tuple[Element, tuple[Copies, ...]], ...] = ()

    def area(self, name: str) -> Any:
        return self.areas.get(name)

    @property
    def galera(self) -> Any:  # GaleraCluster | None
        return self.areas.get("galera")

    @property
    def rabbitmq(self) -> Any:  # ClusterPicture | None
        return self.areas.get("rabbitmq")

    @property
    def openstack(self) -> Any:  # OpenStackState | None
        return self.areas.get("openstack")

    @property
    def hosts(self) -> Any:  # HostsState | None
        return self.areas.get("hosts")


def derive_cloud(snapshot: Snapshot, config: Any, previous: CloudState | None = None,
                 changed: frozenset[str] | None = None) -> CloudState:
    """The state of the cloud now. With ``previous`` (the last assessment's) and ``changed`` (the areas
    whose targets answered, or went stale or fresh again, since then), every other area keeps its state
    and, when no area changed, the topology too; N-1 is lent whenever the topology is the same: most
    polls change a figure, not what runs where or what is up."""
    areas: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, section in config.sections.items():
        if previous is not None and changed is not None and name not in changed and name in previous.areas:
            areas[name] = previous.areas[name]
            continue
        try:
            areas[name] = load(BY_NAME[name].derive)(snapshot, section)
        except Exception as exc:  # noqa: BLE001 - one area's bug must not blind the others
            errors[name] = f"{type(exc).__name__}: {exc}"
    if previous is not None and changed is not None and not changed and not errors and not previous.errors:
        return CloudState(snapshot.taken_at, previous.areas, previous.errors, previous.topology,
                          previous.single_points, previous.down, previous.pairs, previous.durability)
    topology: Topology | None = None
    spofs: tuple[tuple[Element, dict[str, Loss]], ...] = ()
    now_down: Mapping[str, Loss] = MappingProxyType({})
    risks: tuple[tuple[Element, Element, dict[str, Loss]], ...] = ()
    data: tuple[tuple[Element, tuple[Copies, ...]], ...] = ()
    try:
        topology = build(areas, config, snapshot)
        if previous is not None and previous.topology == topology:
            topology = previous.topology  # the same object: what reads it can tell nothing moved
            spofs, now_down, risks = previous.single_points, previous.down, previous.pairs
            data = previous.durability
        else:
            spofs, now_down = tuple(single_points(topology)), MappingProxyType(down(topology))
            risks = tuple(pairs(topology, [e for e, _ in spofs]))
            data = tuple(data_points(topology))
    except Exception as exc:  # noqa: BLE001 - as above: the areas are still judged
        errors["topology"] = f"{type(exc).__name__}: {exc}"
    return CloudState(snapshot.taken_at, MappingProxyType(areas), MappingProxyType(errors), topology, spofs,
                      now_down, risks, data)
