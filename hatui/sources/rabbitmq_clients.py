"""RabbitMQ's connection list (source ``rabbitmq-clients``, one target per cluster): which node each RPC
client is connected to (hatui.model.rabbitmq_clients).

The list is cluster-wide, so one node is asked, the first that answers in the configured order, on a
slow schedule (``clients_interval``, 30 s): it grows with the cloud (a few connections per compute
host), and only the three FIELDS columns are fetched. A node that does not answer within the timeout
is passed over for the next; the whole poll ends within three timeouts. The account needs the
"monitoring" tag (it lists every user's connections), as for the rest of the management API.
"""
from __future__ import annotations

import asyncio
import json
import ssl
import time
from typing import Any

import httpx

from hatui.config.rabbitmq import RabbitSection
from hatui.model import FailureKind
from hatui.model.rabbitmq_clients import FIELDS, KEEP_GONE, summarise
from hatui.schedule import TargetSpec
from hatui.sources.base import SourceError
from hatui.sources.rabbitmq_cluster_api import ClusterApiSource

PATH = "/api/connections?columns=" + ",".join(FIELDS)


class RabbitClientsSource(ClusterApiSource):
    def __init__(self, spec: TargetSpec, section: RabbitSection, verify: ssl.SSLContext | bool = False) -> None:
        super().__init__(spec, section, verify)
        self._seen: dict[str, tuple[float, list[dict[str, Any]]]] = {}  # node -> (last listed at, its links)

    async def poll(self) -> dict[str, Any]:
        deadline = time.monotonic() + 3 * self.spec.timeout
        last: BaseException | None = None
        for node in self.section.nodes:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            url = f"{self.section.scheme}://{node.host}:{node.management_port}{PATH}"
            try:
                r = await asyncio.wait_for(self.client().get(url), timeout=min(left, 2 * self.spec.timeout))
            except (TimeoutError, httpx.HTTPError) as exc:
                last = exc
                continue
            if r.status_code in (401, 403):
                raise SourceError(FailureKind.AUTH if r.status_code == 401 else FailureKind.FORBIDDEN,
                                  f"management API: /api/connections refused ({r.status_code})")
            if r.status_code != 200:
                last = SourceError(FailureKind.HTTP, f"management API: HTTP error {r.status_code} on /api/connections")
                continue
            try:
                body = r.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise SourceError(FailureKind.GARBLED, "management API: garbled answer (not JSON) on "
                                                       "/api/connections") from None
            return {"asked": node.name, "links": self._remember(summarise(body), time.time())}
        if isinstance(last, SourceError):
            raise last
        if last is None or isinstance(last, TimeoutError):
            raise SourceError(FailureKind.TIMEOUT, f"management API: no node listed its connections within "
                                                   f"{3 * self.spec.timeout:g} s")
        raise last

    def _remember(self, links: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
        """This listing, plus the last links of nodes it no longer lists (for KEEP_GONE seconds)."""
        by_node: dict[str, list[dict[str, Any]]] = {}
        for x in links:
            by_node.setdefault(x["node"], []).append(x)
        for node, rows in by_node.items():
            self._seen[node] = (now, rows)
        out = list(links)
        for node, (at, rows) in list(self._seen.items()):
            if node in by_node:
                continue
            if now - at > KEEP_GONE:
                del self._seen[node]
                continue
            out += [{**x, "gone_since": round(at, 3)} for x in rows]
        return out
