"""The OpenStack lab is real: real keystone/nova/neutron/haproxy answer, and faults are seen by the APIs.

    .venv/bin/python -m pytest -m lab tests/lab/test_openstack_lab.py
"""
from __future__ import annotations

import socket
import time

import openstack.config
import pytest

from tests.lab.common import wait_until
from tests.lab.openstack import NO_PROXY, Lab, http

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab():
    with pytest.MonkeyPatch.context() as mp:  # keystoneauth/requests must not send lab traffic to a proxy
        for k, v in NO_PROXY.items():
            mp.setenv(k, v)
        lab = Lab()
        lab.up()
        yield lab
        lab.reset()


def _cloud(lab: Lab, name: str):
    return openstack.config.OpenStackConfig(config_files=[str(lab.clouds_yaml())]).get_one(name)


def _compute_get(cloud, path: str):
    sess = cloud.get_session()
    return sess.get(path, endpoint_filter={"service_type": "compute", "interface": "public"},
                    headers={"OpenStack-API-Version": "compute 2.53"}, raise_exc=False)


def _conductor(rows: list[dict], host: str) -> dict:
    return next(r for r in rows if r["binary"] == "nova-conductor" and r["host"] == host)


def test_reader_gets_the_catalog_but_not_nova_services(lab):
    reader = _cloud(lab, "hatui-lab-reader")
    sess = reader.get_session()
    access = reader.get_auth().get_access(sess)
    assert access.role_names == ["reader"]
    types = {s["type"] for s in access.service_catalog.catalog}
    assert types == {"identity", "compute", "placement", "image", "network"}
    url = access.service_catalog.url_for(service_type="compute", interface="public", region_name="RegionOne")
    assert url == "http://127.0.0.1:8774/v2.1"
    assert _compute_get(reader, "/os-services").status_code == 403
    agents = sess.get("/v2.0/agents", endpoint_filter={"service_type": "network"}, raise_exc=False)
    assert agents.status_code == 200 and agents.json()["agents"] == []  # filtered, not an error


def test_system_reader_token(lab):
    sysreader = _cloud(lab, "hatui-lab-system-reader")
    access = sysreader.get_auth().get_access(sysreader.get_session())
    assert access.system_scoped and access.role_names == ["reader"]


def test_admin_sees_two_conductors_up(lab):
    resp = _compute_get(_cloud(lab, "hatui-lab-admin"), "/os-services")
    assert resp.status_code == 200
    rows = resp.json()["services"]
    for binary in ("nova-conductor", "nova-scheduler"):
        mine = sorted((r["host"], r["state"], r["status"]) for r in rows if r["binary"] == binary)
        assert mine == [("lab-ctl-0", "up", "enabled"), ("lab-ctl-1", "up", "enabled")]


def test_killed_conductor_goes_down_in_nova(lab):
    admin = _cloud(lab, "hatui-lab-admin")
    pids = lab.kill("nova-conductor@lab-ctl-1")
    assert pids
    # SIGKILL is delivered at once but the process may take a moment to exit under load (CI dry run)
    wait_until(lambda: lab.pid("nova-conductor@lab-ctl-1") is None, 10, what="the conductor to exit")
    t0 = time.monotonic()
    limit = lab.service_down_time + lab.report_interval + 3
    while True:
        rows = _compute_get(admin, "/os-services").json()["services"]
        if _conductor(rows, "lab-ctl-1")["state"] == "down":
            break
        assert time.monotonic() - t0 < limit, "conductor still 'up' in os-services"
        time.sleep(0.2)
    assert _conductor(rows, "lab-ctl-0")["state"] == "up"
    lab.start("nova-conductor@lab-ctl-1")  # waits for a fresh heartbeat
    rows = _compute_get(admin, "/os-services").json()["services"]
    assert _conductor(rows, "lab-ctl-1")["state"] == "up"


def test_frozen_scheduler_goes_down_and_comes_back_on_thaw(lab):
    lab.freeze("nova-scheduler@lab-ctl-0")
    try:
        t0 = time.monotonic()
        while next(r for r in lab.nova_services()
                   if r["binary"] == "nova-scheduler" and r["host"] == "lab-ctl-0")["state"] != "down":
            assert time.monotonic() - t0 < lab.service_down_time + lab.report_interval + 3
            time.sleep(0.2)
        assert {s["name"]: s["state"] for s in lab.services()}["nova-scheduler@lab-ctl-0"] == "frozen"
    finally:
        lab.thaw("nova-scheduler@lab-ctl-0")
    t0 = time.monotonic()
    while next(r for r in lab.nova_services()
               if r["binary"] == "nova-scheduler" and r["host"] == "lab-ctl-0")["state"] != "up":
        assert time.monotonic() - t0 < 5, "an overdue heartbeat fires at once after SIGCONT"
        time.sleep(0.2)


def test_policy_override_lets_the_reader_list_services(lab):
    reader = _cloud(lab, "hatui-lab-reader")
    lab.set_policy("nova", {"os_compute_api:os-services:list": "role:reader"})
    try:
        resp = _compute_get(reader, "/os-services")
        assert resp.status_code == 200 and len(resp.json()["services"]) >= 4
    finally:
        lab.reset()
    assert _compute_get(reader, "/os-services").status_code == 403


def test_haproxy_marks_a_stopped_keystone_down(lab):
    def status(server: str) -> str:
        rows = lab.haproxy_csv()
        return next(r["status"] for r in rows if r["pxname"] == "keystone" and r["svname"] == server)

    assert status("lab-ctl-1") == "UP"
    lab.stop("keystone@lab-ctl-1")
    try:
        # "UP 1/2" is HAProxy counting failed checks (fall 2, inter 1 s): wait for the verdict itself
        wait_until(lambda: status("lab-ctl-1").startswith("DOWN"), 15, what="HAProxy to mark it DOWN")
        assert status("lab-ctl-0") == "UP"
        code, _, _ = http("GET", "http://127.0.0.1:15000/v3", timeout=5)  # the VIP still serves
        assert code == 200
        assert "keystone" in lab.haproxy_cmd("show stat")  # the admin socket answers too
    finally:
        lab.start("keystone@lab-ctl-1")


def test_hang_endpoint_accepts_and_never_answers(lab):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lab.hang_endpoint(port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            s.settimeout(1.0)
            with pytest.raises(TimeoutError):
                s.recv(1)
    finally:
        lab.release_endpoint(port)


def test_reset_is_quick_when_healthy(lab):
    lab.reset()
    t0 = time.monotonic()
    lab.reset()
    assert time.monotonic() - t0 < 2.0
