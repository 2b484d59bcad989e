"""Live N-1, N-2 and ok-to-stop over the topology: which failures would take which services down now.

An element is a host, a failure domain (power feed, rack, switch) or one instance. Failing a set of
elements fails every host in them, every instance on those hosts and every named instance; a service
is down when its survival rule fails on the instances left, or when a service it needs is down. Only
what the failure *adds* to what is down already counts. Pure functions of a Topology.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hatui.model.copies import Copies
from hatui.model.survival import Majority, Quorum
from hatui.model.topology import DOMAIN_WORDS, Topology

HOST, INSTANCE = "host", "instance"


@dataclass(frozen=True, slots=True, order=True)
class Element:
    kind: str   # HOST, a DOMAIN_WORDS key ("power", "rack", "switch") or INSTANCE
    name: str

    @property
    def words(self) -> str:
        return DOMAIN_WORDS.get(self.kind, self.kind)


@dataclass(frozen=True, slots=True)
class Loss:
    """A service a failure takes down, and why: its own rule (``why``) or a service it needs (``via``)."""

    service: str
    why: str
    via: str = ""


def elements(top: Topology, instances: bool = True) -> list[Element]:
    """Everything that can fail now: hosts not already down, every domain, instances serving now."""
    out = [Element(HOST, h.name) for h in top.hosts.values() if h.up is not False]
    out += sorted(Element(kind, name) for name, (kind, _hosts) in top.domains().items())
    if instances:
        out += [Element(INSTANCE, i.key) for i in top.instances if i.up]
    return out


def find(top: Topology, name: str) -> Element | None:
    """An element by the name an operator types: a host, a domain, or an instance (``db-2`` where only
    one instance has that name, else ``database/db-2``)."""
    if name in top.hosts:
        return Element(HOST, name)
    domains = top.domains()
    if name in domains:
        return Element(domains[name][0], name)
    if top.instance(name) is not None:
        return Element(INSTANCE, name)
    named = [i for i in top.instances if i.name == name]
    return Element(INSTANCE, named[0].key) if len(named) == 1 else None


def hosts_of(top: Topology, failed: Iterable[Element]) -> set[str]:
    """The hosts a failure takes down: failed hosts, and those whose every feed (or every switch) fails."""
    domains = top.domains()
    out: set[str] = set()
    names: set[str] = set()
    for e in failed:
        if e.kind == HOST:
            out.add(e.name)
        elif e.kind != INSTANCE and e.name in domains:
            names.add(e.name)
    for name in names:
        out.update(h for h in domains[name][1] if top.hosts[h].lost_with(names))
    return out


def lost_instances(top: Topology, failed: Iterable[Element]) -> set[str]:
    failed = tuple(failed)
    lost = {e.name for e in failed if e.kind == INSTANCE}
    for host in hosts_of(top, failed):
        lost.update(top.keys_on(host))
    return lost


def reconnecting(top: Topology, stopped: Iterable[Element]) -> dict[str, tuple[str, ...]]:
    """Queue instance name -> the RPC clients (os-service instances the stop leaves running) connected to
    it now: they must fail over to another node, which oslo.messaging does when its heartbeat gives up."""
    lost = lost_instances(top, stopped)
    out: dict[str, list[str]] = {}
    for client, nodes in sorted(top.rpc.items()):
        if client in lost:
            continue
        inst = top.instance(client)
        for node in sorted(nodes & lost):
            out.setdefault(node.split("/", 1)[1], []).append(inst.name if inst else client)
    return {k: tuple(v) for k, v in out.items()}


def _direct(top: Topology, service: str, lost: set[str]) -> Loss | None:
    svc = top.services[service]
    alive = top.alive(service) - lost if lost else top.alive(service)
    if svc.survival.survives(alive):
        return None
    gone = sorted(k.split("/", 1)[1] for k in top.alive(service) if k in lost)
    return Loss(service, svc.survival.words(alive) + (f": {', '.join(gone)} lost" if gone else ""))


def down(top: Topology, failed: Iterable[Element] = (), base: dict[str, Loss] | None = None) -> dict[str, Loss]:
    """Every service down once ``failed`` fails (with nothing failed: what is down now). With ``base``
    (what is down now), only the services that lose an instance are judged again."""
    lost = lost_instances(top, failed)
    out: dict[str, Loss] = {}
    if base is None:
        for name in top.services:
            if (loss := _direct(top, name, lost)) is not None:
                out[name] = loss
    else:
        touched = {i.service for k in lost if (i := top.instance(k)) is not None}
        out = {k: v for k, v in base.items() if not v.via and k not in touched}
        for name in sorted(touched):  # in a stable order: the summaries name the losses in it
            if (loss := _direct(top, name, lost)) is not None:
                out[name] = loss
    changed = True
    while changed:  # a service needing a service that is down is down (the graph is small and acyclic)
        changed = False
        for svc in top.services.values():
            if svc.name in out:
                continue
            need = next((n for n in svc.needs if n in out), None)
            if need is not None:
                out[svc.name] = Loss(svc.name, f"needs the {need}", via=need)
                changed = True
    return out


def impact(top: Topology, failed: Iterable[Element], base: dict[str, Loss] | None = None) -> dict[str, Loss]:
    """The services ``failed`` takes down beyond those down already (``base``, default: now)."""
    before = down(top) if base is None else base
    return {name: loss for name, loss in down(top, failed, before).items() if name not in before}


def _fatal(top: Topology, lost: set[str], base: dict[str, Loss]) -> dict[str, int]:
    """Service -> the fewest more of its live instances whose loss takes it down (services up only)."""
    out = {}
    for name, svc in top.services.items():
        if name not in base:
            alive = top.alive(name) - lost if lost else top.alive(name)
            out[name] = svc.survival.fatal(alive)
    return out


def _may_kill(top: Topology, lost: set[str], fatal: dict[str, int]) -> bool:
    """Whether losing ``lost`` (more) could take some service down directly: without that, nothing that
    needs a service can go down either. Exact pruning: N-1 tries only these elements."""
    counts: dict[str, int] = {}
    for key in lost:
        service = top.live_service(key)
        if service is not None and service in fatal:
            counts[service] = counts.get(service, 0) + 1
            if counts[service] >= fatal[service]:
                return True
    return False


def single_points(top: Topology, instances: bool = True) -> list[tuple[Element, dict[str, Loss]]]:
    """N-1: every element whose failure alone takes a service down now."""
    base = down(top)
    fatal = _fatal(top, set(), base)
    found = []
    for e in elements(top, instances):
        if not _may_kill(top, lost_instances(top, [e]), fatal):
            continue
        hit = impact(top, [e], base)
        if hit:
            found.append((e, hit))
    return found


def pairs(top: Topology, alone: Iterable[Element] | None = None) -> list[tuple[Element, Element, dict[str, Loss]]]:
    """N-2 as risk: pairs of hosts and domains that take a service down together while neither does
    alone (instances left out: with many instances the pairs are the hosts' pairs anyway). Only pairs
    that lose, between them, at least a service's ``fatal`` count of its live instances are tried.
    ``alone``: the single points already known (the CloudState's), else worked out here."""
    base = down(top)
    spofs = set(alone) if alone is not None else {e for e, _ in single_points(top, instances=False)}
    cands = [e for e in elements(top, instances=False) if e not in spofs]
    counts: dict[str, dict[int, int]] = {}  # service -> candidate's index -> live instances of it lost
    for n, e in enumerate(cands):
        for key in lost_instances(top, [e]):
            service = top.live_service(key)
            if service is not None:
                per = counts.setdefault(service, {})
                per[n] = per.get(n, 0) + 1
    tried: set[tuple[int, int]] = set()
    found = []
    for service, per in counts.items():
        if service in base:
            continue
        need = top.services[service].survival.fatal(top.alive(service))
        ranked = sorted(per.items(), key=lambda kv: -kv[1])
        for i, (a, ca) in enumerate(ranked):
            if i + 1 == len(ranked) or ca + ranked[i + 1][1] < need:
                break  # no partner left that loses enough with it (the rest lose fewer still)
            for b, cb in ranked[i + 1:]:
                if ca + cb < need:
                    break
                pair = (a, b) if a < b else (b, a)
                if pair in tried:
                    continue
                tried.add(pair)
                hit = impact(top, (cands[pair[0]], cands[pair[1]]), base)
                if hit:
                    first, second = sorted((cands[pair[0]], cands[pair[1]]))
                    found.append((first, second, hit))
    return sorted(found, key=lambda t: (t[0], t[1]))


@dataclass(frozen=True, slots=True)
class Verdict:
    """``hatui ok-to-stop``: what stopping ``stopped`` now would do."""

    stopped: tuple[Element, ...]
    down: dict[str, Loss]                         # services that would go down
    exposed: dict[str, tuple[Element, ...]]       # services left up, but then down with any one of these
    exposed_now: dict[str, tuple[Element, ...]]   # the same, before the stop (its single points now)
    unplaced: dict[str, tuple[str, ...]]          # service -> instances whose host is unknown
    down_now: dict[str, Loss]                     # services down already
    unknown: dict[str, tuple[str, ...]]           # service -> instances whose state cannot be told now
    # quorum services -> (members they can lose now, after the stop); None: no quorum (down)
    margins: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    # durability: data the stop would lose (the only synced copy, quorum queues below their majority) ...
    data_lost: tuple[Copies, ...] = ()
    data_lost_now: tuple[Copies, ...] = ()        # ... lost (or out of reach) already
    # data left with one copy to lose after the stop: (its copies, the instances any one of which loses it,
    # whether it is so already now)
    data_exposed: tuple[tuple[Copies, tuple[str, ...], bool], ...] = ()

    @property
    def code(self) -> int:
        """0: every service stays up and redundant; 1: only redundancy is lost; 2: a service goes down
        (or is down already), or data would be lost (or is already); 3: cannot tell (an instance's state
        is unknown)."""
        if self.down or self.down_now or self.data_lost or self.data_lost_now:
            return 2
        if self.unknown:
            return 3
        return 1 if self.exposed or self.data_exposed else 0


def _exposure(top: Topology, failed: tuple[Element, ...], base: dict[str, Loss]) -> dict[str, tuple[Element, ...]]:
    """Service -> the single further elements that would take it down once ``failed`` has failed."""
    gone = hosts_of(top, failed)
    lost = lost_instances(top, failed)
    fatal = _fatal(top, lost, base)
    out: dict[str, list[Element]] = {}
    for e in elements(top):
        if e in failed or (e.kind == HOST and e.name in gone):
            continue
        if not _may_kill(top, lost_instances(top, [e]) - lost, fatal):
            continue
        for name in impact(top, [*failed, e], base):
            out.setdefault(name, []).append(e)
    return {k: tuple(v) for k, v in out.items()}


def margin(top: Topology, service: str, lost: set[str] | frozenset[str] = frozenset()) -> int | None:
    """How many more of ``service``'s serving instances it can lose, the worst first (the heaviest
    Galera vote), once ``lost`` are gone; None when it is down already."""
    svc = top.services[service]
    alive = frozenset(i.key for i in top.of(service) if i.up and i.key not in lost)
    if not svc.survival.survives(alive):
        return None
    return max(0, svc.survival.fatal(alive) - 1)


def ok_to_stop(top: Topology, stopped: Iterable[Element]) -> Verdict:
    stopped = tuple(stopped)
    base = down(top)
    lost = impact(top, stopped, base)
    after = {**base, **lost}
    unplaced = {s: top.unplaced(s) for s in top.services if top.unplaced(s)}
    unknown = {s: names for s in top.services if (names := tuple(i.name for i in top.of(s) if i.up is None))}
    down_now = {s: loss for s, loss in base.items() if s not in unknown}  # not known down: unknown
    gone = lost_instances(top, stopped)
    margins = {s: (margin(top, s), margin(top, s, gone)) for s, svc in top.services.items()
               if isinstance(svc.survival, Quorum | Majority)}
    return Verdict(stopped, lost, _exposure(top, stopped, after), _exposure(top, (), base), unplaced, down_now,
                   unknown, margins, data_lost(top, lost=gone), data_lost_now(top), _data_exposure(top, gone))


# ---- durability N-1: which single failure would lose committed data now ------------------------------------

def data_lost_now(top: Topology) -> tuple[Copies, ...]:
    """Data with fewer current copies than it needs already (quorum queues below their majority)."""
    return tuple(c for c in top.copies if c.lost())


def data_lost(top: Topology, failed: Iterable[Element] = (), lost: set[str] | None = None) -> tuple[Copies, ...]:
    """The data ``failed`` (or the instances ``lost``) would lose, beyond what is lost already."""
    gone = lost_instances(top, failed) if lost is None else lost
    return tuple(c for c in top.copies if c.lost(gone) and not c.lost())


def data_points(top: Topology) -> list[tuple[Element, tuple[Copies, ...]]]:
    """Durability N-1: every host, domain or instance whose failure alone loses data now. Data with members
    hatui cannot see is left out (whether they hold a copy is unknown: no verdict either way)."""
    judged = [c for c in top.copies if not c.lost() and not c.unknown]
    holders = {h for c in judged for h in c.holders}
    if not holders:
        return []
    found = []
    for e in elements(top, instances=False) + sorted(Element(INSTANCE, h) for h in holders if top.instance(h)):
        gone = lost_instances(top, [e])
        if gone.isdisjoint(holders):
            continue
        hit = tuple(c for c in judged if c.lost(gone))
        if hit:
            found.append((e, hit))
    return found


def _data_exposure(top: Topology, gone: set[str]) -> tuple[tuple[Copies, tuple[str, ...], bool], ...]:
    """Data the stop leaves (or finds) with exactly the copies it needs: any one of those holders lost
    loses it."""
    out = []
    for c in top.copies:
        if c.unknown or c.lost(gone):
            continue
        left = tuple(h for h in c.holders if h not in gone)
        if len(left) == c.needed:
            out.append((c, left, c.left() == c.needed))
    return tuple(out)
