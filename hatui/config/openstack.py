"""The ``[openstack]`` section: one cloud, reached exactly as the ``openstack`` CLI reaches it.

Credentials come from clouds.yaml / secure.yaml (``cloud = "..."`` or ``$OS_CLOUD``, the standard
search paths and ``$OS_CLIENT_CONFIG_FILE``) or from ``OS_*`` variables, through openstacksdk's own
loader, so a clouds.yaml that works with the CLI works here unchanged. hatui's file only names the
cloud and, optionally, overrides region, interface, CA bundle, ``insecure`` or the password
(``password_env`` / ``password_file``, for a clouds.yaml kept without it).

Targets (what is polled on its own schedule, see hatui/schedule.py):

- ``keystone/<name>``: the token (auth, then validation) and the catalog it carries;
- ``endpoint/endpoints``: one round probing every catalog URL and every extra URL concurrently. The
  catalog is only known once Keystone answers (and changes with it), while targets are fixed when the
  config is read: so the catalog is one target whose answer holds one result per endpoint;
- ``services/nova`` and ``services/neutron``: nova ``os-services``, neutron agents;
- ``haproxy/<name>``: one per configured HAProxy stats endpoint (HTTP CSV or admin socket).
"""
from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from hatui.config.schema import ConfigError, derived, required, resolve_secret, unique_names
from hatui.secrets import Secret, redact

# Binaries that should run on more than one host: exactly one up is a single point of failure.
# Per-host agents (nova-compute, openvswitch/linuxbridge/metadata agents) are one per host by design.
REDUNDANT_BINARIES = (
    "nova-conductor",       # every API call that touches the DB or builds a server goes through it
    "nova-scheduler",       # no scheduler: no server can be built or moved
    "neutron-dhcp-agent",   # with dhcp_agents_per_network > 1 a network survives an agent
    "neutron-l3-agent",     # L3 HA / DVR spreads routers over several agents
)
SERVICE_LISTS = ("nova", "neutron")
INTERFACES = ("public", "internal", "admin")


@dataclass(frozen=True, kw_only=True)
class ExtraEndpoint:
    """A URL probed besides the catalog: a VIP, or each backend behind it."""

    name: str = required()   # shown on screen and as the finding subject
    url: str = required()


@dataclass(frozen=True, kw_only=True)
class HaproxyStats:
    """One HAProxy stats endpoint: ``url`` (the CSV, e.g. http://lb:8404/;csv) or ``socket``."""

    name: str = required()
    url: str | None = None
    socket: str | None = None
    user: str | None = None            # HTTP basic auth of the stats page
    password_env: str | None = None
    password_file: str | None = None
    ca_file: str | None = None
    insecure: bool = False
    backends: list[str] | None = None  # only these backends (default: every backend)
    runs_on: str | None = None         # the [[hosts.host]] it runs on, where its URL's address does not say
    addresses: list[str] | None = None  # where its frontends listen (the VIPs): catalog URLs there go through it
    interval: float | None = None
    timeout: float | None = None
    password: Secret | None = derived()


@dataclass(frozen=True, slots=True)
class _RoundPoll:
    """Schedule of the endpoint round. Its budget (4 request timeouts) covers the wait for Keystone's
    first catalog, a connect and a read that each time out, so "slow" (half the budget) means the round
    itself is stuck, not that one endpoint hangs: that endpoint's own result says so."""

    interval: float
    timeout: float


