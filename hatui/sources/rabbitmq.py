"""RabbitMQ management API: every node's own view of the cluster, over httpx (asyncio).

Each poll asks one node, concurrently: ``/api/overview`` (who answers, versions), ``/api/nodes``
(only the NODE_FIELDS columns) and the health checks its version has. A node's cluster-wide
endpoints wait for its peers: with a peer frozen, ``/api/nodes`` takes tens of seconds while the
node-local check answers in a millisecond. So:

- every request has its own connect and read timeout on the client, and a total deadline;
- the local check is the liveness probe: no answer within the timeout, the poll fails (timeout);
- once it answered, the poll reports shortly after (GRACE) with what came back; an endpoint still
  waiting is reported in ``errors`` and keeps running in the background (one per endpoint at most)
  until its own deadline, for a later poll to pick up;
- the last ``/api/nodes`` answer is sent along (``last_nodes``, with the time it came) when this
  poll has none, so the pane can show the last good values with their age.

The poll fails (raises) only when the node answered nothing at all, or refused the credentials.

The AMQP canary (source ``rabbitmq-amqp``) is in ``hatui.sources.rabbitmq_amqp``.
"""
from __future__ import annotations

import asyncio
import json
import ssl
import time
from typing import Any

import httpx

from hatui.config import Config
from hatui.config.rabbitmq import RabbitNode, RabbitSection
from hatui.model import Failure, FailureKind
from hatui.model.rabbitmq import HEALTH_CHECKS, NODE_FIELDS, OVERVIEW_FIELDS, version_tuple
from hatui.schedule import TargetSpec, target_specs
from hatui.sources.base import AsyncSource, SourceError
from hatui.sources.http import classify_http, close_soon, http_timeout
from hatui.sources.tls import tls_context

NODES_PATH = "/api/nodes?columns=" + ",".join(NODE_FIELDS)
OVERVIEW_PATH = "/api/overview?columns=" + ",".join(OVERVIEW_FIELDS)
BASE_VERSION = (3, 8, 10)  # before the first answer: only the checks every supported version has
ENDPOINTS_FIRST = ("nodes", "overview")  # the failure reported when nothing answered: nodes' first
# The node-local check answers in ~1 ms (lab) even when a peer is frozen: it says the node is alive.
PROBE = "checks/local-alarms"
# Once the probe answered, the poll waits for the other endpoints until GRACE x timeout from its start.
# Below the generic "slow" mark (half the timeout, hatui.rules.freshness): a live node whose cluster
# view is slow is reported by its own finding, steadily, instead of flapping "slow" on every poll.
GRACE = 0.3
# Cluster-wide endpoints wait for every peer: give them this many timeouts to answer, in the background.
CLUSTER_WIDE_FACTOR = 5
LOCAL_ENDPOINTS = {PROBE, "checks/alarms"}


class _Pending:
    """An endpoint still waiting for its answer when the poll reported."""

    def __init__(self, waited: float) -> None:
        self.waited = waited


