"""``hatui init`` against the lab cloud of hosts: the config it writes from what the cloud says (the catalog
through the lab's clouds.yaml, Galera from one controller, RabbitMQ from one management API, HAProxy's
stats) loads, names what runs where as the operator's own config does, and, with the lab's password
variables set, `hatui check` finds no failure on it.

What remains are the lab's built-in SPOFs (tests/lab/cloud.py: KNOWN_SPOFS) that init can know: the lone
HAProxy, its single-server backends, ctl-1 (HAProxy, the metadata agent) and cmp-1 (the only nova-compute).
Power feeds, racks and switches are the operator's to write (commented blanks), so the SPOFs of pdu-a, r1
and sw-1 are not found: exactly those.
"""
from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from hatui.config import parse
from tests.integration.hatui_proc import check_json
from tests.lab import cloud as cloud_lab
from tests.lab import galera as galera_lab
from tests.lab import rabbit as rabbit_lab

pytestmark = [pytest.mark.lab, pytest.mark.cloud]

DOMAINS = {"redundancy.spof:pdu-a", "redundancy.spof:r1", "redundancy.spof:sw-1"}  # init cannot know them


def _init(env, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "hatui", "init", *args], capture_output=True, text=True,
                          timeout=120, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_init_writes_a_config_that_checks_clean(lab, env, tmp_path):
    os_lab = lab.openstack
    ctl1 = cloud_lab.HOSTS["ctl-1"].address
    out = tmp_path / "hatui.toml"
    proc = _init(env, "--cloud", f"{os_lab.cloud_prefix}-reader",
                 "--db-host", ctl1, "--db-user", galera_lab.MONITOR_USER, "--db-password-env", cloud_lab.GALERA_PW_ENV,
                 "--mq-url", f"http://{ctl1}:{cloud_lab.MGMT_PORT}", "--mq-user", rabbit_lab.MONITOR_USER,
                 "--mq-password-env", cloud_lab.RABBIT_PW_ENV, "--haproxy-url", os_lab.haproxy_stats_url,
                 "-o", str(out))
    assert proc.returncode == 0, proc.stderr  # everything asked was read
    text = out.read_text()
    for secret in (galera_lab.MONITOR_PASSWORD, rabbit_lab.MONITOR_PASSWORD, cloud_lab.BMC_PASSWORD):
        assert secret not in text and secret not in proc.stderr
    doc = tomllib.loads(text)
    parse(doc, str(out), resolve_secrets=False)

    # every member from one node's answer, named after the host it runs on, as the operator's config names them
    want = {h.name: h.address for h in cloud_lab.CONTROLLERS}
    assert {n["name"]: n["host"] for n in doc["galera"]["nodes"]} == want
    assert {n["name"]: n["host"] for n in doc["rabbitmq"]["nodes"]} == want
    assert {n["erlang_node"] for n in doc["rabbitmq"]["nodes"]} == {f"rabbit@{h}" for h in want}
    hosts = {h["name"]: h for h in doc["hosts"]["host"]}
    assert set(hosts) == set(cloud_lab.HOSTS)  # ctl-1..3 and cmp-1 (nova-compute's host in os-services)
    assert {n: h["addresses"] for n, h in hosts.items() if "addresses" in h} == {n: [a] for n, a in want.items()}
    assert not {"bmc", "power_feed", "rack", "switch", "ports"} & {k for h in hosts.values() for k in h}
    for blank in ("# bmc = {", '# power_feed = ""', '# rack = ""', '# switch = ""'):
        assert text.count(blank) == len(hosts), blank
    assert doc["openstack"]["haproxy"] == [{"name": "lb", "url": os_lab.haproxy_stats_url,
                                            "addresses": [cloud_lab.VIP]}]  # the catalog's URLs: the VIP

    # with the passwords the lab's accounts use (the same variables the file names)
    rc, result = check_json(out, env)
    failures = [f for f in result["findings"] if f["kind"] != "spof"]
    assert not failures and result["status"] != "unknown", result
    assert {f["id"] for f in result["findings"]} == cloud_lab.KNOWN_SPOFS - DOMAINS, result
    assert rc == 1, result  # WARNING: SPOFs only


def test_init_refuses_to_overwrite_and_prints_with_dash(lab, env, tmp_path):
    out = tmp_path / "hatui.toml"
    out.write_text("# the operator's own\n")
    args = ("--cloud", f"{cloud_lab.OpenStackOnHosts.cloud_prefix}-reader", "--timeout", "3")
    proc = _init(env, *args, "-o", str(out))
    assert proc.returncode == 2 and "exists" in proc.stderr and out.read_text() == "# the operator's own\n"
    proc = _init(env, *args, "-o", "-")
    assert proc.returncode == 0, proc.stderr
    doc = tomllib.loads(proc.stdout)
    assert doc["openstack"]["cloud"] == f"{cloud_lab.OpenStackOnHosts.cloud_prefix}-reader"
    assert {h["name"] for h in doc["hosts"]["host"]} == set(cloud_lab.HOSTS)  # from os-services alone
