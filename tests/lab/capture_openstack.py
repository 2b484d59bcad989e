"""Capture real answers of the OpenStack lab as fixtures for hatui's unit tests.

    .venv/bin/python -m tests.lab.capture_openstack [OUT_DIR]     (default tests/fixtures/openstack)

Brings the lab up (Lab().up()), records, injects two faults (SIGKILL of nova-conductor@lab-ctl-1 and of
the neutron metadata agent; graceful stop of keystone@lab-ctl-1 behind HAProxy), records again, and
leaves the lab reset. Each JSON fixture is {"request": {...}, "status": N, "headers": {...}, "body": ...};
tokens (X-Subject-Token / X-Auth-Token), cookies and passwords are never written (checked at the end).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tests.lab import openstack as osl
from tests.lab.openstack import Lab, http

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "openstack"
DROP_HEADERS = {"x-subject-token", "x-auth-token", "set-cookie", "authorization"}
MICROVERSION = {"OpenStack-API-Version": "compute 2.53"}

SECRETS = {osl.ADMIN_PASSWORD, osl.READER_PASSWORD, osl.RABBIT_PASSWORD,
           *(osl.service_password(u) for u in osl.SERVICE_USERS),
           *(osl.db_password(u) for u in osl.SERVICE_USERS)}
TOKENS: set[str] = set()


def _headers(h: dict) -> dict:
    return {k: v for k, v in sorted(h.items(), key=lambda kv: kv[0].lower()) if k.lower() not in DROP_HEADERS}


def _body(data: bytes):
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


def record(out: Path, name: str, method: str, url: str, *, token: str | None = None, who: str | None = None,
           headers: dict | None = None, body: object = None, shown_body: object = None) -> dict:
    hdrs = dict(headers or {})
    if token:
        hdrs["X-Auth-Token"] = token
    status, rhdrs, data = http(method, url, body, hdrs, timeout=10)
    for k, v in rhdrs.items():
        if k.lower() == "x-subject-token":
            TOKENS.add(v)
    doc = {"request": {"method": method, "url": url, "auth": who or "none (unauthenticated)",
                       "headers": _headers(headers or {}),
                       **({"body": shown_body} if shown_body is not None else {})},
           "status": status, "headers": _headers(rhdrs), "body": _body(data)}
    path = out / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    print(f"  {path.relative_to(out)}: {status}")
    return doc


def token_request(user: str, password: str, *, project: str | None = None, system: bool = False) -> tuple:
    scope: dict = ({"system": {"all": True}} if system else
                   {"project": {"name": project, "domain": {"id": "default"}}})

    def body(pw: str) -> dict:
        return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": pw}}}, "scope": scope}}
    return body(password), body("***")


def token(user: str, password: str, **scope) -> str:
    tok, _ = osl.password_auth(user, password, **scope)
    TOKENS.add(tok)
    return tok


def wait(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def main(out: Path = OUT) -> int:
    lab = Lab()
    print(lab.up())
    lab.reset()
    out.mkdir(parents=True, exist_ok=True)
    ks = "http://127.0.0.1:5000/v3"
    nova = "http://127.0.0.1:8774/v2.1"
    neutron = "http://127.0.0.1:9696"

    # --- tokens with their catalog
    for name, kw in (("token_catalog_reader", {"project": osl.READER_PROJECT}),
                     ("token_catalog_system_reader", {"system": True})):
        real, shown = token_request(osl.READER_USER, osl.READER_PASSWORD, **kw)
        record(out, name, "POST", f"{ks}/auth/tokens", body=real, shown_body=shown)
    admin = token(osl.ADMIN_USER, osl.ADMIN_PASSWORD, project=osl.ADMIN_PROJECT)
    reader = token(osl.READER_USER, osl.READER_PASSWORD, project=osl.READER_PROJECT)
    sysreader = token(osl.READER_USER, osl.READER_PASSWORD, system=True)
    record(out, "keystone_auth_catalog_reader", "GET", f"{ks}/auth/catalog", token=reader,
           who="hatui-reader, project-scoped reader")
    record(out, "keystone_auth_catalog_system_reader_403", "GET", f"{ks}/auth/catalog", token=sysreader,
           who="hatui-reader, system-scoped reader")

    # --- nova services, neutron agents: healthy
    record(out, "nova_os_services_all_up", "GET", f"{nova}/os-services", token=admin,
           who="admin, project-scoped admin", headers=MICROVERSION)
    record(out, "nova_os_services_all_up_v2.1", "GET", f"{nova}/os-services", token=admin,
           who="admin, project-scoped admin (no microversion header: 2.1, integer ids)")
    record(out, "nova_os_services_reader_403", "GET", f"{nova}/os-services", token=reader,
           who="hatui-reader, project-scoped reader", headers=MICROVERSION)
    record(out, "nova_os_services_system_reader_403", "GET", f"{nova}/os-services", token=sysreader,
           who="hatui-reader, system-scoped reader", headers=MICROVERSION)
    record(out, "neutron_agents_all_alive", "GET", f"{neutron}/v2.0/agents", token=admin,
           who="admin, project-scoped admin")
    record(out, "neutron_agents_reader_empty", "GET", f"{neutron}/v2.0/agents", token=reader,
           who="hatui-reader, project-scoped reader")
    csv_up = http("GET", osl.HAPROXY_STATS_URL)[2].decode()
    (out / "haproxy_stats_all_up.csv").write_text(csv_up)
    print("  haproxy_stats_all_up.csv")

    # --- unauthenticated version documents of every endpoint (direct and VIP)
    targets = [("keystone", 5000, "/"), ("keystone", 5000, "/v3"), ("keystone", 5001, "/"),
               ("keystone_vip", 15000, "/"), ("nova", 8774, "/"), ("nova", 8774, "/v2.1"),
               ("nova", 8775, "/"),
               ("nova_vip", 18774, "/"), ("placement", 8778, "/"), ("placement_vip", 18778, "/"),
               ("glance", 9292, "/"), ("glance", 9292, "/versions"), ("glance_vip", 19292, "/"),
               ("neutron", 9696, "/"), ("neutron_vip", 19696, "/")]
    for svc, port, path in targets:
        tag = "root" if path == "/" else path.strip("/").replace("/", "_")
        record(out, f"versions/{svc}_{port}_{tag}", "GET", f"http://127.0.0.1:{port}{path}")

    # --- faults: one conductor killed, the metadata agent killed, one keystone backend stopped
    lab.kill("nova-conductor@lab-ctl-1")
    lab.kill("neutron-metadata-agent@lab-ctl-0")
    lab.stop("keystone@lab-ctl-1")

    def conductor_down():
        rows = lab.nova_services()
        return any(r["binary"] == "nova-conductor" and r["host"] == "lab-ctl-1" and r["state"] == "down"
                   for r in rows)

    def agent_dead():
        return any(not a["alive"] for a in lab.neutron_agents())

    def keystone_down():
        return any(r["pxname"] == "keystone" and r["svname"] == "lab-ctl-1" and r["status"].startswith("DOWN")
                   for r in lab.haproxy_csv())

    wait(keystone_down, 15, "HAProxy to mark keystone/lab-ctl-1 DOWN")
    csv_down = http("GET", osl.HAPROXY_STATS_URL)[2].decode()
    (out / "haproxy_stats_keystone_backend_down.csv").write_text(csv_down)
    print("  haproxy_stats_keystone_backend_down.csv")
    wait(conductor_down, lab.service_down_time + lab.report_interval + 10, "conductor lab-ctl-1 down")
    record(out, "nova_os_services_conductor_down", "GET", f"{nova}/os-services", token=admin,
           who="admin, project-scoped admin; nova-conductor@lab-ctl-1 SIGKILLed", headers=MICROVERSION)
    wait(agent_dead, lab.agent_down_time + 15, "metadata agent dead")
    record(out, "neutron_agents_one_dead", "GET", f"{neutron}/v2.0/agents", token=admin,
           who="admin, project-scoped admin; neutron-metadata-agent@lab-ctl-0 SIGKILLed")
    print(lab.reset())

    # --- no secrets, no tokens
    bad = []
    for f in out.rglob("*"):
        if f.is_file():
            text = f.read_text(errors="replace")
            bad += [f"{f}: {s[:6]}..." for s in SECRETS | TOKENS if s in text]
    if bad:
        raise SystemExit(f"secret or token found in fixtures: {bad}")
    print(f"fixtures in {out}: no secrets, no tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