class RabbitManagementSource(AsyncSource):
    keeps_connection = True

    def __init__(self, spec: TargetSpec, section: RabbitSection, node: RabbitNode,
                 verify: ssl.SSLContext | bool = False) -> None:
        super().__init__(spec)
        self.section, self.node, self.verify = section, node, verify
        self._client: httpx.AsyncClient | None = None
        self._version: tuple[int, ...] = BASE_VERSION
        self._last_nodes: tuple[float, list] | None = None
        self._inflight: dict[str, asyncio.Task] = {}

    @property
    def base_url(self) -> str:
        return management_url(self.section.scheme, self.node.host, self.node.management_port)

    def _make_client(self) -> httpx.AsyncClient:
        password = self.section.password.reveal() if self.section.password else ""
        return httpx.AsyncClient(
            base_url=self.base_url, auth=(self.section.user, password), verify=self.verify,
            timeout=http_timeout(self.spec.timeout), headers={"Accept": "application/json"},
            # no proxy or .netrc from the environment: monitoring traffic goes straight to the node
            trust_env=False, limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
        )

    def _paths(self) -> dict[str, str]:
        paths = {"overview": OVERVIEW_PATH, "nodes": NODES_PATH}
        for check, (since, _meaning) in HEALTH_CHECKS.items():
            if self._version >= since:  # by version, never by a 404: a stopping node 404s everything
                paths[f"checks/{check}"] = f"/api/health/checks/{check}"
        return paths

    async def fetch(self, key: str, path: str) -> Any:
        """One endpoint (``key`` as in ``_paths``) on this node's client, with the poll's deadlines and words:
        hatui init reads other columns than a poll does, and must not disagree with it on TLS, timeouts or
        errors."""
        if self._client is None:
            self._client = self._make_client()
        return await self._get(self._client, key, path)

    async def poll(self) -> dict[str, Any]:
        if self._client is None:
            self._client = self._make_client()
        t0 = time.monotonic()
        for key, path in self._paths().items():  # at most one request per endpoint in flight, ever
            if key not in self._inflight:
                self._inflight[key] = asyncio.create_task(self._get(self._client, key, path))
        probe = self._inflight.get(PROBE) or self._inflight["overview"]
        await asyncio.wait({probe}, timeout=self.spec.timeout)
        if not probe.done():
            raise SourceError(FailureKind.TIMEOUT, f"management API: no answer within {self.spec.timeout:g} s")
        # The node answers. Give its cluster-wide endpoints a little longer, then report what came back;
        # the rest keep running in the background and are picked up by a later poll.
        rest = {t for t in self._inflight.values() if not t.done()}
        if rest:
            await asyncio.wait(rest, timeout=max(0.0, GRACE * self.spec.timeout - (time.monotonic() - t0)))
        got: dict[str, Any] = {}
        for key, task in list(self._inflight.items()):
            if task.done():
                del self._inflight[key]
                got[key] = task.exception() or task.result()
            else:
                got[key] = _Pending(time.monotonic() - t0)
        return self.answer(got)

    def answer(self, got: dict[str, Any]) -> dict[str, Any]:
        """The poll's outcome from each endpoint's answer (JSON), exception, or _Pending: data, or raise."""
        for value in got.values():  # credentials refused: the whole answer is a failure
            if isinstance(value, SourceError) and value.kind in (FailureKind.AUTH, FailureKind.FORBIDDEN):
                raise value
        if all(isinstance(v, BaseException | _Pending) for v in got.values()):
            if all(isinstance(v, SourceError) and v.kind == FailureKind.NOT_FOUND for v in got.values()):
                # the web server answers but RabbitMQ's routes are gone: seen during stop_app (lab)
                raise SourceError(FailureKind.NOT_FOUND, "management API: not found (404) on every endpoint: "
                                                         "RabbitMQ stopping or not started")
            raise next(v for k in (PROBE, *ENDPOINTS_FIRST, *got) if isinstance(v := got.get(k), BaseException))
        return self._data(got)

    def _data(self, got: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {"checks": {}, "errors": {}}
        for key, value in got.items():
            if isinstance(value, _Pending):
                data["errors"][key.removeprefix("checks/")] = {
                    "kind": FailureKind.TIMEOUT.value, "message": f"no answer yet after {value.waited:.1f} s"}
            elif isinstance(value, BaseException):
                data["errors"][key.removeprefix("checks/")] = self.classify(value).to_json()
            elif key == "overview" and not isinstance(value, dict):
                data["overview"] = value  # not an object: the model reports the answer as garbled
            elif key == "overview":
                data["overview"] = {k: value.get(k) for k in OVERVIEW_FIELDS if k in value}
                self._version = version_tuple(str(value.get("rabbitmq_version") or "")) or BASE_VERSION
            elif key == "nodes":
                data["nodes"] = [{k: n.get(k) for k in NODE_FIELDS if k in n} for n in value
                                 if isinstance(n, dict)] if isinstance(value, list) else value
                self._last_nodes = (time.time(), data["nodes"])
            else:
                data["checks"][key.removeprefix("checks/")] = _check_body(value)
        if "nodes" not in data and self._last_nodes is not None:
            at, nodes = self._last_nodes
            data["last_nodes"] = {"at": round(at, 3), "nodes": nodes}
        if not data["errors"]:
            del data["errors"]
        return data

    async def _get(self, client: httpx.AsyncClient, key: str, path: str) -> Any:
        """One request with its own deadline; a health check's 503 is an answer (status failed)."""
        t = self.spec.timeout
        wait = t if key in LOCAL_ENDPOINTS else CLUSTER_WIDE_FACTOR * t
        try:
            r = await asyncio.wait_for(client.get(path, timeout=httpx.Timeout(t, read=wait)), timeout=wait + t)
        except TimeoutError:
            raise SourceError(FailureKind.TIMEOUT, f"no answer within {wait + t:g} s") from None
        except httpx.ConnectTimeout:
            raise SourceError(FailureKind.TIMEOUT, f"no connection within {t:g} s") from None
        except httpx.TimeoutException:
            raise SourceError(FailureKind.TIMEOUT, f"no answer within {wait:g} s") from None
        if r.status_code == 401:
            raise SourceError(FailureKind.AUTH, "management API: credentials refused (401)")
        if r.status_code == 403:
            raise SourceError(FailureKind.FORBIDDEN, f"management API: {path.split('?')[0]} not allowed (403)")
        if r.status_code == 404:
            raise SourceError(FailureKind.NOT_FOUND, f"management API: {path.split('?')[0]} not found (404)")
        if r.status_code != 200 and not (r.status_code == 503 and "/health/" in path):
            raise SourceError(FailureKind.HTTP, f"management API: HTTP error {r.status_code} on {path.split('?')[0]}")
        try:
            return r.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SourceError(FailureKind.GARBLED,
                              f"management API: garbled answer (not JSON) on {path.split('?')[0]}") from None

    def classify(self, exc: BaseException) -> Failure:
        return classify_http_error(exc, self.spec.timeout)

    def failure(self, exc: BaseException) -> Failure:
        """As classified: a timeout's words already give its seconds and say which way in."""
        return self.classify(exc)

    def close(self) -> None:
        """Best effort: the feed closes sources synchronously, so an open client is closed on the loop if
        there is one (its sockets go with the process otherwise)."""
        tasks, self._inflight = self._inflight, {}
        for task in tasks.values():
            task.cancel()
        client, self._client = self._client, None
        close_soon(client)

    async def aclose(self) -> None:
        tasks, self._inflight = self._inflight, {}
        for task in tasks.values():
            task.cancel()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _check_body(body: Any) -> Any:
    """Only what hatui reads of a health check answer."""
    if not isinstance(body, dict):
        return body
    out = {k: body[k] for k in ("status", "reason", "alarms") if k in body}
    if isinstance(body.get("queues"), list):
        out["queues"] = [{k: q.get(k) for k in ("name", "virtual_host") if k in q} if isinstance(q, dict) else q
                         for q in body["queues"]]
    return out


def classify_http_error(exc: BaseException, timeout: float) -> Failure:
    """Management API failures in the words every HTTP source uses, each saying it was the management
    API (the AMQP canary is the other way in to the same node)."""
    failure = classify_http(exc, timeout)
    if failure.message.startswith("management API"):
        return failure
    return Failure(failure.kind, f"management API: {failure.message}")


def management_url(scheme: str, host: str, port: int) -> str:
    """A node's management API base URL; an IPv6 address in brackets (bare, its colons read as a port)."""
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def tls_verify(section: RabbitSection) -> ssl.SSLContext | bool:
    """One TLS context for every node (loading a CA bundle costs tens of ms); none for plain http."""
    if section.scheme != "https":
        return False  # nothing to verify; and httpx would load its CA bundle for nothing
    if section.insecure:
        return False
    return tls_context(section.ca_file)


def rabbit_sources(config: Config) -> list:
    """One management source per node, the cluster's connection list (and queue list, when
    ``[rabbitmq.queues]`` is set), and one AMQP canary per node when ``[rabbitmq.canary]`` is set."""
    section: RabbitSection | None = config.section("rabbitmq")
    assert section is not None
    specs = {s.key: s for s in target_specs(config) if s.source.startswith("rabbitmq")}
    verify = tls_verify(section)
    out: list = [RabbitManagementSource(specs[("rabbitmq", n.name)], section, n, verify) for n in section.nodes]
    if ("rabbitmq-clients", section.name) in specs:
        from hatui.sources.rabbitmq_clients import RabbitClientsSource

        out.append(RabbitClientsSource(specs[("rabbitmq-clients", section.name)], section, verify))
    if ("rabbitmq-queues", section.name) in specs:
        from hatui.sources.rabbitmq_queues import RabbitQueuesSource

        out.append(RabbitQueuesSource(specs[("rabbitmq-queues", section.name)], section, verify))
    if section.canary is not None:
        from hatui.sources.rabbitmq_amqp import RabbitCanarySource  # pika only when a canary is configured

        out += [RabbitCanarySource(specs[("rabbitmq-amqp", n.name)], section, n) for n in section.nodes]
    return out
