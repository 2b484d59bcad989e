"""What a new client sees on the real OpenStack lab (issue 13, item 5): hatui keeps its Keystone token between
polls, and nova and neutron are read with it; every ``fresh_every`` seconds it logs in anew, and ``check``
(always a new login) must name the same finding as ``watch``.

What the lab showed (Keystone from the lab's PyPI release, sqlite, fernet tokens):

- A password changed through Keystone's API (``PATCH /v3/users/{id}``) revokes the user's tokens
  (keystone.identity.core: a revocation event for the user). nova and neutron go on accepting the revoked
  token from keystonemiddleware's token cache, but Keystone no longer validates it: the account is locked
  out, and hatui says so plainly, whichever of its polls meets the change first (the new login, or the
  kept token's validation).
- A password changed behind Keystone (as in a directory, LDAP: here written into its database) records no
  revocation: the kept token goes on validating and reading nova and neutron, and only a new login is
  refused: the case the kept token hides.

The monitoring account is one of this module's own (admin on project admin, as the lab's admin config
reads the services), so that changing its password touches no account the lab or other tests use.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.hatui_proc import check_json, until
from tests.integration.openstack.conftest import LAB_TIMING
from tests.lab import openstack as os_lab
from tests.lab.common import LabError

pytestmark = [pytest.mark.lab, pytest.mark.timeout(240)]

FRESH_EVERY = 3  # s; with the 1 s interval a refused new login is seen within about 4 s
CLOUD = "hatui-fresh"
USER, PASSWORD, OTHER = "hatui-fresh-monitor", "hatui-fresh-monitor-pw", "Other-Pw-5678"
NOVA_LATE = "nova-scheduler@lab-ctl-1"  # frozen: nova says its heartbeat is late, then down (os-services)
AGENT = "neutron-metadata-agent@lab-ctl-0"  # set admin-down: neutron says so (/v2.0/agents)


def _keystone(lab: os_lab.Lab, method: str, path: str, body: object = None, ok=(200, 201, 204)) -> dict:
    """Keystone's API as the lab's administrator (whose password no test changes)."""
    status, _, data = os_lab.http(method, f"{lab.keystone_url}/v3{path}", body,
                                  {"X-Auth-Token": lab.admin.get_token()}, timeout=15)
    if status not in ok:
        raise LabError(f"keystone {method} {path} -> {status}: {data[:300]!r}")
    return json.loads(data) if data else {}


@dataclass
class Monitor:
    """hatui's account in this module: its id, and a clouds.yaml naming it (cloud ``CLOUD``)."""

    lab: os_lab.Lab
    user_id: str
    clouds_yaml: Path

    def set_password(self, password: str) -> None:
        _keystone(self.lab, "PATCH", f"/users/{self.user_id}", {"user": {"password": password}})

    def login(self, password: str) -> int:
        """What Keystone answers a new login with ``password`` (201: a token)."""
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": USER, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": os_lab.ADMIN_PROJECT, "domain": {"id": "default"}}}}}
        return os_lab.http("POST", f"{self.lab.keystone_url}/v3/auth/tokens", body, timeout=10)[0]


@pytest.fixture(scope="module")
def monitor(openstack_lab, tmp_path_factory) -> Iterator[Monitor]:
    lab = openstack_lab
    found = _keystone(lab, "GET", f"/users?name={USER}&domain_id=default")["users"]
    user = found[0] if found else _keystone(lab, "POST", "/users", {"user": {
        "name": USER, "password": PASSWORD, "domain_id": "default"}})["user"]
    project = _keystone(lab, "GET", f"/projects?name={os_lab.ADMIN_PROJECT}")["projects"][0]["id"]
    role = next(r["id"] for r in _keystone(lab, "GET", "/roles?name=admin")["roles"])
    _keystone(lab, "PUT", f"/projects/{project}/users/{user['id']}/roles/{role}")
    clouds = tmp_path_factory.mktemp("clouds") / "clouds.yaml"
    clouds.write_text(
        f"clouds:\n  {CLOUD}:\n    auth:\n      auth_url: {lab.auth_url}\n      username: {USER}\n"
        f"      password: {PASSWORD}\n      user_domain_name: Default\n      project_name: {os_lab.ADMIN_PROJECT}\n"
        f"      project_domain_name: Default\n    region_name: {os_lab.REGION}\n    interface: public\n"
        f"    identity_api_version: 3\n")
    m = Monitor(lab, user["id"], clouds)
    m.set_password(PASSWORD)  # (a user left by an interrupted run)
    yield m
    _keystone(lab, "DELETE", f"/users/{user['id']}", ok=(204, 404))


@pytest.fixture
def env(os_env, monitor) -> dict[str, str]:
    """The lab's env (no stray OS_*, a private catalog cache) with this module's clouds.yaml."""
    return dict(os_env, OS_CLIENT_CONFIG_FILE=str(monitor.clouds_yaml))


@pytest.fixture
def config(tmp_path) -> Path:
    p = tmp_path / "fresh.toml"
    p.write_text(f'[openstack]\ncloud = "{CLOUD}"\nname = "lab"\ninterval = 1\ntimeout = 2\n'
                 f"fresh_every = {FRESH_EVERY}\n{LAB_TIMING}")
    return p


def _logged_in(env: dict[str, str]) -> bool:
    """hatui watch has logged in and read the catalog: it keeps it in its cache (the test's own folder)."""
    return (Path(env["XDG_CACHE_HOME"]) / "hatui" / "catalog-lab.json").exists()


