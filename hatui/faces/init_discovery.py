"""What ``hatui init`` reads from the cloud: only reads, each with hatui's own clients and timeouts.

- OpenStack: one token (keystoneauth, as the ``openstack`` CLI gets it from clouds.yaml) and the catalog it
  carries, nova ``os-services`` and neutron agents (hatui's Keystone and services sources);
- Galera: ``wsrep_incoming_addresses`` on each address given (hatui's Galera source: its timeouts, and TLS
  as the written ``[galera]`` asks for it): every member of the component, as its clients reach it;
- RabbitMQ: ``GET /api/nodes?columns=name,running`` and ``GET /api/overview?columns=node,listeners`` on each
  management API given (hatui's management source: its client, TLS, deadlines and words): the cluster's
  nodes, which one answered, and where each listens (AMQP and HTTP listeners bound to an address name the
  node's address);
- HAProxy: the stats CSV (hatui's HAProxy source): backends and their servers.

Passwords are read through the same references the written config holds (``password_env`` /
``password_file``, resolved by hatui's config loader) and are registered for redaction, so no error
below can show one. A part that cannot be read is an error of that part, worded as hatui words failures;
the rest is read all the same.
"""
from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hatui.config import Config, ConfigError, parse
from hatui.schedule import target_specs
from hatui.secrets import redact

if TYPE_CHECKING:
    from hatui.sources.rabbitmq import RabbitManagementSource

INIT_FILE = "(command line)"  # how the command line's own values are named in ConfigError messages
GALERA_PORT = 3306
MANAGEMENT_PORT = 15672
RABBIT_NODES = "/api/nodes?columns=name,running"
RABBIT_OVERVIEW = "/api/overview?columns=node,listeners"


@dataclass(frozen=True)
class PasswordRef:
    """Where a password is: the reference written into the config, never the password."""

    env: str | None = None
    file: str | None = None

    def table(self) -> dict[str, str]:
        if self.file:
            return {"password_file": self.file}
        return {"password_env": self.env} if self.env else {}


@dataclass(frozen=True)
class Tls:
    """How a section asks for TLS, in its own config keys (``tls``, ``ca_file``, ``insecure``): only those
    given are written, so the config reads exactly as the command line asked."""

    tls: bool = False
    ca_file: str | None = None
    insecure: bool = False

    def table(self) -> dict[str, str | bool]:
        out: dict[str, str | bool] = {"tls": True} if self.tls else {}
        if self.ca_file:
            out["ca_file"] = self.ca_file
        if self.insecure:
            out["insecure"] = True
        return out


@dataclass(frozen=True)
class Request:
    """What the operator asked ``hatui init`` to read (the command line)."""

    cloud: str
    os_password: PasswordRef = PasswordRef()
    db_hosts: tuple[tuple[str, int], ...] = ()
    db_user: str = "hatui"
    db_password: PasswordRef = PasswordRef("HATUI_GALERA_PASSWORD")
    db_tls: Tls = Tls()
    mq_urls: tuple[str, ...] = ()  # management API base URLs: http(s)://host:port
    mq_user: str = "hatui"
    mq_password: PasswordRef = PasswordRef("HATUI_RABBIT_PASSWORD")
    haproxy_urls: tuple[str, ...] = ()
    timeout: float = 3.0


@dataclass
class CloudFacts:
    name: str
    auth_url: str | None = None
    catalog: list[dict[str, Any]] = field(default_factory=list)
    services: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # "nova" / "neutron": rows
    errors: dict[str, str] = field(default_factory=dict)                       # "keystone", "nova", ...: why


@dataclass
class GaleraFacts:
    addresses: list[tuple[str, int]] = field(default_factory=list)  # wsrep_incoming_addresses, first seen first
    answered: list[tuple[str, int]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)            # "host:port": why


