"""The config ``hatui init`` writes, from its plan: annotated as hatui.example.toml is, secrets by reference.

What init cannot know is written as commented-out keys for the operator (BMCs, power feeds, racks,
switches, ports, the jump host's links, nova's and neutron's intervals); what it could not read is said in
a comment where it would have gone. Nothing here ever holds a password: only ``password_env`` /
``password_file``, as given on the command line.
"""
from __future__ import annotations

import time

from hatui import __version__
from hatui.faces.init_plan import AMQP_PORT, HaproxyPlan, HostPlan, Plan
from hatui.faces.init_toml import Document

BMC_EXAMPLE = ('{ type = "redfish", url = "https://BMC-ADDRESS", user = "hatui", '
               'password_env = "HATUI_BMC_PASSWORD" }')


def render(p: Plan, now: float | None = None) -> str:
    d = Document()
    _header(d, p, now)
    _galera(d, p)
    _rabbit(d, p)
    _openstack(d, p)
    _hosts(d, p)
    return d.text()


def _header(d: Document, p: Plan, now: float | None) -> None:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() if now is None else now))
    d.comment(f"hatui config written by `hatui init` (hatui {__version__}) on {when}, from what the cloud said.",
              "A starting point: read it, fill in what is commented out (BMCs, power feeds, racks, switches),",
              "then `hatui check`. Passwords are never written here: each is a reference, password_env or",
              "password_file. hatui.example.toml (in hatui's source) annotates every key.")
    errors = p.facts.errors()
    if errors:
        d.blank_line()
        d.comment("Not read at init (the parts below are written from the command line alone):")
        d.comment(*(f"  {e}" for e in errors))
    d.table("hatui")
    d.set("interval", 1.0, "seconds from the end of one poll of a target to the start of the next")
    d.set("timeout", 1.0, "connect timeout and read timeout of every request (seconds)")


def _galera(d: Document, p: Plan) -> None:
    req = p.facts.request
    if not p.galera:
        d.blank_line()
        d.comment("[galera]: no --db-host given (hatui init --db-host ADDRESS reads the members from one node)")
        return
    d.table("galera")
    d.set("name", "openstack-db", "the cluster's name on screen and in cluster-wide finding ids")
    d.set("user", req.db_user, "needs USAGE only (README, Galera)")
    for k, v in req.db_password.table().items():
        d.set(k, v)
    _galera_tls(d, p)
    found = p.facts.galera.addresses if p.facts.galera else []
    d.blank("expected_size", len(p.galera), "default: the number of nodes listed below")
    for n in p.galera:
        d.table("galera.nodes", "from wsrep_incoming_addresses" if (n.host, n.port) in found else None, array=True)
        d.set("name", n.name, n.note)
        d.set("host", n.host)
        d.set("port", n.port)


TLS_NOTES = {"tls": "TLS to the nodes (--db-tls)", "ca_file": "their certificates verified against it (--db-ca-file)",
             "insecure": "TLS NOT VERIFIED (--db-insecure): hatui's screen says so"}


def _galera_tls(d: Document, p: Plan) -> None:
    """TLS as init read the nodes with (the same keys, so the config checks the same way), or a blank."""
    table = p.facts.request.db_tls.table()
    for k, v in table.items():
        d.set(k, v, TLS_NOTES[k])
    if not table:
        d.blank("tls", True, "require TLS (hatui init --db-tls, --db-ca-file FILE, --db-insecure)")


def _rabbit(d: Document, p: Plan) -> None:
    req = p.facts.request
    if not p.rabbit:
        d.blank_line()
        d.comment("[rabbitmq]: no --mq-url given (hatui init --mq-url http://ADDRESS:15672 lists the nodes)")
        return
    d.table("rabbitmq")
    d.set("name", "openstack-mq", "the cluster's name on screen and in cluster-wide finding ids")
    d.set("user", req.mq_user, 'tag "monitoring", no vhost permissions (README, RabbitMQ)')
    for k, v in req.mq_password.table().items():
        d.set(k, v)
    if p.facts.rabbit and p.facts.rabbit.scheme != "http":
        d.set("scheme", p.facts.rabbit.scheme)
    d.blank("expected_size", len(p.rabbit), "default: the number of nodes listed below")
    d.blank_line()
    d.comment("[rabbitmq.canary]              # optional: a message through every node, as OpenStack's clients",
              'user = "hatui-canary"          # send them; an account of its own (README, RabbitMQ)',
              'password_env = "HATUI_RABBIT_CANARY_PASSWORD"',
              'vhost = "/"')
    for n in p.rabbit:
        d.table("rabbitmq.nodes", "from /api/nodes" if n.erlang_node else None, array=True)
        d.set("name", n.name, n.note)
        d.set("host", n.host)
        d.set("management_port", n.management_port)
        if n.amqp_port != AMQP_PORT:
            d.set("amqp_port", n.amqp_port)
        if n.erlang_node:
            d.set("erlang_node", n.erlang_node)


