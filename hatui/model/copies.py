"""What data is kept where (durability N-1): the database on its Synced members, each layout of queues on
its replicas. Built with the topology (hatui.model.topology) from the areas' derived state; the
redundancy engine asks which single failure would leave fewer copies than needed."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Copies:
    """Data kept in copies on instances (durability N-1): the database on its Synced members, a group of
    queues laid out alike on their replicas. It is lost (or, for a quorum queue, out of reach until a lost
    member comes back with its disk) once fewer than ``needed`` of the ``holders`` are left."""

    service: str                 # the service holding it (topology.DATABASE or QUEUE)
    kind: str                    # "database", or a queue kind (hatui.model.rabbitmq_queues.KINDS)
    holders: tuple[str, ...]     # instance keys holding a current copy that can take over
    needed: int                  # holders that must remain: 1 (a full copy) or a majority of the members
    members: int = 0             # replicas in all (the queue's members, the component's size)
    count: int = 1               # queues laid out alike (1 for the database)
    names: tuple[str, ...] = ()  # a few of them, for the words
    unknown: int = 0             # members whose copy hatui cannot tell (not seen): no verdict of one copy
    behind: tuple[str, ...] = ()  # members that hold no current copy now, with why ("db-2 Joining")

    def left(self, lost: Collection[str] = ()) -> int:
        return sum(1 for h in self.holders if h not in lost)

    def lost(self, lost: Collection[str] = ()) -> bool:
        return self.left(lost) < self.needed



def database_copies(cluster: Any, service: str) -> tuple[Copies, ...]:
    """The database's current copies: its Synced members of the Primary component (none: no Primary)."""
    if cluster is None or cluster.view is None:
        return ()
    behind = tuple(f"{n.name} {n.status.state_comment or f'state {n.status.local_state}'}" for n in cluster.nodes
                   if n.name in cluster.members and not n.status.is_synced)
    return (Copies(service, service, tuple(f"{service}/{m}" for m in cluster.synced), 1, cluster.size or 0,
                   unknown=cluster.unseen, behind=behind),)


def queue_copies(picture: Any, service: str) -> tuple[Copies, ...]:
    """Each layout of queues (hatui.model.rabbitmq_queues): its holders by configured name."""
    queues = getattr(picture, "queues", None)
    if queues is None:
        return ()
    return tuple(Copies(service, g.kind, tuple(f"{service}/{picture.label(n)}" for n in g.holders), g.needed,
                        len(g.members), g.count, g.names) for g in queues.groups)
