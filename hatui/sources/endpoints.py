"""API endpoints: every URL of the catalog, plus extra URLs from the config, probed in one round.

Why one target for the whole catalog: targets are fixed when the config is read (hatui/schedule.py),
while the catalog is only known once Keystone answers, and may change. So the round is one target
whose answer holds one result per endpoint; rules judge each endpoint on its own and the pane shows
one row per endpoint. Probes run concurrently (httpx.AsyncClient, explicit connect/read/write/pool
timeouts), so a hanging endpoint costs the round one timeout and delays no other endpoint.

Each URL gets an unauthenticated ``GET`` of its version document (no token is ever sent): status,
latency, the version ids found, TLS verification and days until the certificate expires. A URL shared
by several interfaces (public = internal = admin is common) is probed once.

The catalog is the one the keystone source keeps (or the on-disk cache from an earlier run): when
Keystone is down, the endpoints are still probed from it. The auth URL is probed in the same round, so
the rules can tell "Keystone is down" from "one identity endpoint is down" on one consistent round.
"""
from __future__ import annotations

import asyncio
import json
import ssl
import time
from typing import Any

import httpx

from hatui.config.openstack import OpenStackSection
from hatui.model import Failure
from hatui.schedule import TargetSpec
from hatui.sources.base import AsyncSource
from hatui.sources.http import classify_http, disconnected, http_timeout, ssl_context
from hatui.sources.keystone import CloudSession

BODY_LIMIT = 64 * 1024  # a version document is ~1 KB; never read a huge page whole


def tls_facts(resp: httpx.Response, verified: bool) -> dict[str, Any] | None:
    """Verification and days until the server certificate expires (None for plain HTTP)."""
    stream = resp.extensions.get("network_stream")
    sslobj = stream.get_extra_info("ssl_object") if stream is not None else None
    if sslobj is None:
        return None
    not_after: float | None = None
    info = sslobj.getpeercert()  # a dict only when verified
    if info and info.get("notAfter"):
        not_after = ssl.cert_time_to_seconds(info["notAfter"])
    else:
        der = sslobj.getpeercert(binary_form=True)
        if der:
            from cryptography import x509  # openstacksdk's dependency; only needed with insecure = true

            not_after = x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()
    days = None if not_after is None else round((not_after - time.time()) / 86400, 1)
    return {"verified": verified, "days_left": days}


def version_ids(body: bytes) -> list[str] | None:
    """Version ids in an OpenStack version document (``version`` or ``versions``), or None if the body
    is not one (HTML, an error page, another server)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("version"), dict):
        return [str(doc["version"].get("id"))]
    versions = doc.get("versions")
    if isinstance(versions, dict):  # keystone: {"versions": {"values": [...]}}
        versions = versions.get("values")
    if isinstance(versions, list):
        return [str(v.get("id")) for v in versions if isinstance(v, dict)]
    return None


async def probe(client: httpx.AsyncClient, url: str, timeout: float, verified: bool) -> dict[str, Any]:
    """One unauthenticated GET of a version document: what it answered, how fast, with which TLS."""
    t0 = time.monotonic()
    out: dict[str, Any] = {"status": None, "latency": None, "versions": None, "content_type": None,
                           "location": None, "tls": None, "error": None}
    try:
        # The client's timeouts end a hang first; this only bounds a server that trickles bytes.
        async with asyncio.timeout(3 * timeout):
            try:
                resp, body = await _get(client, url, out, verified)
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if not disconnected(exc):
                    raise
                # a kept-alive connection closed under us (a backend died behind a load balancer): the
                # answer worth reporting is the one on a fresh connection
                resp, body = await _get(client, url, out, verified)
        out["status"] = resp.status_code
        out["content_type"] = resp.headers.get("content-type", "").split(";")[0].strip() or None
        if 300 < resp.status_code < 400:
            out["location"] = resp.headers.get("location")
        out["versions"] = version_ids(body)
    except Exception as exc:  # noqa: BLE001 - every failure of one endpoint is that endpoint's result
        out["error"] = classify_http(exc, timeout).to_json()
    out["latency"] = round(time.monotonic() - t0, 4)
    return out


async def _get(client: httpx.AsyncClient, url: str, out: dict[str, Any],
               verified: bool) -> tuple[httpx.Response, bytes]:
    async with client.stream("GET", url, headers={"Accept": "application/json"}) as resp:
        out["tls"] = tls_facts(resp, verified)
        body = b""
        async for chunk in resp.aiter_bytes():
            body += chunk
            if len(body) > BODY_LIMIT:
                break
    return resp, body


def catalog_groups(catalog: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (service type, region, URL), with the interfaces that share that URL."""
    order = {"public": 0, "internal": 1, "admin": 2}
    groups: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    for svc in catalog:
        for ep in svc.get("endpoints") or []:
            if not ep.get("url"):
                continue
            key = (svc.get("type") or "?", ep.get("region"), ep["url"])
            g = groups.setdefault(key, {"service": key[0], "name": svc.get("name"), "region": key[1],
                                        "url": key[2], "interfaces": [], "extra": False})
            if ep.get("interface") not in g["interfaces"]:
                g["interfaces"].append(ep.get("interface"))
    for g in groups.values():
        g["interfaces"].sort(key=lambda i: order.get(i, 9))
    return sorted(groups.values(), key=lambda g: (g["service"], g["region"] or "", order.get(g["interfaces"][0], 9)))