def _openstack(d: Document, p: Plan) -> None:
    c = p.facts.cloud
    d.table("openstack", "credentials as the openstack CLI reads them: clouds.yaml, secure.yaml")
    d.set("cloud", c.name, "the clouds.yaml entry")
    for k, v in p.facts.request.os_password.table().items():
        d.set(k, v)
    d.set("interval", 5.0, "a token check and two service lists per round")
    d.set("timeout", 3.0, "connect and read timeout of every request")
    for which in ("nova", "neutron"):
        if which in c.errors:
            d.comment(f"{which}: not read at init: {c.errors[which]}")
    d.comment("Set these to nova.conf's and neutron.conf's values (the defaults are OpenStack's):")
    d.blank("service_down_time", 60, "nova.conf [DEFAULT] service_down_time")
    d.blank("report_interval", 10, "nova.conf [DEFAULT] report_interval")
    d.blank("agent_down_time", 75, "neutron.conf [DEFAULT] agent_down_time")
    d.blank("agent_report_interval", 30, "neutron.conf [agent] report_interval")
    if p.catalog:
        d.comment("The catalog (read at init), probed every interval without being listed here:")
        for g in p.catalog:
            region = f" @{g['region']}" if g.get("region") else ""
            d.comment(f"  {g['service']} ({g.get('name') or '?'}) {'+'.join(map(str, g['interfaces']))}"
                      f"{region}: {g['url']}")
    if p.vips and not p.haproxy:
        d.comment(f"Catalog URLs at {', '.join(p.vips)}: at no host's address (a VIP?). Add the HAProxy in "
                  "front of them (hatui init --haproxy-url http://LB:8404/;csv).")
    for lb in p.haproxy:
        _haproxy(d, lb)


def _haproxy(d: Document, lb: HaproxyPlan) -> None:
    d.table("openstack.haproxy", "its stats CSV: every backend's servers", array=True)
    d.set("name", lb.name, lb.note)
    d.set("url", lb.url)
    if lb.addresses:
        d.set("addresses", lb.addresses, "the catalog's URLs at no host's address: its VIPs (check)")
    if lb.backends:
        d.comment(f"backends at init: {', '.join(lb.backends)} (all are watched; backends = [...] for fewer)")
    d.blank("user", "stats", "basic auth of the stats page, with password_env")


def _hosts(d: Document, p: Plan) -> None:
    if not p.hosts:
        d.blank_line()
        d.comment("[hosts]: no host learned (os-services, RabbitMQ, Galera, HAProxy said none)")
        return
    d.table("hosts")
    d.set("jump_host", "jump", "how this machine is named in findings")
    d.blank("interfaces", ["bond0"], "this machine's links to the management network")
    for h in p.hosts:
        _host(d, h)


def _host(d: Document, h: HostPlan) -> None:
    d.table("hosts.host", f"seen: {', '.join(h.said)}" if h.said else None, array=True)
    d.set("name", h.name, None if h.named else "named after its address: no name learned, name it")
    if h.addresses:
        d.set("addresses", h.addresses, "management addresses, IP literals")
    else:
        d.blank("addresses", [], "not learned: its management addresses, IP literals")
    d.blank("ports", [22], "TCP ports expected open on each address")
    d.blank("banner_ports", [22], "of those, services that speak first (SSH)")
    d.blank("power_feed", "", "failure domains, names of your choosing: hosts sharing one fail together;")
    d.blank("rack", "", "two feeds or switches: a list, [\"pdu-a\", \"pdu-b\"] (hatui ok-to-stop)")
    d.blank("switch", "")
    d.blank("bmc", BMC_EXAMPLE, "ReadOnly account; or ipmi (README, Hosts)", raw=True)
