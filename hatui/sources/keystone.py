"""Keystone: the cloud's token and catalog, through the same keystoneauth1 plugin the CLI uses.

``CloudSession`` holds what one cloud's sources share: the auth plugin built by openstacksdk's loader
(one token for all of them), the verify/cert settings, region and interface, and the last catalog.
Each source gets its own keystoneauth ``Session`` (its own connection pool, so a frozen connection in
one thread holds nobody else), all with the section's timeout: keystoneauth hands a float timeout to
requests, which applies it to the connect and to every read.

``KeystoneSource`` polls ``GET /v3/auth/tokens`` on its own token (authenticating first when there is
no valid token): Keystone must answer, decrypt the token and read the catalog and roles from its
database. Cheaper than a password login each time (bcrypt: ~280 ms of Keystone CPU at the default
cost, lab measurement), and a reader may validate its own token (policy ``identity:validate_token``).
The catalog it returns is kept (and cached on disk) so endpoints are still probed while Keystone is
down.
"""
from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import plugin as ks_plugin
from keystoneauth1 import session as ks_session

from hatui import __version__
from hatui.config.openstack import OpenStackSection
from hatui.model import Failure, FailureKind
from hatui.schedule import TargetSpec
from hatui.secrets import Secret, forget, redact
from hatui.sources.base import BlockingSource, SourceError, classify_exception, kept_failed_too

# keystoneauth logs discovery fallbacks and urllib3 warns about unverified TLS on stderr, which would
# scribble over the TUI; failures reach the operator as observations, `insecure` on the status bar.
logging.getLogger("keystoneauth").addHandler(logging.NullHandler())
logging.getLogger("keystoneauth").propagate = False
warnings.filterwarnings("ignore", message="Unverified HTTPS request")


CACHE_REFRESH = 300.0  # seconds between rewrites of an unchanged cached catalog


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hatui"


class CloudSession:
    """One cloud as its sources share it: auth plugin, TLS settings, region, interface, last catalog."""

    def __init__(self, section: OpenStackSection) -> None:
        region = section.cloud_region
        self.section = section
        self.auth = region.get_auth()
        self.verify, self.cert = region.get_requests_verify_args()
        self.interface = _one(region.get_interface()) or "public"
        self.region_name = region.region_name or None
        self.timeout = section.timeout
        self._lock = threading.Lock()
        self._login_lock = threading.Lock()
        self._login_failed: tuple[float, Failure] | None = None  # (monotonic time, how) of the last failed login
        self._catalog: list[dict[str, Any]] | None = None
        self.catalog_at: float | None = None
        self.catalog_from: str | None = None
        self._saved_at = 0.0
        self.first_answer = threading.Event()  # the keystone source has tried once (either way)
        self.cache_path = cache_dir() / f"catalog-{_safe(section.label)}.json" if section.catalog_cache else None
        self._load_cache()

    def new_session(self) -> ks_session.Session:
        return ks_session.Session(auth=self.auth, verify=self.verify, cert=self.cert, timeout=self.timeout,
                                  user_agent=f"hatui/{__version__}")

    def catalog(self) -> tuple[list[dict[str, Any]] | None, float | None, str | None]:
        with self._lock:
            return self._catalog, self.catalog_at, self.catalog_from

    def keep_catalog(self, catalog: list[dict[str, Any]], at: float) -> None:
        with self._lock:
            # on disk when it changes, and now and then so its age says when Keystone last confirmed it
            save = catalog != self._catalog or at - self._saved_at > CACHE_REFRESH
            self._catalog, self.catalog_at, self.catalog_from = catalog, at, "keystone"
            if save:
                self._saved_at = at
        if save:
            self._save_cache(catalog, at)

    def access(self, session: ks_session.Session) -> Any:
        """The shared token, logging in if there is none. A login that failed while this caller waited
        for it is this caller's answer too: a dead Keystone costs one timeout per round, not one per
        source in turn (the auth plugin serialises logins)."""
        asked = time.monotonic()
        with self._login_lock:
            failed = self._login_failed
            if failed is not None and failed[0] >= asked:
                raise SourceError(failed[1].kind, failed[1].message)
            try:
                access = self.auth.get_access(session)
            except Exception as exc:
                self._login_failed = (time.monotonic(), classify_openstack(exc, "Keystone", self.timeout))
                raise
            self._login_failed = None
            return access

    def login(self, session: ks_session.Session) -> None:
        """A new login, what a new client sees (a changed password, a disabled account). The kept token is
        replaced only once it succeeds: while logins fail, the services go on with it, as nova does."""
        with self._login_lock:
            get_auth_ref = getattr(self.auth, "get_auth_ref", None)
            if get_auth_ref is None:  # not an identity plugin: it cannot log in apart from its token
                self.auth.invalidate()
                return
            self.auth.auth_ref = get_auth_ref(session)

    def roles(self, session: ks_session.Session) -> list[str]:
        return list(self.access(session).role_names or [])

    def _load_cache(self) -> None:
        if self.cache_path is None:
            return
        try:
            doc = json.loads(self.cache_path.read_text())
            self._catalog, self.catalog_at, self.catalog_from = trim_catalog(doc["catalog"]), float(doc["saved_at"]), \
                "cache"
        except (OSError, ValueError, KeyError, TypeError, SourceError):
            pass  # no usable cache: wait for Keystone

    def _save_cache(self, catalog: list[dict[str, Any]], at: float) -> None:
        if self.cache_path is None:
            return
        try:  # URLs and service names only: never a token or a password
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"saved_at": at, "catalog": catalog}))
            tmp.replace(self.cache_path)
        except OSError:
            pass  # a read-only home: the catalog is still kept in memory


