"""The redundancy engine at scale: N-1 and N-2 time for a model of 1,000 hosts, 5,000 instances and 50
failure domains (issue 11: at most 100 ms on one core), and ok-to-stop for one host.

    .venv/bin/python -m bench.model

The model is built as hatui's topology would be for a large cloud: 3 controllers with Galera, RabbitMQ,
nova-conductor, nova-scheduler and the API backends behind one HAProxy; 997 compute hosts, each with
nova-compute, the Open vSwitch agent, the metadata agent, a DHCP and an L3 agent (5,000 instances in
all); hosts spread over 10 power feeds, 25 racks and 15 switches. Pure computation: no server involved.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from types import MappingProxyType
from typing import TypeVar

from bench.common import figure
from hatui.model.redundancy import find, ok_to_stop, pairs, single_points
from hatui.model.survival import AtLeast, Majority, Quorum
from hatui.model.topology import DATABASE, LOAD_BALANCER, OBSERVED, QUEUE, Host, Instance, Placement, Service, Topology

T = TypeVar("T")

HOSTS, FEEDS, RACKS, SWITCHES = 1000, 10, 25, 15
AGENTS = ("nova-compute", "neutron-openvswitch-agent", "neutron-metadata-agent", "neutron-dhcp-agent",
          "neutron-l3-agent")


def model() -> Topology:
    hosts = {}
    for n in range(HOSTS):
        name = f"ctl-{n + 1}" if n < 3 else f"cmp-{n - 2}"
        hosts[name] = Host(name, (("power", f"pdu-{n % FEEDS}"), ("rack", f"r{n % RACKS}"),
                                  ("switch", f"sw-{n % SWITCHES}")), True)
    instances, services = [], []

    def add(name: str, service: str, on: str) -> None:
        instances.append(Instance(name, service, True, Placement(on, OBSERVED, "bench")))

    controllers = ["ctl-1", "ctl-2", "ctl-3"]
    for i, h in enumerate(controllers):
        add(f"db-{i + 1}", DATABASE, h)
        add(f"mq-{i + 1}", QUEUE, h)
        for binary in ("nova-conductor", "nova-scheduler"):
            add(f"{binary}@{h}", binary, h)
        for api in ("keystone", "nova_api", "placement", "glance_api", "neutron_api"):
            add(h, f"backend lb/{api}", h)
    add("lb", f"{LOAD_BALANCER} lb", "ctl-1")
    services += [Service(DATABASE, Quorum(MappingProxyType({f"{DATABASE}/db-{i}": 1.0 for i in (1, 2, 3)}), 3)),
                 Service(QUEUE, Majority(3)), Service(f"{LOAD_BALANCER} lb", AtLeast(1))]
    services += [Service(b, AtLeast(1), (DATABASE, QUEUE)) for b in ("nova-conductor", "nova-scheduler")]
    services += [Service(f"backend lb/{api}", AtLeast(1), (f"{LOAD_BALANCER} lb",))
                 for api in ("keystone", "nova_api", "placement", "glance_api", "neutron_api")]
    computes = [h for h in hosts if h.startswith("cmp-")]
    for binary in AGENTS:
        for h in computes:
            add(f"{binary}@{h}", binary, h)
        services.append(Service(binary, AtLeast(1), (QUEUE,)))
    return Topology(MappingProxyType(hosts), MappingProxyType({s.name: s for s in services}), tuple(instances))


def timed(fn: Callable[[], T], runs: int = 5) -> tuple[float, T]:
    """Median CPU seconds of ``runs`` calls, and the last result."""
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return statistics.median(times), out


def main() -> int:
    t0 = time.process_time()
    top = model()
    build = time.process_time() - t0
    print(f"model: {len(top.hosts)} hosts, {len(top.instances)} instances, {len(top.domains())} domains, "
          f"{len(top.services)} services")
    n1, spofs = timed(lambda: single_points(top))
    known = [e for e, _ in spofs]  # as the CloudState holds them
    n2, risks = timed(lambda: pairs(top, known))
    host = find(top, "cmp-17")
    assert host is not None
    stop, verdict = timed(lambda: ok_to_stop(top, [host]), runs=3)
    figure("topology built (indexes)", build * 1000, "ms")
    figure("N-1: every host, domain, instance tried", n1 * 1000, "ms")
    figure("N-2: pairs of hosts and domains (pruned)", n2 * 1000, "ms")
    figure("N-1 plus N-2 (one core, CPU time)", (n1 + n2) * 1000, "ms", "<= 100 ms", (n1 + n2) <= 0.1)
    figure("ok-to-stop cmp-17 (N-1 after the stop)", stop * 1000, "ms")
    print(f"  N-1 finds {len(spofs)} single points (the controllers' shares), N-2 {len(risks)} pairs; "
          f"ok-to-stop cmp-17 answers {verdict.code}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
