"""Keystone's answer: who the token is for, its scope and roles, and the catalog it carries.

Parsed from the keystone source's data (``GET /v3/auth/tokens`` on the token itself, trimmed by
``hatui.sources.keystone.token_data``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hatui.model.observation import Garbled, Observation


class KeystoneGarbled(Garbled):
    """The answer is not a Keystone token."""


@dataclass(frozen=True, slots=True)
class CatalogEndpoint:
    service_type: str
    service_name: str
    interface: str
    region: str | None
    url: str


@dataclass(frozen=True, slots=True)
class TokenInfo:
    auth_url: str
    user: str
    scope: str                     # "project x", "system", "domain x", "unscoped"
    roles: tuple[str, ...]
    expires_at: float | None       # epoch seconds
    catalog: tuple[CatalogEndpoint, ...]

    @property
    def service_types(self) -> tuple[str, ...]:
        return tuple(sorted({e.service_type for e in self.catalog}))


def _epoch(value: Any) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except (ValueError, OverflowError, OSError):  # not a time, or one no clock can hold
        raise KeystoneGarbled(f"expires_at is not a time: {str(value)[:40]!r}") from None


def parse_catalog(raw: Any) -> tuple[CatalogEndpoint, ...]:
    if not isinstance(raw, list):
        raise KeystoneGarbled("the catalog is not a list")
    out = []
    for svc in raw:
        if not isinstance(svc, Mapping) or not isinstance(svc.get("endpoints"), list):
            raise KeystoneGarbled("a catalog entry has no endpoint list")
        for ep in svc["endpoints"]:
            if not isinstance(ep, Mapping) or not ep.get("url"):
                raise KeystoneGarbled(f"an endpoint of {svc.get('type')} has no URL")
            region = ep.get("region")
            out.append(CatalogEndpoint(str(svc.get("type") or "?"), str(svc.get("name") or ""),
                                       str(ep.get("interface") or "?"), None if region is None else str(region),
                                       str(ep["url"])))
    return tuple(out)


def parse_token(data: Mapping[str, Any]) -> TokenInfo:
    if "roles" not in data or "catalog" not in data:
        raise KeystoneGarbled("no roles or catalog in the token")
    if not isinstance(data["roles"], list | None):
        raise KeystoneGarbled(f"the token's roles are not a list: {str(data['roles'])[:40]!r}")
    return TokenInfo(
        auth_url=str(data.get("auth_url") or ""),
        user=str(data.get("user") or "?"),
        scope=str(data.get("scope") or "unscoped"),
        roles=tuple(str(r) for r in data.get("roles") or ()),
        expires_at=_epoch(data.get("expires_at")),
        catalog=parse_catalog(data["catalog"]),
    )


def token_of(obs: Observation, section: Any) -> TokenInfo:
    """The keystone source's parser (hatui.areas)."""
    return parse_token(obs.data)
