"""Where a target is and how hatui reaches it, in words, from the config (for the detail screen). Pure.

Never a secret: a password is named by its reference (``$HATUI_DB_PASSWORD``, a file's path), never read.
"""
from __future__ import annotations

from typing import Any

from hatui.config import Config
from hatui.secrets import redact

Line = tuple[str, str]  # (label, text)


def password_words(table: Any) -> str:
    """Where a section's password comes from: a reference, never its value."""
    if getattr(table, "password_env", None):
        return f"password from ${table.password_env}"
    if getattr(table, "password_file", None):
        return f"password from the file {table.password_file}"
    return "no password configured"


def _tls(table: Any, on: bool) -> str:
    if not on:
        return "no TLS"
    return "TLS NOT VERIFIED" if getattr(table, "insecure", False) else "TLS verified"


def _named(items: Any, name: str) -> Any:
    return next((i for i in items or () if getattr(i, "name", None) == name), None)


def where_lines(config: Config, source: str, target: str) -> list[Line]:
    """(label, text) lines: the address polled, and the way in (protocol, account, what is asked)."""
    section = config.section({"galera": "galera", "rabbitmq": "rabbitmq", "rabbitmq-amqp": "rabbitmq",
                              "rabbitmq-clients": "rabbitmq", "power": "hosts", "sensors": "hosts", "network": "hosts",
                              "local": "hosts"}.get(source, "openstack"))
    if section is None:
        return [("address", "not in the config")]
    lines = _where(section, source, target)
    return [(label, redact(text)) for label, text in lines]


def _where(s: Any, source: str, target: str) -> list[Line]:  # noqa: PLR0911 - one branch per kind of target
    if source == "galera" and (node := _named(s.nodes, target)):
        return [("address", f"{node.host}:{node.port}"),
                ("way in", f"MariaDB as {s.user} ({password_words(s)}, {_tls(s, s.tls)}): "
                           "SHOW GLOBAL STATUS (the wsrep fields) and VARIABLES")]
    if source == "rabbitmq" and (node := _named(s.nodes, target)):
        return [("address", f"{s.scheme}://{node.host}:{node.management_port}"),
                ("way in", f"management API as {s.user} ({password_words(s)}, {_tls(s, s.scheme == 'https')}): "
                           "/api/overview, /api/nodes, health checks")]
    if source == "rabbitmq-amqp" and (node := _named(s.nodes, target)) and s.canary is not None:
        c = s.canary
        return [("address", f"{'amqps' if c.tls else 'amqp'}://{node.host}:{node.amqp_port} vhost {c.vhost}"),
                ("way in", f"AMQP canary as {c.user} ({password_words(c)}): publish one message to itself, "
                           "consume it back")]
    if source == "rabbitmq-clients":
        return [("address", "the management API of the first node that answers"),
                ("way in", f"as {s.user}: /api/connections (which node each RPC client is on)")]
    if source == "power" and (host := _named(s.hosts, target)) and host.bmc is not None:
        b = host.bmc
        return [("address", f"BMC {b.where}" + (f", system {b.system}" if b.system else "")),
                ("way in", f"{b.type} as {b.user} ({password_words(b)}): the power state")]
    if source == "sensors" and (host := _named(s.hosts, target)) and host.bmc is not None:
        b = host.bmc
        what = ("the chassis' PowerSubsystem (or Power) and Thermal" if b.type == "redfish" else
                "ipmitool sdr type Temperature, Fan, Power Supply")
        return [("address", f"BMC {b.where}" + (f", system {b.system}" if b.system else "")),
                ("way in", f"{b.type} as {b.user} ({password_words(b)}): {what}")]
    if source == "network" and (host := _named(s.hosts, target)):
        ports = ", ".join(f"tcp/{p}" for p in host.ports) or "no TCP port"
        return [("address", ", ".join(host.addresses)),
                ("way in", f"probes from this jump host: {'ICMP echo, ' if s.ping else ''}{ports}")]
    if source == "local":
        return [("address", f"this jump host ({target})"),
                ("way in", "its own links: " + (", ".join(s.interfaces) or "none"))]
    if source == "keystone":
        region = f", region {s.region}" if s.region else ""
        return [("address", f"cloud {s.cloud or '(from OS_* variables)'}{region}"),
                ("way in", f"a Keystone token and its catalog ({password_words(s)})")]
    if source == "endpoint":
        return [("address", "every URL of the catalog" + (f" ({s.interface})" if s.interface else "")
                 + (f" and {len(s.endpoints)} extra endpoint(s)" if s.endpoints else "")),
                ("way in", "an unauthenticated GET of each, in one round")]
    if source == "services":
        what = "nova os-services" if target == "nova" else "neutron agents" if target == "neutron" else target
        return [("address", f"cloud {s.cloud or '(from OS_* variables)'}"), ("way in", f"the {what} list")]
    if source == "haproxy" and (stats := _named(s.haproxy, target)):
        account = f" as {stats.user} ({password_words(stats)})" if stats.user else ""
        return [("address", stats.url or f"admin socket {stats.socket}"), ("way in", f"the statistics CSV{account}")]
    return [("address", "not in the config")]