def _one(value: Any) -> str | None:
    return value[0] if isinstance(value, list) and value else value


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _objects(raw: Any, what: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise SourceError(FailureKind.GARBLED, f"not a Keystone token: {what} is not a list of objects")
    return raw


def trim_catalog(raw: Any) -> list[dict[str, Any]]:
    """The token's catalog with only what hatui reads: type, name and (interface, region, url), as text."""
    out = []
    for svc in _objects(raw, "the catalog"):
        eps = [{"interface": _text(ep.get("interface")), "region": _text(ep.get("region_id") or ep.get("region")),
                "url": _text(ep.get("url"))} for ep in _objects(svc.get("endpoints"), "a service's endpoints")]
        out.append({"type": _text(svc.get("type")), "name": _text(svc.get("name")), "endpoints": eps})
    return out


def token_data(auth_url: str, body: Any) -> dict[str, Any]:
    """A token document (``POST`` or ``GET /v3/auth/tokens``) -> what hatui reads of it."""
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, dict):
        raise SourceError(FailureKind.GARBLED, f"{auth_url}/auth/tokens did not return a token")
    return {
        "auth_url": auth_url,
        "user": _text(_name(token.get("user"))),
        "scope": _scope(token),
        "roles": sorted(str(r.get("name", "")) for r in _objects(token.get("roles"), "its roles")),
        "expires_at": token.get("expires_at"),
        "catalog": trim_catalog(token.get("catalog")),
    }


def _name(value: Any) -> Any:
    return value.get("name") if isinstance(value, dict) else value


def _scope(token: dict[str, Any]) -> str:
    if token.get("project"):
        return f"project {_name(token['project'])}"
    if token.get("system"):
        return "system"
    if token.get("domain"):
        return f"domain {_name(token['domain'])}"
    return "unscoped"


