"""API endpoint probes: one unauthenticated GET of each URL's version document, parsed.

The endpoint source's data (hatui/sources/endpoints.py) is ``{"catalog": {from, at, region,
interface}, "endpoints": [{service, name, region, url, interfaces, extra, status, latency, versions,
content_type, location, tls, error}]}``. Each endpoint gets a subject, stable while the catalog is:
the service type (``compute``), with the interfaces when that service has several URLs in one region
(``compute/public``, ``compute/internal+admin``), and ``@region`` for another region than the cloud's.
Extra URLs from the config keep their configured name.

What the lab's services answer (tests/fixtures/openstack/versions): ``/`` of keystone and glance 300
Multiple Choices, nova ``/v2.1``, placement and neutron ``/`` 200, all JSON with ``version`` or
``versions``. A 401/403 means the server is up and wants a token (e.g. swift's /v1/AUTH_... URLs).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hatui.model.observation import Failure, Garbled, Observation, finite


class EndpointsGarbled(Garbled):
    """The endpoint round's data is not what the endpoint source produces."""


# states of one endpoint
OK, DOWN, WRONG_CONTENT, UNEXPECTED = "ok", "down", "wrong_content", "unexpected_status"


@dataclass(frozen=True, slots=True)
class EndpointProbe:
    subject: str
    service: str | None        # catalog service type; None for an extra URL
    name: str                  # catalog service name, or the extra URL's configured name
    interfaces: tuple[str, ...]
    region: str | None
    url: str
    extra: bool
    status: int | None
    latency: float | None
    versions: tuple[str, ...] | None
    content_type: str | None
    location: str | None
    tls_verified: bool | None  # None: plain HTTP
    cert_days: float | None
    error: Failure | None

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc or self.url

    @property
    def state(self) -> str:
        if self.error is not None or self.status is None or self.status >= 500:
            return DOWN
        if self.status in (401, 403):
            return OK  # up, and asks for a token: that is all an unauthenticated probe can see
        if 200 <= self.status < 300 or self.status == 300:
            return OK if self.versions else WRONG_CONTENT
        return UNEXPECTED

    @property
    def reason(self) -> str:
        """Why the state is not OK, in words (empty when OK)."""
        from hatui.words import failure_words

        state = self.state
        if state == DOWN:
            return failure_words(self.error) if self.error else f"HTTP {self.status}"
        if state == WRONG_CONTENT:
            what = self.content_type or "no content type"
            return f"HTTP {self.status} with {what}: not an OpenStack version document (another server?)"
        if state == UNEXPECTED:
            if self.location:
                return f"HTTP {self.status}: redirects to {self.location}"
            return f"HTTP {self.status}: no version document at this URL"
        return ""

    @property
    def what(self) -> str:
        """The service as an operator names it: 'compute (nova)', 'image (glance) RegionTwo', or the extra
        URL's configured name."""
        if self.extra:
            return self.name
        svc = f"{self.service} ({self.name})" if self.name and self.name != self.service else str(self.service)
        return svc + (f" {self.region}" if "@" in self.subject else "")

    @property
    def label(self) -> str:
        """``what`` with the interfaces sharing this URL: 'compute (nova) public+internal+admin'."""
        return self.what if self.extra else f"{self.what} {'+'.join(self.interfaces)}"


@dataclass(frozen=True, slots=True)
class EndpointRound:
    catalog_from: str | None   # "keystone", "cache" or None (no catalog yet)
    catalog_at: float | None
    region: str | None
    interface: str | None
    probes: tuple[EndpointProbe, ...]
    auth: EndpointProbe | None = None  # Keystone's auth URL, probed in the same round

    def keystone_side(self, p: EndpointProbe) -> bool:
        """An identity endpoint, or one on the auth URL's host and port: Keystone itself."""
        if p.service == "identity":
            return True
        return self.auth is not None and urlsplit(p.url)[:2] == urlsplit(self.auth.url)[:2]


def _subjects(entries: list[Mapping[str, Any]], region: str | None) -> list[str]:
    per_service = Counter((e.get("service"), e.get("region")) for e in entries if not e.get("extra"))
    regions = {e.get("region") for e in entries if not e.get("extra")}
    out = []
    for e in entries:
        if e.get("extra"):
            out.append(str(e.get("name")))
            continue
        subject = str(e.get("service"))
        if per_service[(e.get("service"), e.get("region"))] > 1:
            subject += "/" + "+".join(e.get("interfaces") or ["?"])
        other = e.get("region") != region if region else len(regions) > 1
        if e.get("region") and other:
            subject += f"@{e['region']}"
        out.append(subject)
    return out


def _typed(e: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """``e[key]`` if it is None or of ``kind`` (never a bool for a number, never NaN), else EndpointsGarbled."""
    v = e.get(key)
    if v is None:
        return None
    number = kind == (int, float) or kind is int
    if not isinstance(v, kind) or (isinstance(v, bool) and kind is not bool) or (number and not finite(v)):
        raise EndpointsGarbled(f"{key} of {str(e.get('url'))[:60]} is {str(v)[:40]!r}")
    return v


def _probe(e: Mapping[str, Any], subject: str) -> EndpointProbe:
    if not isinstance(e, Mapping) or not isinstance(e.get("url"), str):
        raise EndpointsGarbled("an endpoint without URL")
    tls = _typed(e, "tls", Mapping) or {}
    err = e.get("error")
    versions = _typed(e, "versions", list)
    return EndpointProbe(
        subject=subject, service=_str_or_none(e.get("service")), name=str(e.get("name") or ""),
        interfaces=tuple(str(i) for i in _typed(e, "interfaces", list) or ()), region=_str_or_none(e.get("region")),
        url=e["url"], extra=bool(e.get("extra")), status=_typed(e, "status", int),
        latency=_typed(e, "latency", (int, float)),
        versions=None if versions is None else tuple(str(v) for v in versions),
        content_type=_str_or_none(e.get("content_type")), location=_str_or_none(e.get("location")),
        tls_verified=_typed(tls, "verified", bool) if tls else None,
        cert_days=_typed(tls, "days_left", (int, float)) if tls else None,
        error=Failure.from_json(err) if err else None,
    )


def _str_or_none(v: Any) -> str | None:
    return None if v is None else str(v)


def parse_endpoint_round(data: Mapping[str, Any]) -> EndpointRound:
    catalog = data.get("catalog")
    entries = data.get("endpoints")
    if not isinstance(catalog, Mapping) or not isinstance(entries, list):
        raise EndpointsGarbled("no catalog or endpoint list in the round")
    region = _str_or_none(catalog.get("region"))
    try:
        probes = tuple(_probe(e, s) for e, s in zip(entries, _subjects(entries, region), strict=True))
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise EndpointsGarbled(f"an endpoint result is malformed: {exc}") from None
    auth = data.get("auth")
    try:
        auth_probe = _probe({**auth, "name": "auth_url"}, "auth_url") if isinstance(auth, Mapping) else None
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise EndpointsGarbled(f"the auth URL's result is malformed: {exc}") from None
    try:
        at = _typed(catalog, "at", (int, float))
    except EndpointsGarbled:
        raise EndpointsGarbled(f"the catalog's time is {str(catalog.get('at'))[:40]!r}") from None
    return EndpointRound(_str_or_none(catalog.get("from")), at, region, _str_or_none(catalog.get("interface")),
                         probes, auth_probe)


def round_of(obs: Observation, section: Any) -> EndpointRound:
    """The endpoint source's parser (hatui.areas): one probe round of every catalog and extra URL."""
    return parse_endpoint_round(obs.data)
