"""Turn the OpenStack captures in tests/fixtures/openstack into observations, through the sources' own
answer functions (token_data, nova_answer, neutron_answer, stat_rows, version_ids): what the live
sources would have produced from those real answers."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hatui.config import parse
from hatui.model import Failure, FailureKind, Observation
from hatui.sources.base import SourceError
from hatui.sources.endpoints import catalog_groups, version_ids
from hatui.sources.haproxy import stat_rows
from hatui.sources.keystone import classify_openstack, token_data
from hatui.sources.services import neutron_answer, nova_answer

FIXTURES = Path(__file__).parent / "fixtures" / "openstack"
AUTH_URL = "http://127.0.0.1:15000/v3"
LAB_BACKENDS = ["keystone", "nova_api", "placement", "glance_api", "neutron_api"]
# catalog URL (lab) -> its captured unauthenticated answer
VERSION_CAPTURES = {
    "http://127.0.0.1:5000/v3/": "versions/keystone_5000_v3.json",
    "http://127.0.0.1:8774/v2.1": "versions/nova_8774_v2.1.json",
    "http://127.0.0.1:9292": "versions/glance_9292_root.json",
    "http://127.0.0.1:9696": "versions/neutron_9696_root.json",
    "http://127.0.0.1:8778": "versions/placement_8778_root.json",
    "http://127.0.0.1:15000/": "versions/keystone_vip_15000_root.json",
    "http://127.0.0.1:18774/": "versions/nova_vip_18774_root.json",
    AUTH_URL: "versions/keystone_vip_15000_root.json",  # the lab's auth URL is the VIP (captured at /)
}


def lab_config(**over: Any):
    doc = {"name": "lab", "service_down_time": 6, "report_interval": 2, "agent_down_time": 6,
           "agent_report_interval": 2, "timeout": 2.0,
           "endpoints": [{"name": "keystone-vip", "url": "http://127.0.0.1:15000/"},
                         {"name": "nova-vip", "url": "http://127.0.0.1:18774/"}],
           "haproxy": [{"name": "lb", "url": "http://127.0.0.1:8404/;csv", "backends": LAB_BACKENDS}]}
    doc.update(over)
    return parse({"openstack": doc}, "fixture.toml", resolve_secrets=False)


def capture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def _obs(source: str, target: str, at: float, call) -> Observation:
    try:
        return Observation(source, target, at, 0.01, data=call())
    except SourceError as exc:
        return Observation(source, target, at, 0.01, failure=classify_openstack(exc, target, 2.0))


def keystone_obs(name: str = "token_catalog_reader.json", at: float = 100.0) -> Observation:
    return _obs("keystone", "lab", at, lambda: token_data(AUTH_URL, capture(name)["body"]))


def keystone_down(at: float = 100.0) -> Observation:
    """As the keystone source words a refused connection (its classify adds the catalog it keeps)."""
    msg = f"Keystone {AUTH_URL}: connection refused; endpoints still probed from the catalog of 08:25:48"
    return Observation("keystone", "lab", at, 0.002, failure=Failure(FailureKind.REFUSED, msg))


def nova_obs(name: str, at: float = 100.0) -> Observation:
    cap = capture(name)
    return _obs("services", "nova", at, lambda: nova_answer(cap["status"], cap["headers"].get("Date"), cap["body"]))


def neutron_obs(name: str, roles: list[str], at: float = 100.0) -> Observation:
    cap = capture(name)
    return _obs("services", "neutron", at,
                lambda: neutron_answer(cap["status"], cap["headers"].get("Date"), cap["body"], roles))


def haproxy_obs(name: str, at: float = 100.0) -> Observation:
    return Observation("haproxy", "lb", at, 0.003, data=stat_rows((FIXTURES / name).read_text()))


def version_answer(name: str) -> dict[str, Any]:
    """A probe result from a captured version document (as sources.endpoints.probe makes it)."""
    cap = capture(name)
    body = json.dumps(cap["body"]).encode()
    ctype = {k.lower(): v for k, v in cap["headers"].items()}.get("content-type", "").split(";")[0]
    return {"status": cap["status"], "latency": 0.003, "versions": version_ids(body), "content_type": ctype,
            "location": None, "tls": None, "error": None}


def failed_answer(kind: str, message: str, latency: float = 0.001) -> dict[str, Any]:
    return {"status": None, "latency": latency, "versions": None, "content_type": None, "location": None,
            "tls": None, "error": {"kind": kind, "message": message}}


def endpoints_obs(overrides: dict[str, dict[str, Any]] | None = None, at: float = 100.0,
                  token: str = "token_catalog_reader.json", origin: str = "keystone") -> Observation:
    """The endpoint round over the captured catalog, the two lab VIPs and the auth URL (the keystone VIP);
    ``overrides``: url -> result."""
    catalog = token_data(AUTH_URL, capture(token)["body"])["catalog"]
    entries = catalog_groups(catalog)
    entries += [{"service": None, "name": n, "region": None, "url": u, "interfaces": [], "extra": True}
                for n, u in (("keystone-vip", "http://127.0.0.1:15000/"), ("nova-vip", "http://127.0.0.1:18774/"))]
    results = {u: version_answer(f) for u, f in VERSION_CAPTURES.items()}
    results.update(overrides or {})
    data = {"catalog": {"from": origin, "at": at - 1, "region": "RegionOne", "interface": "public"},
            "endpoints": [{**e, **results[e["url"]]} for e in entries],
            "auth": {"url": AUTH_URL, **results[AUTH_URL]}}
    return Observation("endpoint", "endpoints", at, 0.01, data=data)


def healthy(at: float = 100.0) -> list[Observation]:
    """Every target as the admin sees a healthy lab (services as admin: the reader may not list them)."""
    return [keystone_obs(at=at), endpoints_obs(at=at), nova_obs("nova_os_services_all_up.json", at),
            neutron_obs("neutron_agents_all_alive.json", ["admin"], at), haproxy_obs("haproxy_stats_all_up.csv", at)]
