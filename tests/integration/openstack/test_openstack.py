"""hatui against a real OpenStack control plane (Keystone, nova, glance, neutron, placement behind HAProxy)
with real faults: what the operator sees through ``check --json`` and ``watch``, and that recovery clears it.

The lab is one session for the module; each test starts from healthy and the fixture repairs only what the
test broke. Timing figures are measured in bench/openstack.py, not asserted here.
"""
from __future__ import annotations

import time

import pytest

from tests.integration.hatui_proc import Watcher, check_json
from tests.integration.openstack.conftest import LAB_SPOFS, LAB_TIMING, admin_toml
from tests.lab import openstack as os_lab

pytestmark = pytest.mark.lab

# nova/neutron call a service down 3-9 s after its last heartbeat (down time 6 s, heartbeat 2 s, whole-second
# timestamps: lab README); hatui polls every second on top of that.
DOWN_WAIT = os_lab.SERVICE_DOWN_TIME + os_lab.REPORT_INTERVAL + 12
# a restarted nova service heartbeats 5 s after it starts; HAProxy needs 2 checks (1 s apart) to change state
RECOVERY_WAIT = 40


def ids(doc: dict) -> set[str]:
    return {f["id"] for f in doc["findings"]}


def by_id(doc: dict) -> dict[str, dict]:
    return {f["id"]: f for f in doc["findings"]}


def baseline(w: Watcher, timeout: float = 30, steady: float = 3.0, spofs: set[str] = LAB_SPOFS) -> None:
    """Until hatui sees the healthy lab: only the by-construction SPOFs open, for ``steady`` seconds (the
    first polls of a new process log in and meet APIs validating a new token: they may read slow)."""
    deadline = time.monotonic() + timeout
    since = None
    while True:
        now = time.monotonic()
        if w.open_ids() == spofs:
            since = since or now
            if now - since >= steady:
                return
        else:
            since = None
        if now > deadline:
            raise AssertionError(f"not at the healthy baseline after {timeout}s: {sorted(w.open_ids())}")
        time.sleep(0.1)


@pytest.mark.parametrize("cloud", ["hatui-lab-reader", "hatui-lab-system-reader"])
def test_check_with_only_a_clouds_yaml_and_a_reader(lab, os_env, tmp_path, cloud):
    """The shortest config: the cloud's name. A reader gets the catalog and every endpoint is probed, and
    the screen says exactly what it may not see, instead of an empty healthy table."""
    config = tmp_path / "hatui.toml"
    config.write_text(f'[openstack]\ncloud = "{cloud}"\n')
    rc, doc = check_json(config, os_env)
    found = by_id(doc)
    assert rc == 3 and doc["status"] == "unknown"  # we cannot see the services: not known, not broken
    assert set(found) == {"services.not_allowed:nova", "services.not_allowed:neutron"}
    assert found["services.not_allowed:nova"]["summary"] == (
        "nova: not allowed: needs the policy os_compute_api:os-services:list: role admin, or a reader with the "
        "one-line policy override (README, OpenStack)")
    assert found["services.not_allowed:neutron"]["summary"].startswith(
        "neutron: not allowed: neutron returns an empty agent list to this account (roles: reader)")


def test_healthy_lab_as_admin(lab, os_env, admin_config):
    rc, doc = check_json(admin_config, os_env)
    assert ids(doc) == LAB_SPOFS and rc == 1
    assert all(f["kind"] == "spof" and f["area"] in ("endpoints", "redundancy") for f in doc["findings"])


