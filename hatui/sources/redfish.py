"""Power through a Redfish BMC: service root -> Systems -> the host's system (``PowerState``, ``Status``).

httpx AsyncClient with basic auth (hatui opens no Redfish session, so it can never leave one behind on
a BMC with few of them), one connection and so one request in flight per BMC, an explicit connect and
read timeout, and TLS verified against ``ca_file`` (or the system's CAs) unless ``insecure = true``.

The system's path is found once (two requests) and then read with one GET per poll; a 404 on it means
the BMC changed (firmware update, replaced board): it is looked up again. Four ways a BMC fails read
differently to an operator and are told apart: credentials refused (401), no answer (timeout), connection
refused, and a BMC that answers but has no such system (that one is data: ``system`` is None).
"""
from __future__ import annotations

import ssl
from typing import Any

import httpx

from hatui.config.hosts import BmcConfig, HostEntry
from hatui.model import Failure, FailureKind
from hatui.schedule import TargetSpec
from hatui.secrets import redact
from hatui.sources.base import AsyncSource, SourceError
from hatui.sources.http import classify_http, close_soon, http_timeout
from hatui.sources.tls import tls_context
from hatui.words import failure_words

SERVICE_ROOT = "/redfish/v1/"
MAX_MEMBERS_READ = 16  # when the system is named by Name/UUID, read at most this many members to find it
# Only the fields hatui reads are kept (a ComputerSystem is ~90 lines; recordings keep every poll).
SYSTEM_FIELDS = ("Id", "Name", "UUID", "PowerState", "Status")


def bmc_failure(kind: FailureKind, detail: str = "", timeout: float | None = None) -> SourceError:
    """A failure worded "BMC: <what> <detail>", so an operator sees it is the BMC, not the host, failing."""
    head = f"no answer within {timeout:g} s" if kind == FailureKind.TIMEOUT and timeout else \
        failure_words(Failure(kind, ""))
    return SourceError(kind, f"BMC: {head}" + (f" {detail}" if detail else ""))


class RedfishPowerSource(AsyncSource):
    keeps_connection = True

    def __init__(self, spec: TargetSpec, host: HostEntry, bmc: BmcConfig,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(spec)
        self.host, self.bmc = host, bmc
        self._transport = transport  # tests only: a mock transport in place of the network
        self._client: httpx.AsyncClient | None = None
        self._system_path: str | None = None

    def _verify(self) -> ssl.SSLContext | bool:
        if self.bmc.insecure:
            return False
        return tls_context(self.bmc.ca_file)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            assert self.bmc.url, "a Redfish BMC without its url (the config validation requires one)"
            password = self.bmc.password.reveal() if self.bmc.password else None
            self._client = httpx.AsyncClient(
                base_url=self.bmc.url.rstrip("/"),
                auth=(self.bmc.user, password) if password is not None else None,
                verify=self._verify(),
                timeout=http_timeout(self.spec.timeout),
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                headers={"Accept": "application/json", "OData-Version": "4.0"},
                follow_redirects=True,  # httpx drops the credentials on a redirect to another host
                transport=self._transport,
            )
        return self._client

    async def poll(self) -> dict[str, Any]:
        try:
            return await self._poll()
        except BaseException:
            await self.aclose()  # a half-read keep-alive connection must not poison the next poll
            raise

    async def _poll(self) -> dict[str, Any]:
        if self._system_path is not None:
            system = await self._get(self._system_path)
            if system is not None:
                return {"via": "redfish", "system": _keep(system)}
            self._system_path = None  # gone (404): the BMC changed; look it up again
        members = await self._members()
        found = await self._find(members)
        if found is None:
            return {"via": "redfish", "system": None, "wanted": self.bmc.system or "", "members": members}
        self._system_path, system = found
        return {"via": "redfish", "system": _keep(system)}

    async def _members(self) -> list[str]:
        root = await self._get(SERVICE_ROOT)
        if root is None:
            raise bmc_failure(FailureKind.NOT_FOUND, f"no Redfish service at {self.bmc.url}{SERVICE_ROOT}")
        systems = _link(root.get("Systems"))
        if systems is None:
            raise bmc_failure(FailureKind.GARBLED, "the Redfish service root has no Systems collection")
        collection = await self._get(systems)
        if collection is None:
            raise bmc_failure(FailureKind.NOT_FOUND, f"no Systems collection at {systems}")
        members = collection.get("Members")
        if not isinstance(members, list):
            raise bmc_failure(FailureKind.GARBLED, "the Systems collection has no Members list")
        return [m for m in (_link(x) for x in members) if m]

    async def _find(self, members: list[str]) -> tuple[str, dict] | None:
        wanted = self.bmc.system
        if not wanted:
            if len(members) != 1:
                return None  # none, or several: the config must say which
            system = await self._get(members[0])
            return (members[0], system) if system is not None else None
        for path in members:  # the usual case: the configured name is the Id, the last path segment
            if path.rstrip("/").rsplit("/", 1)[-1] == wanted:
                system = await self._get(path)
                return (path, system) if system is not None else None
        for path in members[:MAX_MEMBERS_READ]:
            system = await self._get(path)
            if system is not None and wanted in (system.get("Id"), system.get("Name"), system.get("UUID")):
                return path, system
        return None

    async def _get(self, path: str) -> dict | None:
        """GET a Redfish resource: its JSON object, or None on 404; any other failure raises."""
        response = await self._http().get(path)
        status = response.status_code
        if status == 404:
            return None
        if status == 401:
            raise bmc_failure(FailureKind.AUTH, f"(HTTP 401 for user {self.bmc.user!r})")
        if status == 403:
            raise bmc_failure(FailureKind.FORBIDDEN, f"(HTTP 403 on {path}: the account needs a read-only role)")
        if status >= 400:
            raise bmc_failure(FailureKind.HTTP, f"{status} on {path}")
        try:
            body = response.json()
        except ValueError:
            raise bmc_failure(FailureKind.GARBLED, f"{path} is not JSON: is this a Redfish service?") from None
        if not isinstance(body, dict):
            raise bmc_failure(FailureKind.GARBLED, f"{path} is not a JSON object")
        return body

    def classify(self, exc: BaseException) -> Failure:
        if isinstance(exc, SourceError):
            return Failure(exc.kind, redact(str(exc)))
        failure = classify_http(exc, self.spec.timeout)
        if failure.kind == FailureKind.TIMEOUT:
            exc = bmc_failure(FailureKind.TIMEOUT, f"({self.bmc.url})", self.spec.timeout)
        elif failure.kind in (FailureKind.REFUSED, FailureKind.UNREACHABLE):
            exc = bmc_failure(failure.kind, f"({self.bmc.url})")
        else:
            exc = bmc_failure(failure.kind, f"({failure.message})")
        return Failure(exc.kind, redact(str(exc)))

    def failure(self, exc: BaseException) -> Failure:
        return self.classify(exc)  # keeps the "BMC: " wording (the base class rewrites timeouts)

    def close(self) -> None:
        """The feed closes sources synchronously: close the client on the loop if there is one (its socket
        goes with the process otherwise)."""
        client, self._client = self._client, None
        close_soon(client)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail; it is gone either way
                pass


def _link(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("@odata.id"), str):
        return value["@odata.id"]
    return None


def _keep(system: dict) -> dict:
    kept = {k: system[k] for k in SYSTEM_FIELDS if k in system}
    if isinstance(kept.get("Status"), dict):
        kept["Status"] = {k: v for k, v in kept["Status"].items() if k in ("Health", "State")}
    return kept