@dataclass(frozen=True, kw_only=True)
class OpenStackSection:
    name: str | None = None               # on screen and in cloud-wide finding ids; default: the cloud
    cloud: str | None = None              # clouds.yaml entry; default $OS_CLOUD, else OS_* variables
    region: str | None = None             # override region_name
    interface: str | None = None          # override interface (public, internal, admin)
    ca_file: str | None = None            # override cacert
    insecure: bool = False                # TLS without verification (also true when clouds.yaml says so)
    password_env: str | None = None       # override the cloud's password
    password_file: str | None = None
    # A catalog fetch and a service list cost more than a status query: these are not [hatui]'s.
    interval: float = 5.0
    # connect and read timeout of every request: an API's first call with a new token waits for Keystone
    # (lab: 0.2 s idle, 1.2 s on a loaded host), and half the timeout already reads as "slow"
    timeout: float = 3.0
    fresh_every: float | None = None      # overrides [hatui]: a new login and new connections (0: never)
    services: list[str] = field(default_factory=lambda: list(SERVICE_LISTS))
    redundant: list[str] = field(default_factory=lambda: list(REDUNDANT_BINARIES))
    # service -> the fewest instances it needs serving (default 1): a binary (``nova-conductor``), a catalog
    # service's name or type (``nova``, ``compute``) or an HAProxy backend (``lb-1/nova_api``)
    capacity_floor: dict[str, int] = field(default_factory=dict)
    service_down_time: float = 60.0       # nova.conf [DEFAULT] service_down_time
    report_interval: float = 10.0         # nova.conf [DEFAULT] report_interval
    agent_down_time: float = 75.0         # neutron.conf [DEFAULT] agent_down_time
    agent_report_interval: float = 30.0   # neutron [agent] report_interval
    cert_warn_days: float = 30.0          # certificates expiring sooner are reported
    catalog_cache: bool = True            # keep the last catalog on disk (for `check` while Keystone is down)
    endpoints: list[ExtraEndpoint] = field(default_factory=list)
    haproxy: list[HaproxyStats] = field(default_factory=list)
    cloud_region: Any = derived()         # openstack.config CloudRegion (live runs only)

    @property
    def label(self) -> str:
        return self.name or self.cloud or "openstack"

    def targets(self) -> list[tuple[str, str, object]]:
        out: list[tuple[str, str, object]] = [
            ("keystone", self.label, self),
            ("endpoint", "endpoints", _RoundPoll(self.interval, 4 * self.timeout)),
        ]
        out += [("services", s, self) for s in self.services]
        out += [("haproxy", h.name, h) for h in self.haproxy]
        return out

    def validate(self, file: str, resolve_secrets: bool) -> OpenStackSection:
        for i, s in enumerate(self.services):
            if s not in SERVICE_LISTS:
                raise ConfigError(file, f"openstack.services[{i}]", f"one of {', '.join(SERVICE_LISTS)}", repr(s))
        if self.interface is not None and self.interface not in INTERFACES:
            raise ConfigError(file, "openstack.interface", f"one of {', '.join(INTERFACES)}", repr(self.interface))
        if self.interval <= 0 or self.timeout <= 0:
            raise ConfigError(file, "openstack.interval" if self.interval <= 0 else "openstack.timeout", "a number > 0")
        for name, floor in self.capacity_floor.items():
            if floor < 1:
                raise ConfigError(file, f"openstack.capacity_floor.{name}", "a whole number >= 1", repr(floor))
        unique_names(self.endpoints, file, "openstack.endpoints")
        unique_names(self.haproxy, file, "openstack.haproxy")
        for i, e in enumerate(self.endpoints):
            _check_url(e.url, file, f"openstack.endpoints[{i}].url")
        haproxy = [self._haproxy(h, i, file, resolve_secrets) for i, h in enumerate(self.haproxy)]
        section = dataclasses.replace(self, haproxy=haproxy)
        if not resolve_secrets:
            return section
        password = resolve_secret(self, file, "openstack")
        region = load_cloud(section, password, file)
        insecure = self.insecure or region.get_requests_verify_args()[0] is False
        return dataclasses.replace(section, cloud_region=region, insecure=insecure)

    @staticmethod
    def _haproxy(h: HaproxyStats, i: int, file: str, resolve_secrets: bool) -> HaproxyStats:
        key = f"openstack.haproxy[{i}]"
        if bool(h.url) == bool(h.socket):
            raise ConfigError(file, f"{key}.url", "either url (the stats CSV) or socket (the admin socket), not both")
        if h.url:
            _check_url(h.url, file, f"{key}.url")
        for j, addr in enumerate(h.addresses or []):
            if not _is_host(addr):
                raise ConfigError(file, f"{key}.addresses[{j}]",
                                  "an address or name as the catalog's URLs spell it (no scheme, no port)", repr(addr))
        if resolve_secrets:
            return dataclasses.replace(h, password=resolve_secret(h, file, key))
        return h


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?")


def _is_host(text: str) -> bool:
    """An IP literal, or a DNS name (letters, digits, '-', '.'): what a URL's host part holds."""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return bool(_DNS_NAME.fullmatch(text))