def test_conductor_killed_then_both_then_recovery(lab, admin_config, watch, os_env):
    w = watch(admin_config)
    baseline(w)
    t0 = time.monotonic()
    lab.kill("nova-conductor@lab-ctl-1")
    _, ev = w.wait_opened("services.down:nova-conductor@lab-ctl-1", DOWN_WAIT, after=t0)
    assert ev["finding"]["summary"].endswith("1 of 2 nova-conductor up")
    _, ev = w.wait_opened("services.spof:nova-conductor@lab-ctl-0", DOWN_WAIT, after=t0)
    assert ev["finding"]["kind"] == "spof"
    assert ev["finding"]["summary"] == ("nova-conductor@lab-ctl-0: only lab-ctl-0 is up (lab-ctl-1 down): its loss "
                                        "stops nova-conductor")
    t1 = time.monotonic()
    lab.kill("nova-conductor@lab-ctl-0")
    _, ev = w.wait_opened("services.none_up:nova-conductor", DOWN_WAIT, after=t1)
    assert ev["finding"]["severity"] == "critical"
    w.wait_cleared("services.spof:nova-conductor@lab-ctl-0", 5, after=t1)
    rc, doc = check_json(admin_config, os_env)
    assert rc == 2 and "services.none_up:nova-conductor" in ids(doc)
    t2 = time.monotonic()
    lab.start("nova-conductor@lab-ctl-0")
    lab.start("nova-conductor@lab-ctl-1")
    for fid in ("services.none_up:nova-conductor", "services.down:nova-conductor@lab-ctl-0",
                "services.down:nova-conductor@lab-ctl-1"):
        w.wait_cleared(fid, RECOVERY_WAIT, after=t2)
    baseline(w, RECOVERY_WAIT)


def test_frozen_conductor_is_late_before_it_is_down(lab, tmp_path, watch):
    # "late" lasts about one second before nova's own verdict (heartbeat age 4 s to about 5 s, updated_at
    # kept to the second): polled every 0.5 s so that a busy machine still lands in that window
    config = tmp_path / "hatui.toml"
    config.write_text(admin_toml(interval=0.5))
    w = watch(config)
    baseline(w)
    t0 = time.monotonic()
    lab.freeze("nova-conductor@lab-ctl-1")
    try:
        t_late, _ = w.wait_opened("services.heartbeat_late:nova-conductor@lab-ctl-1", DOWN_WAIT, after=t0)
        t_down, _ = w.wait_opened("services.down:nova-conductor@lab-ctl-1", DOWN_WAIT, after=t0)
        assert t_late < t_down  # the warning comes before nova's own verdict
        w.wait_cleared("services.heartbeat_late:nova-conductor@lab-ctl-1", 5, after=t_late)
        w.wait_opened("services.spof:nova-conductor@lab-ctl-0", 5, after=t0)
    finally:
        lab.thaw("nova-conductor@lab-ctl-1")
    w.wait_cleared("services.down:nova-conductor@lab-ctl-1", RECOVERY_WAIT)
    baseline(w, RECOVERY_WAIT)


def test_metadata_agent_killed(lab, admin_config, watch):
    w = watch(admin_config)
    baseline(w)
    t0 = time.monotonic()
    lab.kill("neutron-metadata-agent@lab-ctl-0")
    w.wait_opened("services.down:neutron-metadata-agent@lab-ctl-0", DOWN_WAIT, after=t0)
    _, ev = w.wait_opened("services.none_up:neutron-metadata-agent", DOWN_WAIT, after=t0)
    assert ev["finding"]["summary"] == "neutron-metadata-agent: none of 1 up (lab-ctl-0 down)"
    t1 = time.monotonic()
    lab.start("neutron-metadata-agent@lab-ctl-0")
    w.wait_cleared("services.none_up:neutron-metadata-agent", RECOVERY_WAIT, after=t1)
    baseline(w, RECOVERY_WAIT)