@dataclass
class RabbitFacts:
    scheme: str = "http"
    nodes: list[str] = field(default_factory=list)           # Erlang names, as /api/nodes lists them
    running: dict[str, bool] = field(default_factory=dict)
    answered: dict[str, tuple[str, int]] = field(default_factory=dict)  # Erlang name -> the (host, port) asked
    amqp: dict[str, tuple[str, int]] = field(default_factory=dict)      # Erlang name -> its AMQP listener
    http: dict[str, tuple[str, int]] = field(default_factory=dict)      # Erlang name -> its management listener
    errors: dict[str, str] = field(default_factory=dict)                # URL: why


@dataclass
class HaproxyFacts:
    name: str
    url: str
    backends: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)  # (backend, [(server, addr)])
    error: str | None = None


@dataclass
class Facts:
    request: Request
    cloud: CloudFacts
    galera: GaleraFacts | None = None
    rabbit: RabbitFacts | None = None
    haproxy: list[HaproxyFacts] = field(default_factory=list)

    def errors(self) -> list[str]:
        """Every part that could not be read, one line each."""
        out = [f"openstack {k}: {v}" for k, v in self.cloud.errors.items()]
        out += [f"galera {k}: {v}" for k, v in (self.galera.errors if self.galera else {}).items()]
        out += [f"rabbitmq {k}: {v}" for k, v in (self.rabbit.errors if self.rabbit else {}).items()]
        out += [f"haproxy {h.url}: {h.error}" for h in self.haproxy if h.error]
        return out


def config_words(exc: ConfigError) -> str:
    """A ConfigError about the command line's values, without the file name it does not have."""
    return redact(str(exc).removeprefix(f"{INIT_FILE}: "))


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def split_address(text: str, default_port: int) -> tuple[str, int] | None:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address -> (host, port); None for what is no
    address (empty, ``AUTO``, a bad port)."""
    text = text.strip()
    if not text or text.upper() == "AUTO":
        return None
    host, port = text, str(default_port)
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                return None
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def _specific(ip: Any) -> str | None:
    """An address a listener is bound to, unless it is every address (``::``, ``0.0.0.0``)."""
    if not isinstance(ip, str) or not is_ip(ip):
        return None
    return None if ipaddress.ip_address(ip).is_unspecified else ip


def read_listeners(listeners: Any, facts: RabbitFacts) -> None:
    """``/api/overview``'s listeners: the AMQP and management addresses of every node bound to one."""
    for item in listeners if isinstance(listeners, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("node"), str):
            continue
        port = item.get("port")
        if not isinstance(port, int) or isinstance(port, bool):
            continue
        opts = item.get("socket_opts")
        ip = _specific(item.get("ip_address"))
        if item.get("protocol") in ("http", "https"):
            ip = _specific(opts.get("ip") if isinstance(opts, dict) else None) or ip
            if ip:
                facts.http.setdefault(item["node"], (ip, port))
        elif item.get("protocol") in ("amqp", "amqp/ssl") and ip:
            facts.amqp.setdefault(item["node"], (ip, port))


# ------------------------------------------------------------------ OpenStack
def read_cloud(req: Request) -> CloudFacts:
    from hatui.sources.keystone import CloudSession, KeystoneSource, classify_openstack
    from hatui.sources.services import ServicesSource

    facts = CloudFacts(name=req.cloud)
    doc: dict[str, Any] = {"cloud": req.cloud, "timeout": req.timeout, "catalog_cache": False,
                           **req.os_password.table()}
    try:
        config = parse({"openstack": doc}, INIT_FILE)
    except ConfigError as exc:
        facts.errors["cloud"] = config_words(exc)
        return facts
    section = config.section("openstack")
    specs = {s.key: s for s in target_specs(config)}
    cloud = CloudSession(section)
    keystone = KeystoneSource(specs[("keystone", section.label)], cloud)
    try:
        data = keystone.poll()
        facts.auth_url, facts.catalog = data.get("auth_url"), data.get("catalog") or []
    except Exception as exc:  # noqa: BLE001 - worded as hatui words a Keystone failure
        facts.errors["keystone"] = classify_openstack(exc, "Keystone", req.timeout).message
        return facts
    finally:
        keystone.close()
    for which, rows in (("nova", "services"), ("neutron", "agents")):
        source = ServicesSource(specs[("services", which)], cloud, which)
        try:
            facts.services[which] = source.poll()[rows]
        except Exception as exc:  # noqa: BLE001 - as the services source words it (403: what is needed)
            facts.errors[which] = source.failure(exc).message
        finally:
            source.close()
    return facts


