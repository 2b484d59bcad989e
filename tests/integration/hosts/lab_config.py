"""hatui configs for the hosts lab (tests/lab/hosts.py): shared by the integration tests and the capture.

hostA: Redfish over plain HTTP, SSH-like banner on :22; hostB: Redfish over HTTPS verified with the lab's CA,
its system named by Name; hostC: IPMI (ipmi_sim). ``dual`` is a host with two links, made of hostA's and
hostB's addresses (the lab hosts have one link each): a fault on one of them leaves it on its last link.
"""
from __future__ import annotations

from tests.lab import hosts as hosts_lab

BMC_PW_ENV = "HATUI_LAB_BMC_PW"
JUMP = "jump"


def bmc_table(name: str, *, password_env: str = BMC_PW_ENV, **over: object) -> str:
    h = hosts_lab.Lab.host(name)
    lab = hosts_lab.Lab()
    if name == "hostA":
        table = {"type": "redfish", "url": h.redfish_url}
    elif name == "hostB":
        table = {"type": "redfish", "url": h.redfish_https_url, "ca_file": str(lab.ca_bundle), "system": name}
    else:
        table = {"type": "ipmi", "host": hosts_lab.BMC_HOST, "port": h.ipmi_port}
    table.update(user=hosts_lab.BMC_USER, password_env=password_env)
    table.update(over)
    table = {k: v for k, v in table.items() if v is not None}
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in table.items()) + " }"


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def hosts_toml(*, dual: bool = False, interfaces: tuple[str, ...] = (hosts_lab.BRIDGE,), bmc: dict | None = None,
               power_interval: float = 1.0, power_timeout: float = 3.0, extra: str = "",
               sensors_interval: float | None = None, racks: dict[str, str] | None = None,
               feeds: dict[str, str | list[str]] | None = None) -> str:
    """The lab's three hosts (and ``dual``). ``bmc`` maps a host name to overrides of its BMC table
    (e.g. a wrong password_env), or to None for no BMC. ``sensors_interval``: read the BMCs' supplies,
    temperatures and fans that often (off when None); ``racks`` and ``feeds`` override a host's rack and
    power_feed."""
    bmc = bmc or {}
    sensors = "" if sensors_interval is None else f"sensors = true\nsensors_interval = {sensors_interval}\n"
    out = [f"[hosts]\npower_interval = {power_interval}\npower_timeout = {power_timeout}\n"
           f"network_interval = 0.5\nnetwork_timeout = 0.5\nlocal_interval = 0.5\n{sensors}"
           f"jump_host = \"{JUMP}\"\ninterfaces = {_toml(list(interfaces))}\n{extra}"]
    domains: dict[str, tuple[str | list[str], str, str]] = {
        "hostA": ("pdu-a", "r1", "sw-1"), "hostB": ("pdu-b", "r1", "sw-1"), "hostC": ("pdu-a", "r2", "sw-2")}
    for name, rack in (racks or {}).items():
        domains[name] = (domains[name][0], rack, domains[name][2])
    for name, feed in (feeds or {}).items():
        domains[name] = (feed, domains[name][1], domains[name][2])
    for h in hosts_lab.HOSTS:
        out.append(f"\n[[hosts.host]]\nname = \"{h.name}\"\naddresses = [\"{h.address}\"]\nports = [22]\n"
                   f"banner_ports = [22]\n")
        feed, rack, switch = domains[h.name]
        out.append(f"power_feed = {_toml(feed)}\nrack = \"{rack}\"\nswitch = \"{switch}\"\n")
        if bmc.get(h.name, {}) is not None:
            out.append(f"bmc = {bmc_table(h.name, **bmc.get(h.name, {}))}\n")
    if dual:
        a, b = hosts_lab.Lab.host("hostA").address, hosts_lab.Lab.host("hostB").address
        out.append(f"\n[[hosts.host]]\nname = \"dual\"\naddresses = [\"{a}\", \"{b}\"]\nports = [22]\n")
    return "".join(out)