def test_keystone_down_is_one_finding_and_endpoints_are_still_probed(lab, admin_config, watch, os_env):
    w = watch(admin_config)
    baseline(w)
    rc, doc = check_json(admin_config, os_env)  # leaves the catalog in the cache for the check below
    t0 = time.monotonic()
    # both at once (SIGKILL, microseconds apart): a graceful stop of one, then the other, would first show
    # the identity URL of the stopped one down while Keystone still answers through the VIP
    lab.kill("keystone@lab-ctl-0")
    lab.kill("keystone@lab-ctl-1")
    _, ev = w.wait_opened("keystone.unreachable:lab", 15, after=t0)
    # HAProxy first retries the dead servers (the client waits: timeout), then answers 503 once its checks
    # mark them DOWN: either way the one finding names Keystone and the catalog still probed
    # (under load HAProxy can also answer 502 for a request it had sent to a server just killed: hatui then
    # words it "lab: HTTP error: Keystone ...")
    summary = ev["finding"]["summary"]
    assert summary.startswith("lab: ") and "Keystone http://127.0.0.1:15000/v3: " in summary, summary
    assert "; endpoints still probed from the catalog of " in summary, summary
    w.wait_opened("haproxy.backend_down:lb/keystone", 15, after=t0)
    # the kept catalog is still probed: an API that dies now is seen
    t1 = time.monotonic()
    lab.stop("nova-api@lab-ctl-0")
    _, ev = w.wait_opened("endpoint.down:compute", 15, after=t1)
    # a probe in flight during the graceful stop may end otherwise (reset, timeout); the check below, run
    # once stop() returned, says refused
    assert ev["finding"]["summary"].startswith("compute (nova) public+internal+admin http://127.0.0.1:8774/v2.1: ")
    opened = {e["finding"]["id"] for t, e in w.events if t >= t0 and e["event"] == "opened"}
    # Keystone's own URLs (the identity catalog URL, the extra URL on the auth URL) fold into its one finding
    assert not opened & {"endpoint.down:identity", "endpoint.down:keystone-vip"}, opened
    assert not any(i.startswith(("endpoint.down:image", "endpoint.down:network", "endpoint.down:placement"))
                   for i in opened)
    # a fresh `check` (no Keystone, no catalog of its own) probes the cached catalog
    rc, doc = check_json(admin_config, os_env)
    assert rc == 2 and {"keystone.unreachable:lab", "endpoint.down:compute"} <= ids(doc)
    compute = next(f for f in doc["findings"] if f["id"] == "endpoint.down:compute")
    assert compute["summary"] == ("compute (nova) public+internal+admin http://127.0.0.1:8774/v2.1: "
                                  "connection refused")
    assert not ids(doc) & {"endpoint.down:identity", "endpoint.down:keystone-vip"}
    t2 = time.monotonic()
    lab.start("keystone@lab-ctl-0")
    lab.start("keystone@lab-ctl-1")
    lab.start("nova-api@lab-ctl-0")
    for fid in ("keystone.unreachable:lab", "endpoint.down:compute", "haproxy.backend_down:lb/keystone"):
        w.wait_cleared(fid, RECOVERY_WAIT, after=t2)
    baseline(w, RECOVERY_WAIT)


def test_api_backend_stopped_behind_haproxy(lab, admin_config, watch, os_env):
    w = watch(admin_config)
    baseline(w)
    t0 = time.monotonic()
    lab.stop("nova-api@lab-ctl-1")
    _, ev = w.wait_opened("haproxy.server_down:lb/nova_api/lab-ctl-1", 15, after=t0)
    assert "L4CON (connection refused or reset)" in ev["finding"]["summary"]
    _, ev = w.wait_opened("haproxy.spof:lb/nova_api/lab-ctl-0", 15, after=t0)
    assert ev["finding"]["summary"] == ("lb/nova_api/lab-ctl-0: the only server serving (lab-ctl-1 DOWN): "
                                        "its loss takes nova_api down")
    # Until HAProxy's checks mark it DOWN (2 checks, 1 s apart), the VIP sends some requests to the dead
    # backend (503): the VIP's probe may fail then. Once it is marked, the VIP serves from lab-ctl-0.
    if "endpoint.down:nova-vip" in w.open_ids():
        w.wait_cleared("endpoint.down:nova-vip", 15, after=t0)
    rc, doc = check_json(admin_config, os_env)
    assert {"haproxy.server_down:lb/nova_api/lab-ctl-1", "haproxy.spof:lb/nova_api/lab-ctl-0"} <= ids(doc)
    assert not any(i.startswith("endpoint.") for i in ids(doc))  # the catalog's nova (lab-ctl-0) and the VIP serve
    t1 = time.monotonic()
    lab.start("nova-api@lab-ctl-1")
    w.wait_cleared("haproxy.spof:lb/nova_api/lab-ctl-0", RECOVERY_WAIT, after=t1)
    baseline(w, RECOVERY_WAIT)


