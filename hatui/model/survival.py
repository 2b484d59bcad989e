"""When a service survives the loss of some of its instances: one small rule per kind of service.

Each rule answers for a set of instances still alive (``survives``), and says the fewest of them whose
loss is fatal (``fatal``: the redundancy engine prunes N-2 with it). Rules are data, each with its source.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Quorum:
    """Galera's weighted quorum: after an unclean loss, a component stays Primary only with strictly
    more than half of the previous Primary component's weight (Galera documentation, "Weighted Quorum";
    every node's ``pc.weight`` is 1 unless set; an arbitrator votes without holding data)."""

    weights: Mapping[str, float]  # members (instance keys) of the last Primary component -> their pc.weight
    size: int                     # the component's size as its members report it (may exceed weights)
    # members the component counts that hatui cannot see (an arbitrator, a node not polled or garbled):
    # alive, weight 1, as hatui.model.galera counts them; the rest of the unnamed are gone (lost already)
    unseen: int = 0

    def survives(self, alive: frozenset[str]) -> bool:
        total = sum(self.weights.values()) + (self.size - len(self.weights))  # unnamed members weigh 1
        return 2 * (sum(w for m, w in self.weights.items() if m in alive) + self.unseen) > total

    def words(self, alive: frozenset[str]) -> str:
        kept = sum(1 for m in self.weights if m in alive) + self.unseen
        return f"quorum lost ({kept} of {self.size} left)"

    def fatal(self, alive: frozenset[str]) -> int:
        """The fewest of ``alive`` whose loss loses quorum (the heaviest first)."""
        total = sum(self.weights.values()) + (self.size - len(self.weights))
        weights = sorted((w for m, w in self.weights.items() if m in alive), reverse=True)
        left = sum(weights) + self.unseen
        for n, w in enumerate(weights):
            if 2 * left <= total:
                return n
            left -= w
        return len(weights)


@dataclass(frozen=True, slots=True)
class Majority:
    """RabbitMQ: quorum queues, Khepri and pause_minority need a majority of the cluster's nodes
    running (RabbitMQ documentation, "Quorum Queues" and "Clustering and Network Partitions")."""

    expected: int  # the cluster's size

    def survives(self, alive: frozenset[str]) -> bool:
        return 2 * len(alive) > self.expected

    def words(self, alive: frozenset[str]) -> str:
        return f"majority lost ({len(alive)} of {self.expected} running, {self.expected // 2 + 1} needed)"

    def fatal(self, alive: frozenset[str]) -> int:
        return max(0, len(alive) - self.expected // 2)


@dataclass(frozen=True, slots=True)
class AtLeast:
    """Stateless services (nova-conductor, nova-scheduler, agents, API backends): up while at least
    ``k`` instances serve (k = 1 unless a capacity floor is configured)."""

    k: int = 1

    def survives(self, alive: frozenset[str]) -> bool:
        return len(alive) >= self.k

    def words(self, alive: frozenset[str]) -> str:
        return "no instance left" if not alive else f"{len(alive)} left, {self.k} needed"

    def fatal(self, alive: frozenset[str]) -> int:
        return max(0, len(alive) - self.k + 1)


Survival = Quorum | Majority | AtLeast
