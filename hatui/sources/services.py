"""Compute and network services: nova ``GET /os-services`` and neutron ``GET /v2.0/agents``.

Both go through the cloud's keystoneauth session (token, catalog lookup of the endpoint for the
configured interface and region, TLS settings), with the section's timeout on every request. The
token is the one the keystone source keeps: while Keystone is down these still work until the token
expires, as they do for nova itself (keystonemiddleware caches validated tokens).

What a reader sees with default policies (lab, tests/lab/openstack.py): nova answers 403, neutron
answers 200 with an EMPTY agent list. Both are reported as "not allowed", never as a healthy empty
table. The HTTP ``Date`` header is kept: heartbeat ages are measured on the server's clock, so a
jump host with a skewed clock does not make healthy services look late.
"""
from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

from keystoneauth1 import exceptions as ks_exc

from hatui.model import Failure, FailureKind
from hatui.schedule import TargetSpec
from hatui.sources.base import BlockingSource, SourceError, kept_failed_too
from hatui.sources.keystone import CloudSession, classify_openstack, retry_stale

# Microversion 2.11 adds forced_down; 2.53 gives service ids as UUIDs (stable across cells).
NOVA_MICROVERSION = "compute 2.53"
NOVA_FIELDS = ("binary", "host", "zone", "status", "state", "updated_at", "forced_down", "disabled_reason")
AGENT_FIELDS = ("binary", "host", "agent_type", "alive", "admin_state_up", "heartbeat_timestamp",
                "availability_zone")

NOVA_NEEDS = ("needs the policy os_compute_api:os-services:list: role admin, or a reader with the "
              "one-line policy override (README, OpenStack)")
NEUTRON_NEEDS = ("neutron returns an empty agent list to this account (roles: {roles}): needs role admin, "
                 "or a reader with the policy override get_agent (README, OpenStack)")


class ServicesSource(BlockingSource):
    """One service list: ``nova`` (os-services) or ``neutron`` (agents)."""

    keeps_connection = True  # renew: new connections (the keystone source renews the shared login)

    def __init__(self, spec: TargetSpec, cloud: CloudSession, which: str) -> None:
        super().__init__(spec)
        self.cloud, self.which = cloud, which
        self.session = cloud.new_session()

    def _get(self, service_type: str, path: str, headers: dict[str, str] | None = None):
        flt = {"service_type": service_type, "interface": self.cloud.interface}
        if self.cloud.region_name:
            flt["region_name"] = self.cloud.region_name
        for attempt in (0, 1):
            try:
                resp = retry_stale(lambda: self.session.get(path, endpoint_filter=flt, headers=headers or {},
                                                            raise_exc=False))
            except ks_exc.EndpointNotFound:
                where = ", ".join(str(v) for k, v in flt.items() if k != "service_type")
                raise SourceError(FailureKind.NOT_FOUND,
                                  f"no {service_type} endpoint ({where}) in the catalog") from None
            if resp.status_code == 401 and attempt == 0:
                self.cloud.auth.invalidate()  # token revoked or expired early: log in again, once
                continue
            return resp
        return resp

    def _token(self) -> None:
        """The shared token (logging in if needed): a Keystone failure is worded as Keystone's, not nova's.
        It is the kept token's failure whichever poll meets it (a renewed poll renews the connections to nova
        or neutron, not the login: the keystone source does), never a new client turned away."""
        try:
            self.cloud.access(self.session)
        except Exception as exc:  # noqa: BLE001 - classified below, whatever keystoneauth raised
            f = classify_openstack(exc, "Keystone", self.cloud.timeout)
            raise kept_failed_too(SourceError(f.kind, f"no token from Keystone ({f.message})")) from None

    def poll(self) -> dict[str, Any]:
        self._token()
        if self.which == "nova":
            resp = self._get("compute", "/os-services", {"OpenStack-API-Version": NOVA_MICROVERSION,
                                                         "X-OpenStack-Nova-API-Version": NOVA_MICROVERSION.split()[1]})
            return nova_answer(resp.status_code, resp.headers.get("Date"), _json(resp))
        resp = self._get("network", "/v2.0/agents?" + "&".join(f"fields={f}" for f in AGENT_FIELDS))
        body = _json(resp)
        # With default policies a reader gets 200 and an empty list (the agents are filtered out, not
        # absent): the roles say whether an empty list can be believed.
        empty = resp.status_code == 200 and isinstance(body, dict) and body.get("agents") == []
        roles = self.cloud.roles(self.session) if empty else None
        return neutron_answer(resp.status_code, resp.headers.get("Date"), body, roles)

    def classify(self, exc: BaseException) -> Failure:
        return classify_openstack(exc, self.which, self.cloud.timeout)

    def failure(self, exc: BaseException) -> Failure:
        if isinstance(exc, SourceError):
            return self.classify(exc)  # already worded ("no token from Keystone (no answer within 2 s)")
        return super().failure(exc)

    def close(self) -> None:
        self.session.session.close()


def nova_answer(status: int, date: str | None, body: Any) -> dict[str, Any]:
    """``GET /os-services`` answer -> the fields hatui reads, or SourceError (403: what is needed)."""
    if status == 403:
        raise SourceError(FailureKind.FORBIDDEN, NOVA_NEEDS)
    rows = _rows(status, body, "services", "nova os-services")
    return {"services": [{k: r.get(k) for k in NOVA_FIELDS} for r in rows], "server_time": _date(date)}


def neutron_answer(status: int, date: str | None, body: Any, roles: list[str] | None) -> dict[str, Any]:
    """``GET /v2.0/agents`` answer -> the fields hatui reads. An empty list for an account without the
    admin role is policy filtering, reported as not allowed (``roles``: the token's roles)."""
    if status == 403:
        raise SourceError(FailureKind.FORBIDDEN, NEUTRON_NEEDS.format(roles="?"))
    rows = _rows(status, body, "agents", "neutron agents")
    if not rows and roles is not None and "admin" not in roles:
        raise SourceError(FailureKind.FORBIDDEN, NEUTRON_NEEDS.format(roles=", ".join(roles) or "none"))
    return {"agents": [{k: r.get(k) for k in AGENT_FIELDS} for r in rows], "server_time": _date(date)}


def _json(resp) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _rows(status: int, body: Any, key: str, what: str) -> list[dict[str, Any]]:
    if status >= 400:
        raise SourceError(FailureKind.HTTP, f"{what}: HTTP {status}")
    rows = body.get(key) if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise SourceError(FailureKind.GARBLED, f"{what}: the answer has no '{key}' list")
    return rows


def _date(value: str | None) -> float | None:
    """The server's clock (HTTP Date header), epoch seconds."""
    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None