class EndpointsSource(AsyncSource):
    keeps_connection = True

    def __init__(self, spec: TargetSpec, section: OpenStackSection, cloud: CloudSession) -> None:
        super().__init__(spec)
        self.section, self.cloud = section, cloud
        self.timeout = section.timeout  # per request; spec.timeout is the whole round's budget
        self.verified = cloud.verify is not False
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:  # a client belongs to one event loop
            self._client = httpx.AsyncClient(verify=ssl_context(self.cloud.verify, self.cloud.cert),
                                             timeout=http_timeout(self.timeout), follow_redirects=False,
                                             headers={"User-Agent": "hatui"})
            self._loop = loop
        return self._client

    async def _catalog(self) -> tuple[list[dict[str, Any]] | None, float | None, str | None]:
        # At start (and in `check`) the keystone source is fetching the catalog right now: wait for
        # its first answer, at most one request timeout.
        deadline = time.monotonic() + self.timeout
        while not self.cloud.first_answer.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.cloud.catalog()

    async def poll(self) -> dict[str, Any]:
        catalog, at, origin = await self._catalog()
        entries = catalog_groups(catalog or [])
        entries += [{"service": None, "name": e.name, "region": None, "url": e.url, "interfaces": [], "extra": True}
                    for e in self.section.endpoints]
        auth_url = str(getattr(self.cloud.auth, "auth_url", "") or "")
        client = self._http()
        urls = list(dict.fromkeys([e["url"] for e in entries] + ([auth_url] if auth_url else [])))
        results = await asyncio.gather(*(probe(client, u, self.timeout, self.verified) for u in urls))
        by_url = dict(zip(urls, results, strict=True))
        return {
            "catalog": {"from": origin, "at": at, "region": self.cloud.region_name,
                        "interface": self.cloud.interface},
            "endpoints": [{**e, **by_url[e["url"]]} for e in entries],
            # Keystone's own URL, probed in the same round: when it fails too, an identity URL that fails
            # is Keystone being down (one finding, keystone.unreachable), not a separate endpoint problem
            "auth": {"url": auth_url, **by_url[auth_url]} if auth_url else None,
        }

    def classify(self, exc: BaseException) -> Failure:
        return classify_http(exc, self.timeout)

    async def aclose(self) -> None:
        client, self._client = self._client, None  # the next poll makes a new one (arenew)
        if client is not None:
            await client.aclose()