def _agent_admin_state(lab: os_lab.Lab, up: bool) -> None:
    """The metadata agent set admin-down (or up) by the lab's administrator, as an operator would."""
    import openstack.config

    session = openstack.config.OpenStackConfig(config_files=[str(lab.clouds_yaml())]).get_one(
        "hatui-lab-admin").get_session()
    flt = {"service_type": "network", "interface": "public"}
    agent = next(a for a in session.get("/v2.0/agents", endpoint_filter=flt).json()["agents"]
                 if a["binary"] == AGENT.split("@")[0])
    session.put(f"/v2.0/agents/{agent['id']}", json={"agent": {"admin_state_up": up}}, endpoint_filter=flt)


def test_a_password_changed_behind_keystone_fails_the_new_login_while_the_kept_token_reads_nova_and_neutron(
        lab, monitor, config, watch, env):
    w = watch(config)
    until(lambda: _logged_in(env), 30, "hatui watch logged in")
    w.wait_quiet(30)  # the account reads everything
    t0 = time.monotonic()
    lab.set_password_outside_keystone(USER, OTHER)
    try:
        until(lambda: monitor.login(PASSWORD) == 401, 10, "the old password refused")
        _, ev = w.wait_opened("keystone.unreachable:lab", FRESH_EVERY + 1 + 10, after=t0)
        summary = ev["finding"]["summary"]
        assert summary.startswith("lab: a new client cannot get in: Keystone http://127.0.0.1:15000/v3: "
                                  "credentials refused by Keystone (401); endpoints still probed from the "
                                  "catalog of "), summary
        assert "; hatui's kept connection still worked " in summary, summary
        assert ev["finding"]["severity"] == "critical"
        # the kept token still reads nova and neutron: changes only they can tell are seen after the login
        # failed (a scheduler frozen: its heartbeat late; an agent set admin-down)
        t1 = time.monotonic()
        lab.freeze(NOVA_LATE)
        _agent_admin_state(lab, up=False)
        w.wait_opened(f"services.disabled:{AGENT}", 15, after=t1)
        w.wait(lambda e: e["event"] == "opened" and e["finding"]["id"] in
               {f"services.heartbeat_late:{NOVA_LATE}", f"services.down:{NOVA_LATE}"}, 20, after=t1)
        assert "keystone.unreachable:lab" in w.open_ids()  # (no new login got in meanwhile)
        assert not any(e["finding"]["id"] in {"services.unreachable:nova", "services.unreachable:neutron"}
                       for t, e in w.events if t >= t0), w.history("services.unreachable:nova",
                                                                   "services.unreachable:neutron")
        # `check` logs in anew: the same finding, in the words of a client that never had a token
        rc, doc = check_json(config, env)
        assert rc == 2
        f = next(f for f in doc["findings"] if f["id"] == "keystone.unreachable:lab")
        assert f["summary"].startswith("lab: Keystone http://127.0.0.1:15000/v3: credentials refused by Keystone "
                                       "(401); endpoints still probed from the cached catalog of "), f
        assert PASSWORD not in str(doc) and PASSWORD not in str(w.events)
    finally:
        t2 = time.monotonic()
        try:
            lab.set_password_outside_keystone(USER, PASSWORD)
            until(lambda: monitor.login(PASSWORD) == 201, 10, "the monitor password restored")
        finally:
            lab.thaw(NOVA_LATE)
            _agent_admin_state(lab, up=True)
    w.wait_cleared("keystone.unreachable:lab", FRESH_EVERY + 10, after=t2)
    w.wait_quiet(40)


KEPT_REVOKED = "lab: Keystone http://127.0.0.1:15000/v3: credentials refused by Keystone (401); endpoints still probed"
NO_TOKEN = "no token from Keystone (credentials refused by Keystone (401))"


def test_a_password_changed_through_keystone_revokes_the_kept_token_and_check_agrees(lab, monitor, config, watch,
                                                                                     env):
    w = watch(config)
    until(lambda: _logged_in(env), 30, "hatui watch logged in")
    w.wait_quiet(30)  # the account reads everything
    t0 = time.monotonic()
    monitor.set_password(OTHER)
    try:
        until(lambda: monitor.login(PASSWORD) == 401, 10, "the old password refused")
        _, ev = w.wait_opened("keystone.unreachable:lab", FRESH_EVERY + 1 + 10, after=t0)
        # whether the new login or the kept token's validation met it first: the kept token is revoked too,
        # so it is not a new client turned away while the kept one works
        summary = ev["finding"]["summary"]
        assert summary.startswith(KEPT_REVOKED + " from the catalog of "), summary
        assert ev["finding"]["severity"] == "critical"
        # the services are not read with the revoked token (nova and neutron would still take it: cached)
        for which in ("nova", "neutron"):
            _, ev = w.wait_opened(f"services.unreachable:{which}", 10, after=t0)
            assert ev["finding"]["summary"] == f"{which}: {NO_TOKEN}"
        rc, doc = check_json(config, env)
        assert rc == 2
        found = {f["id"]: f["summary"] for f in doc["findings"]}
        assert found["keystone.unreachable:lab"].startswith(KEPT_REVOKED + " from the cached catalog of "), found
        assert (found["services.unreachable:nova"], found["services.unreachable:neutron"]) == (
            f"nova: {NO_TOKEN}", f"neutron: {NO_TOKEN}")
        assert PASSWORD not in str(doc) and PASSWORD not in str(w.events)
    finally:
        t1 = time.monotonic()
        monitor.set_password(PASSWORD)
        until(lambda: monitor.login(PASSWORD) == 201, 10, "the monitor password restored")
    for fid in ("keystone.unreachable:lab", "services.unreachable:nova", "services.unreachable:neutron"):
        w.wait_cleared(fid, FRESH_EVERY + 10, after=t1)
    w.wait_quiet(40)