SDK_TOP_LEVEL = frozenset({"connect", "enable_logging"})  # what openstacksdk's own __init__ defines


def sdk_package() -> None:
    """Let ``openstack.config`` (the clouds.yaml loader) load without openstacksdk's ``__init__``, which
    imports every service proxy of the SDK (``openstack.connection``): about 0.2 s of an idle machine's
    start-up, ten times the loader's own. The package is registered unexecuted; its own top-level names
    (``openstack.connect``) execute it on first use, so any other code importing openstack still works."""
    import importlib.util
    import sys

    if "openstack" in sys.modules:
        return
    spec = importlib.util.find_spec("openstack")
    if spec is None or spec.loader is None:
        return  # not installed: the import below says so
    package = importlib.util.module_from_spec(spec)

    def load_all(name: str) -> Any:
        if name not in SDK_TOP_LEVEL:
            raise AttributeError(name)  # a submodule not imported yet: the import system imports it
        delattr(package, "__getattr__")
        spec.loader.exec_module(package)  # type: ignore[union-attr]
        return getattr(package, name)

    setattr(package, "__getattr__", load_all)  # noqa: B010 - PEP 562: asked for missing names only
    sys.modules["openstack"] = package


def load_cloud(section: OpenStackSection, password: Secret | None, file: str) -> Any:
    """The cloud as openstacksdk's loader sees it (clouds.yaml, secure.yaml, OS_* variables)."""
    from keystoneauth1 import exceptions as ks_exc

    sdk_package()
    from openstack import exceptions as sdk_exc
    from openstack.config import OpenStackConfig

    overrides: dict[str, Any] = {}
    if section.region:
        overrides["region_name"] = section.region
    if section.interface:
        overrides["interface"] = section.interface
    if section.ca_file:
        overrides["cacert"] = section.ca_file
    if section.insecure:
        overrides["insecure"] = True
    if password is not None:
        overrides["auth"] = {"password": password.reveal()}
    where = f"cloud {section.cloud!r}" if section.cloud else (
        f"cloud {os.environ['OS_CLOUD']!r} ($OS_CLOUD)" if os.environ.get("OS_CLOUD") else "OS_* variables")
    loader = None
    try:
        with warnings.catch_warnings():  # openstacksdk's deprecation notices are not the operator's business
            warnings.simplefilter("ignore")
            loader = OpenStackConfig()
            region = loader.get_one(cloud=section.cloud, **overrides)
            region.get_requests_verify_args()  # verify/cacert/cert as the sources will read them
            auth = region.config.get("auth") or {}
            if not isinstance(auth, dict):
                raise TypeError("auth is not a mapping")
    except sdk_exc.SDKException as exc:
        if section.region and "region" in str(exc):
            raise ConfigError(file, "openstack.region", f"a region of {where}", str(exc)) from None
        raise ConfigError(file, "openstack.cloud", "a cloud defined in clouds.yaml (or $OS_CLOUD / OS_* variables)",
                          str(exc)) from None
    except ks_exc.ClientException as exc:
        raise ConfigError(file, "openstack.cloud", f"complete credentials for {where}", str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - openstacksdk trips over a malformed entry (a number for a table ...)
        clouds = (loader.config_filename if loader is not None else None) or \
            os.environ.get("OS_CLIENT_CONFIG_FILE") or "clouds.yaml"
        name = section.cloud or os.environ.get("OS_CLOUD") or "(OS_* variables)"
        raise ConfigError(str(clouds), f"clouds.{name}", "a cloud as openstacksdk reads it (clouds.yaml / secure.yaml)",
                          f"{type(exc).__name__}: {redact(str(exc))[:160]}") from None
    for secret_key in ("password", "application_credential_secret", "token"):
        if auth.get(secret_key):
            Secret(str(auth[secret_key]), f"{where} {secret_key}")  # registered: redacted everywhere
    return region


def _check_url(url: str, file: str, key: str) -> None:
    """An http(s) URL without credentials: a password written into a URL would be shown wherever the URL
    is (findings, panes, recordings); hatui takes passwords only by reference (password_env/_file)."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ConfigError(file, key, "a URL without credentials (use user and password_env / password_file)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(file, key, "an http:// or https:// URL", repr(url))