class KeystoneSource(BlockingSource):
    keeps_connection = True

    def __init__(self, spec: TargetSpec, cloud: CloudSession) -> None:
        super().__init__(spec)
        self.cloud = cloud
        self.session = cloud.new_session()
        self.auth_url = str(getattr(cloud.auth, "auth_url", ""))
        self._token: str | None = None
        self._tokens: list[tuple[float, str]] = []  # (expires, token) registered for redaction until expired
        self._renew = False

    def poll(self) -> dict[str, Any]:
        try:
            renew, self._renew = self._renew, False
            if renew:
                try:
                    self.cloud.login(self.session)
                except Exception as exc:
                    if self._kept_token_revoked(exc):
                        kept_failed_too(exc)
                    raise
            return self._validate(retry=True)
        finally:
            self.cloud.first_answer.set()

    def _kept_token_revoked(self, login_failure: BaseException) -> bool:
        """After Keystone refused a new login: whether it also revoked the kept token. A password changed (or
        the user disabled) through Keystone's API revokes the user's tokens: nova and neutron may go on
        accepting one for minutes from their token caches, but hatui drops it (the services are not read with
        a revoked token) and says so plainly, as when its next validation had found it revoked. A password
        changed where Keystone records no revocation (a directory behind it) leaves the token valid: the new
        login's failure is then a new client's, and the services go on with the kept token. Asked only when
        Keystone answered the login (a refusal): a Keystone that does not answer would cost a second timeout."""
        if classify_openstack(login_failure, "Keystone", self.cloud.timeout).kind != FailureKind.AUTH:
            return False
        token = getattr(getattr(self.cloud.auth, "auth_ref", None), "auth_token", None)
        if not token:
            return False
        try:
            url = self.cloud.auth.get_endpoint(self.session, interface=ks_plugin.AUTH_INTERFACE, version=(3, 0))
            resp = self.session.get(url.rstrip("/") + "/auth/tokens", authenticated=True,
                                    headers={"X-Subject-Token": token}, raise_exc=False)
        except Exception:  # noqa: BLE001 - no answer now: the refused login says enough
            return False
        if resp.status_code not in (401, 404):  # 404: the token is not valid (revoked); 401: nor as our own
            return False
        self.cloud.auth.invalidate()
        return True

    def _validate(self, retry: bool) -> dict[str, Any]:
        access = self.cloud.access(self.session)  # authenticates when there is no valid token
        token = access.auth_token
        if token != self._token:
            Secret(token, "keystone token")  # registered for redaction
            self._token = token
            self._remember(token, access.expires.timestamp() if access.expires else None)
        url = self.cloud.auth.get_endpoint(self.session, interface=ks_plugin.AUTH_INTERFACE, version=(3, 0))
        resp = retry_stale(lambda: self.session.get(url.rstrip("/") + "/auth/tokens", authenticated=True,
                                                    headers={"X-Subject-Token": token}, raise_exc=False))
        if resp.status_code in (401, 404) and retry:  # revoked or expired early: log in again, once
            self.cloud.auth.invalidate()
            return self._validate(retry=False)
        if resp.status_code >= 400:
            raise ks_exc.from_response(resp, "GET", url)
        try:
            body = resp.json()
        except ValueError:
            body = None
        data = token_data(self.auth_url, body)
        if data["catalog"]:
            self.cloud.keep_catalog(data["catalog"], time.time())
        return data

    def classify(self, exc: BaseException) -> Failure:
        f = classify_openstack(exc, "Keystone", self.cloud.timeout)
        _cat, at, origin = self.cloud.catalog()
        if at is not None:
            when = time.strftime("%H:%M:%S", time.localtime(at))
            kept = f"; endpoints still probed from the {'cached ' if origin == 'cache' else ''}catalog of {when}"
        else:
            kept = "; no catalog yet"
        return Failure(f.kind, f"Keystone {self.auth_url}: {f.message}{kept}")

    def failure(self, exc: BaseException) -> Failure:
        return self.classify(exc)  # its words already give the timeout, and say what goes on meanwhile

    def close(self) -> None:
        self.session.session.close()

    def renew(self) -> None:
        """New connections and a new login (CloudSession.login), then the token is validated as usual."""
        self.close()
        self._renew = self._token is not None  # the first poll logs in anyway (or a services poll did)

    def _remember(self, token: str, expires: float | None) -> None:
        """A login per fresh_every is a token per minute: each is redacted until it expires, then forgotten."""
        now = time.time()
        for at, old in self._tokens:
            if at < now:
                forget(old)
        self._tokens = [(at, t) for at, t in self._tokens if at >= now]
        self._tokens.append((expires if expires is not None else now + 86400, token))


def _stale(exc: BaseException) -> bool:
    """The server (or the load balancer) closed a kept-alive connection without answering."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, http.client.RemoteDisconnected | ConnectionResetError | ConnectionAbortedError):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def retry_stale(call: Callable[[], Any]) -> Any:
    """``call()``, once more on a fresh connection if a kept one was closed under it: when a backend
    dies, HAProxy closes its client connections, and the answer worth reporting is the next one (a 503,
    a refusal), not "connection aborted". A retry after a timeout would double the wait: never."""
    try:
        return call()
    except ks_exc.ConnectFailure as exc:
        if not _stale(exc):
            raise
    return call()


def classify_openstack(exc: BaseException, what: str, timeout: float) -> Failure:
    """keystoneauth exceptions -> what an operator reads (what: 'Keystone', 'nova', ...)."""
    if isinstance(exc, SourceError):
        return Failure(exc.kind, redact(str(exc)))
    if isinstance(exc, ks_exc.Unauthorized):
        return Failure(FailureKind.AUTH, f"credentials refused by {what} (401)")
    if isinstance(exc, ks_exc.Forbidden):
        return Failure(FailureKind.FORBIDDEN, f"{what} says 403")
    if isinstance(exc, ks_exc.ConnectTimeout):
        return Failure(FailureKind.TIMEOUT, f"no answer within {timeout:g} s")
    if isinstance(exc, ks_exc.SSLError):
        return Failure(FailureKind.TLS, redact(f"TLS: {_tail(exc)}"))
    if isinstance(exc, ks_exc.HttpError):
        return Failure(FailureKind.HTTP, f"HTTP {exc.http_status} from {what}")
    if isinstance(exc, ks_exc.EndpointNotFound):
        return Failure(FailureKind.NOT_FOUND, redact(str(exc)))
    if _stale(exc):
        return Failure(FailureKind.REFUSED, "connection closed without an answer")
    generic = classify_exception(exc)
    if generic.kind != FailureKind.ERROR:
        return generic
    if isinstance(exc, ks_exc.ClientException):
        return Failure(FailureKind.ERROR, redact(str(exc))[:300])
    return generic


def _tail(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("SSLError(", "SSLCertVerificationError("):
        if marker in text:
            return text[text.index(marker):][:200]
    return text[:200]