def test_frozen_api_backend_hangs_alone(lab, admin_config, watch):
    """keystone@lab-ctl-1 SIGSTOPped: its URL times out on its own; HAProxy marks it DOWN; no other
    endpoint and no round is delayed into a finding."""
    w = watch(admin_config)
    baseline(w)
    t0 = time.monotonic()
    lab.freeze("keystone@lab-ctl-1")
    try:
        _, ev = w.wait_opened("endpoint.down:keystone-2", 15, after=t0)
        assert ev["finding"]["summary"] == "keystone-2 http://127.0.0.1:5001/: connected, no answer within 2 s"
        w.wait_opened("haproxy.server_down:lb/keystone/lab-ctl-1", 20, after=t0)
        w.wait_opened("haproxy.spof:lb/keystone/lab-ctl-0", 20, after=t0)
        time.sleep(3)
        opened = {e["finding"]["id"] for t, e in w.events if t >= t0 and e["event"] == "opened"}
        # Until HAProxy marks it DOWN (~5 s: 2 checks with a 2 s check timeout), round-robin sends every
        # other request into the hang: the keystone target (auth_url is the VIP) may time out meanwhile.
        # That is what clients see too, the VIP's own probe included. No other endpoint, and no round, is
        # delayed into a finding.
        expected = {"endpoint.down:keystone-2", "haproxy.server_down:lb/keystone/lab-ctl-1",
                    "haproxy.spof:lb/keystone/lab-ctl-0", "keystone.unreachable:lab", "keystone.slow:lab",
                    "endpoint.down:keystone-vip"}
        assert opened <= expected, opened - expected
    finally:
        lab.thaw("keystone@lab-ctl-1")
    for fid in ("endpoint.down:keystone-2", "haproxy.spof:lb/keystone/lab-ctl-0"):
        w.wait_cleared(fid, RECOVERY_WAIT)
    baseline(w, RECOVERY_WAIT)


def test_endpoint_that_hangs(lab, admin_config, watch, os_env):
    """glance's port answers TCP and never speaks (a hung listener replaces glance-api)."""
    w = watch(admin_config)
    baseline(w)
    t0 = time.monotonic()
    lab.stop("glance-api@lab-ctl-0")
    lab.hang_endpoint(9292)
    w.wait_opened("endpoint.down:image", 15, after=t0)  # refused first, for the moment between the two
    w.wait_opened("haproxy.backend_down:lb/glance_api", 20, after=t0)
    t1 = time.monotonic()
    rc, doc = check_json(admin_config, os_env, timeout=30)
    assert time.monotonic() - t1 < 15  # the hang costs the round one timeout, not more
    assert by_id(doc)["endpoint.down:image"]["summary"] == (
        "image (glance) public+internal+admin http://127.0.0.1:9292: connected, no answer within 2 s")
    assert not any(i.startswith("endpoint.down:") for i in ids(doc) - {"endpoint.down:image"})
    assert not any(e["finding"]["id"].startswith("endpoint.slow") for _, e in w.events)
    t1 = time.monotonic()
    lab.release_endpoint(9292)
    lab.start("glance-api@lab-ctl-0")
    w.wait_cleared("endpoint.down:image", RECOVERY_WAIT, after=t1)
    baseline(w, RECOVERY_WAIT)