# ------------------------------------------------------------------ Galera
def read_galera(req: Request) -> GaleraFacts:
    from hatui.sources.galera import GaleraNodeSource

    facts = GaleraFacts()
    nodes = [{"name": f"seed-{i}", "host": h, "port": p} for i, (h, p) in enumerate(req.db_hosts, 1)]
    doc = {"galera": {"timeout": req.timeout, "user": req.db_user, "nodes": nodes, **req.db_password.table(),
                      **req.db_tls.table()}}
    try:
        config: Config = parse(doc, INIT_FILE)
    except ConfigError as exc:
        facts.errors["(config)"] = config_words(exc)
        return facts
    section = config.galera
    assert section is not None
    specs = {s.key: s for s in target_specs(config)}
    for node in section.nodes:  # hatui's own Galera source: its timeouts, TLS and wording of failures
        source = GaleraNodeSource(specs[("galera", node.name)], section, node)
        try:
            status = source.poll()["status"]
        except Exception as exc:  # noqa: BLE001 - worded as the Galera source words it
            facts.errors[f"{node.host}:{node.port}"] = source.failure(exc).message
            continue
        finally:
            source.close()
        facts.answered.append((node.host, node.port))
        text = str(status.get("wsrep_incoming_addresses") or "")
        if not text:
            facts.errors[f"{node.host}:{node.port}"] = "no wsrep_incoming_addresses: not a Galera node (wsrep off?)"
        for item in text.split(","):
            addr = split_address(item, GALERA_PORT)
            if addr is not None and addr not in facts.addresses:
                facts.addresses.append(addr)
    return facts


