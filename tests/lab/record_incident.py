"""Record a real incident in the lab with ``hatui record``: the demo and the UI tests replay it.

    flock /tmp/hatui-lab.lock .venv/bin/python -m tests.lab.record_incident [--out FILE] [--demo]

Every area is recorded from the loopback lab (``python -m tests.lab up galera rabbit openstack hosts``):
Galera (3 nodes, 1 s), RabbitMQ (3 nodes, 1 s, the AMQP canary every 2 s), OpenStack as its admin sees
it through the lab's clouds.yaml (Keystone token and catalog, every endpoint and the extra VIP URLs,
HAProxy's keystone and nova_api backends, nova os-services and neutron agents, every 2 s) and the
hosts lab's three BMCs and addresses, named as the controllers lab-ctl-0..2 (Redfish over HTTP,
Redfish over verified HTTPS, IPMI; power every 2 s, network and the jump host's link every 1 s).

Script: healthy -> db-3 SIGKILLed (survivors become SPOFs) -> restarted and Synced -> db-2 and db-3
SIGKILLed (db-1 alone, non-Primary: quorum lost; OpenStack loses its database) -> both restarted (the
lab repairs the Primary component) -> healthy; RabbitMQ: mq-3 SIGKILLed (the two left are each a SPOF)
and restarted -> a memory alarm on mq-2 (publishers blocked cluster-wide) and cleared -> healthy; then
controller lab-ctl-1 loses power: its BMC (Redfish) powers it off, its link goes dark, and what ran on it
dies with it (db-2, mq-2, keystone, nova-api, nova-conductor and nova-scheduler @lab-ctl-1): every pane
shows a failure and the SPOFs it leaves -> power back, everything restarted -> healthy.

Moments are written to ``<out minus .jsonl.gz>.marks.json`` (seconds from the recording's first
observation), so tests can look at a known instant. The recorded config names the lab's nodes and
hosts; it holds no secret.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.integration.conftest import GALERA_PW_ENV, galera_toml
from tests.integration.hatui_proc import hatui_env
from tests.integration.hosts.lab_config import BMC_PW_ENV, JUMP, bmc_table
from tests.integration.openstack.conftest import EXTRA_URLS, LAB_TIMING
from tests.integration.rabbit.conftest import CANARY_PW_ENV, MONITOR_PW_ENV, rabbit_toml
from tests.lab import galera as galera_lab
from tests.lab import hosts as hosts_lab
from tests.lab import openstack as os_lab
from tests.lab import rabbit as rabbit_lab
from tests.lab.common import wait_until

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "recordings" / "lab-incident.jsonl.gz"
DEMO = ROOT / "hatui" / "demo" / "lab-incident.jsonl.gz"

# The hosts lab's three hosts, named as the controllers: hostA Redfish (HTTP), hostB Redfish (HTTPS, the
# lab's CA), hostC IPMI. lab-ctl-0 and lab-ctl-1 are also the hosts of the OpenStack lab's services.
CONTROLLERS = {"hostA": "lab-ctl-0", "hostB": "lab-ctl-1", "hostC": "lab-ctl-2"}
# Power feed, rack, switch: the two hosts of the OpenStack services share none (no equipment SPOF when healthy).
DOMAINS = {"hostA": ("pdu-a", "r1", "sw-1"), "hostB": ("pdu-b", "r2", "sw-2"), "hostC": ("pdu-a", "r3", "sw-2")}
LOST = "hostB"  # the controller that loses power: lab-ctl-1
LOST_DB, LOST_MQ = 2, 2  # its Galera and RabbitMQ nodes (db-2, mq-2)
LOST_SERVICES = ("keystone@lab-ctl-1", "nova-api@lab-ctl-1", "nova-conductor@lab-ctl-1", "nova-scheduler@lab-ctl-1")
# Only the HAProxy backends with two servers: the lab's single placement/glance/neutron backends are
# SPOFs by construction and would be findings from the first second.
BACKENDS = ("keystone", "nova_api")


def openstack_toml(interval: float = 2.0) -> str:
    """The lab seen by its admin through clouds.yaml: catalog, the extra VIP URLs, HAProxy, services."""
    extra = "".join(f'[[openstack.endpoints]]\nname = "{n}"\nurl = "{u}"\n' for n, u in EXTRA_URLS.items())
    backends = ", ".join(f'"{b}"' for b in BACKENDS)
    return (f'[openstack]\ncloud = "hatui-lab-admin"\nname = "lab"\ninterval = {interval}\ntimeout = 2\n'
            f'{LAB_TIMING}{extra}'
            f'[[openstack.haproxy]]\nname = "lb"\nurl = "{os_lab.HAPROXY_STATS_URL}"\nbackends = [{backends}]\n')


def hosts_toml() -> str:
    out = [f'[hosts]\npower_interval = 2\npower_timeout = 3\nnetwork_interval = 1\nnetwork_timeout = 0.5\n'
           f'local_interval = 1\njump_host = "{JUMP}"\ninterfaces = ["{hosts_lab.BRIDGE}"]\n']
    for h in hosts_lab.HOSTS:
        feed, rack, switch = DOMAINS[h.name]
        out.append(f'\n[[hosts.host]]\nname = "{CONTROLLERS[h.name]}"\naddresses = ["{h.address}"]\nports = [22]\n'
                   f'banner_ports = [22]\npower_feed = "{feed}"\nrack = "{rack}"\nswitch = "{switch}"\n'
                   f'bmc = {bmc_table(h.name)}\n')
    return "".join(out)


def placed(toml: str) -> str:
    """Galera and RabbitMQ nodes declared on the controllers (``runs_on``): in this lab they listen on
    loopback, where no address says which host they belong to; node N is lab-ctl-(N-1)."""
    return re.sub(r'^name = "(db|mq)-(\d)"$', lambda m: f'{m.group(0)}\nruns_on = "lab-ctl-{int(m.group(2)) - 1}"',
                  toml, flags=re.M)


def _nova_down(cloud: os_lab.Lab, host: str) -> bool:
    """nova calls every service of ``host`` down."""
    rows = [r for r in cloud.nova_services() if r.get("host") == host]
    return bool(rows) and all(r.get("state") == "down" for r in rows)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--demo", action="store_true", help="also copy the recording to the bundled demo")
    args = ap.parse_args()
    lab, mq, cloud, hosts = galera_lab.Lab(), rabbit_lab.Lab(), os_lab.Lab(), hosts_lab.Lab()
    for each in (lab, mq, cloud, hosts):
        each.up()
        each.reset()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    marks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # only the lab's clouds.yaml, as the openstack CLI would use it; a private catalog cache
        env = {k: v for k, v in hatui_env().items() if not k.startswith("OS_")}
        env.update({GALERA_PW_ENV: galera_lab.MONITOR_PASSWORD, MONITOR_PW_ENV: rabbit_lab.MONITOR_PASSWORD,
                    CANARY_PW_ENV: rabbit_lab.CANARY_PASSWORD, BMC_PW_ENV: hosts_lab.BMC_PASSWORD,
                    "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml()), "XDG_CACHE_HOME": str(Path(tmp) / "cache")})
        config = Path(tmp) / "hatui.toml"
        config.write_text(placed(galera_toml() + rabbit_toml()) + openstack_toml() + hosts_toml())
        rec = subprocess.Popen([sys.executable, "-m", "hatui", "record", "-o", str(args.out), "--config",
                                str(config)], env=env)
        t0 = time.time()

        def mark(name: str) -> None:
            marks[name] = round(time.time() - t0, 2)
            print(f"{marks[name]:7.2f} s  {name}", flush=True)

        def cloud_healthy() -> None:
            """Until the OpenStack lab is healthy again (a service that died of the fault is restarted)."""
            print(f"         openstack: {cloud.reset()}", flush=True)

        try:
            time.sleep(10)  # every source answered at least once (the BMCs every 2 s, OpenStack every 2 s)
            mark("healthy")
            # -- Galera: one node lost, then two
            lab.kill(3)
            mark("node3_killed")
            lab.wait_for(lambda s: s and s.get("wsrep_cluster_size") == "2", nodes=[1, 2], timeout=30)
            time.sleep(2)
            mark("survivors_are_spofs")
            time.sleep(4)
            lab.start(3)
            mark("node3_rejoined")
            time.sleep(6)
            mark("healthy_again")
            lab.kill(2)
            lab.kill(3)
            mark("two_killed")
            lab.wait_for(lambda s: s and s.get("wsrep_cluster_status") != "Primary", nodes=[1], timeout=30)
            time.sleep(2)
            mark("quorum_lost")
            time.sleep(8)  # nova and neutron lose their database (the HAProxy Galera VIP has no Synced node)
            mark("openstack_without_db")
            lab.up()  # restarts node2 and node3; the Primary component comes back
            mark("quorum_regained")
            cloud_healthy()
            time.sleep(4)
            mark("galera_healthy")
            # -- RabbitMQ: one node lost; a memory alarm
            mq.kill(3)
            mark("rabbit3_killed")
            time.sleep(6)
            mark("rabbit_spofs")
            mq.start(3)
            mark("rabbit3_rejoined")
            time.sleep(6)
            mq.alarm("memory", 2)
            mark("rabbit2_memory_alarm")
            time.sleep(8)
            mark("publishers_blocked")
            mq.clear_alarms()
            mark("alarm_cleared")
            cloud_healthy()
            time.sleep(6)
            mark("rabbit_healthy")
            # -- controller lab-ctl-1 loses power: through its BMC; what ran on it dies with it
            hosts.power(LOST, False)
            mark("power_off_requested")
            hosts.wait_power(LOST, False)
            hosts.link(LOST, False)
            lab.kill(LOST_DB)
            mq.kill(LOST_MQ)
            for name in LOST_SERVICES:
                cloud.kill(name)
            mark("controller_lost")
            lab.wait_for(lambda s: s and s.get("wsrep_cluster_size") == "2", nodes=[1, 3], timeout=30)
            wait_until(lambda: _nova_down(cloud, "lab-ctl-1"), 30, 0.5, "nova to call lab-ctl-1's services down")
            time.sleep(3)
            mark("controller_down")
            time.sleep(6)
            hosts.power(LOST, True)
            mark("power_restored")
            hosts.wait_power(LOST, True)
            hosts.link(LOST, True)
            with ThreadPoolExecutor(3) as pool:  # the controller boots: its services start again
                for done in [pool.submit(lab.start, LOST_DB), pool.submit(mq.start, LOST_MQ),
                             pool.submit(cloud.reset)]:
                    done.result()
            mark("controller_back")
            cloud_healthy()
            time.sleep(6)
            mark("end")
        finally:
            rec.terminate()
            rec.wait(30)
            hosts.reset()
            lab.reset()
            mq.reset()
            cloud.reset()
    # marks are relative to our t0; shift them to the recording's first observation
    from hatui.feed.recording import read_recording

    _doc, observations = read_recording(args.out)
    shift = observations[0].observed_at - t0
    marks = {k: round(v - shift, 2) for k, v in marks.items()}
    args.out.with_suffix("").with_suffix(".marks.json").write_text(json.dumps(marks, indent=1) + "\n")
    if args.demo:
        shutil.copy(args.out, DEMO)
    print(f"recorded {len(observations)} observations to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