def test_server_put_in_maintenance_seen_over_http_and_the_stats_socket(lab, admin_config, watch):
    config = admin_config.parent / "with-socket.toml"
    config.write_text(admin_config.read_text() + f'[[openstack.haproxy]]\nname = "lb-sock"\n'
                      f'socket = "{os_lab.HAPROXY_SOCKET}"\nbackends = ["nova_api"]\n')
    w = watch(config)
    # its stats socket is a second load balancer as far as hatui can tell: a lone one, like lb
    spofs = LAB_SPOFS | {"haproxy.spof:lb-sock"}
    baseline(w, spofs=spofs)
    t0 = time.monotonic()
    lab.haproxy_cmd("disable server nova_api/lab-ctl-1")
    for lb in ("lb", "lb-sock"):
        _, ev = w.wait_opened(f"haproxy.server_maint:{lb}/nova_api/lab-ctl-1", 10, after=t0)
        assert ev["finding"]["summary"] == f"{lb}/nova_api/lab-ctl-1: MAINT: taken out of service by an operator"
        w.wait_opened(f"haproxy.spof:{lb}/nova_api/lab-ctl-0", 10, after=t0)
    t1 = time.monotonic()
    lab.haproxy_cmd("enable server nova_api/lab-ctl-1")
    for lb in ("lb", "lb-sock"):
        w.wait_cleared(f"haproxy.server_maint:{lb}/nova_api/lab-ctl-1", 10, after=t1)
    baseline(w, RECOVERY_WAIT, spofs=spofs)


def _admin_session(lab):
    """The harness's own admin session (hatui only reads), for the faults an operator makes through the API."""
    import openstack.config

    cloud = openstack.config.OpenStackConfig(config_files=[str(lab.clouds_yaml())]).get_one("hatui-lab-admin")
    return cloud.get_session()


def test_agent_set_admin_down(lab, admin_config, watch):
    """An operator sets the metadata agent admin-down: named, and not counted as lost (it still runs).
    (nova refuses to disable or force down anything but nova-compute, which the lab does not run: those
    two are tested on captures, tests/unit/test_openstack_rules.py.)"""
    session = _admin_session(lab)
    flt = {"service_type": "network", "interface": "public"}
    agent = next(a for a in session.get("/v2.0/agents", endpoint_filter=flt).json()["agents"]
                 if a["binary"] == "neutron-metadata-agent")
    w = watch(admin_config)
    baseline(w)
    t0 = time.monotonic()
    try:
        session.put(f"/v2.0/agents/{agent['id']}", json={"agent": {"admin_state_up": False}}, endpoint_filter=flt)
        _, ev = w.wait_opened("services.disabled:neutron-metadata-agent@lab-ctl-0", 15, after=t0)
        assert ev["finding"]["summary"] == "neutron-metadata-agent@lab-ctl-0: administratively down (no reason given)"
        time.sleep(3)
        assert "services.none_up:neutron-metadata-agent" not in w.open_ids()
    finally:
        session.put(f"/v2.0/agents/{agent['id']}", json={"agent": {"admin_state_up": True}}, endpoint_filter=flt)
    w.wait_cleared("services.disabled:neutron-metadata-agent@lab-ctl-0", RECOVERY_WAIT)
    baseline(w, RECOVERY_WAIT)


def test_readme_policy_override_lets_a_reader_see_the_services(lab, os_env, tmp_path):
    """The README's least-privilege recipe: a project reader plus one policy line per service."""
    config = tmp_path / "hatui.toml"
    config.write_text(f'[openstack]\ncloud = "hatui-lab-reader"\n{LAB_TIMING}')
    lab.set_policy("nova", {"os_compute_api:os-services:list": "role:reader"})
    lab.set_policy("neutron", {"get_agent": "role:reader"})
    deadline = time.monotonic() + 30  # the services read a changed policy file on their next request
    while True:
        rc, doc = check_json(config, os_env)
        if not ids(doc) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert (rc, ids(doc)) == (0, set()), doc  # the fixture's reset() removes the overrides