# ------------------------------------------------------------------ RabbitMQ
def mq_base(url: str) -> tuple[str, str, int]:
    """A management API's base URL -> (scheme, host, port); ValueError when it is not one."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not a management API URL (http://host:15672): {url}")
    if parts.username or parts.password:
        raise ValueError("a URL without credentials (--mq-user, --mq-password-env)")
    return parts.scheme, parts.hostname, parts.port or MANAGEMENT_PORT


def read_rabbit(req: Request) -> RabbitFacts:
    bases = [mq_base(u) for u in req.mq_urls]
    facts = RabbitFacts(scheme=bases[0][0])
    nodes = [{"name": f"seed-{i}", "host": h, "management_port": p} for i, (_s, h, p) in enumerate(bases, 1)]
    doc = {"timeout": req.timeout, "user": req.mq_user, "scheme": facts.scheme, "nodes": nodes,
           **req.mq_password.table()}
    try:
        config: Config = parse({"rabbitmq": doc}, INIT_FILE)
    except ConfigError as exc:
        facts.errors["(config)"] = config_words(exc)
        return facts
    asyncio.run(_read_management_apis(config, facts))
    return facts


async def _read_management_apis(config: Config, facts: RabbitFacts) -> None:
    from hatui.sources.rabbitmq import RabbitManagementSource, tls_verify

    section = config.section("rabbitmq")
    specs = {s.key: s for s in target_specs(config)}
    verify = tls_verify(section)
    for node in section.nodes:  # hatui's own management source: its client, TLS, deadlines and words
        source = RabbitManagementSource(specs[("rabbitmq", node.name)], section, node, verify)
        try:
            nodes_doc, overview = await _nodes_and_overview(source)
        except Exception as exc:  # noqa: BLE001 - worded as the RabbitMQ source words it
            facts.errors[source.base_url] = source.failure(exc).message
            continue
        finally:
            await source.aclose()
        read_answer(nodes_doc, overview, (node.host, node.management_port), facts)


def read_answer(nodes_doc: Any, overview: Any, asked: tuple[str, int], facts: RabbitFacts) -> None:
    """One management API's answers: the cluster's nodes, which node it is, where each node listens."""
    for n in nodes_doc if isinstance(nodes_doc, list) else []:
        name = n.get("name") if isinstance(n, dict) else None
        if isinstance(name, str) and name not in facts.nodes:
            facts.nodes.append(name)
            facts.running[name] = n.get("running") is not False
    if isinstance(overview, dict):
        if isinstance(overview.get("node"), str):
            facts.answered.setdefault(overview["node"], asked)
        read_listeners(overview.get("listeners"), facts)


async def _nodes_and_overview(source: RabbitManagementSource) -> tuple[Any, Any]:
    """Both at once: each may wait for the node's peers (the poll's cluster-wide deadline). A failure of
    /api/nodes is the one said, as a poll says it."""
    got: tuple[Any, ...] = await asyncio.gather(source.fetch("nodes", RABBIT_NODES),
                                                source.fetch("overview", RABBIT_OVERVIEW), return_exceptions=True)
    failed = next((g for g in got if isinstance(g, BaseException)), None)
    if failed is not None:
        raise failed
    return got[0], got[1]


# ------------------------------------------------------------------ HAProxy
def haproxy_names(urls: tuple[str, ...]) -> list[str]:
    return ["lb"] if len(urls) == 1 else [f"lb-{i}" for i in range(1, len(urls) + 1)]


def read_haproxy(req: Request) -> list[HaproxyFacts]:
    from hatui.model import Observation
    from hatui.monitor import Monitor
    from hatui.sources.haproxy import HaproxySource

    out = [HaproxyFacts(name, url) for name, url in zip(haproxy_names(req.haproxy_urls), req.haproxy_urls,
                                                        strict=True)]
    doc = {"timeout": req.timeout, "haproxy": [{"name": h.name, "url": h.url} for h in out]}
    try:
        config: Config = parse({"openstack": doc}, INIT_FILE, resolve_secrets=False)
    except ConfigError as exc:
        for h in out:
            h.error = config_words(exc)
        return out
    specs = {s.key: s for s in target_specs(config)}
    sources = [HaproxySource(specs[("haproxy", h.name)], stats) for h, stats in
               zip(out, config.section("openstack").haproxy, strict=True)]

    async def poll_all() -> list[Any]:
        try:
            return await asyncio.gather(*(s.poll() for s in sources), return_exceptions=True)
        finally:
            for s in sources:
                await s.aclose()

    monitor = Monitor(config)  # answers are parsed where hatui parses them all: once, in the monitor
    for h, source, answer in zip(out, sources, asyncio.run(poll_all()), strict=True):
        if isinstance(answer, BaseException):
            h.error = source.failure(answer).message
            continue
        backends, garbled = monitor.parse(Observation("haproxy", h.name, 0.0, 0.0, data=answer))
        if garbled is not None or backends is None:
            h.error = garbled or "unreadable"
            continue
        h.backends = [(b.name, [(s.name, s.addr) for s in b.servers]) for b in backends]
    return out


def discover(req: Request) -> Facts:
    """Everything the request names, each part on its own: one part that fails leaves the others. A cloud
    that clouds.yaml does not define stops here: a config for it would not load."""
    cloud = read_cloud(req)
    if "cloud" in cloud.errors:
        return Facts(request=req, cloud=cloud)
    return Facts(request=req, cloud=cloud,
                 galera=read_galera(req) if req.db_hosts else None,
                 rabbit=read_rabbit(req) if req.mq_urls else None,
                 haproxy=read_haproxy(req) if req.haproxy_urls else [])
