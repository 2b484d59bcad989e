"""RabbitMQ's queue list (source ``rabbitmq-queues``, one target per cluster, when ``[rabbitmq.queues]`` is
set): where each quorum queue, stream and classic mirrored queue keeps its copies (hatui.model.rabbitmq_queues).

The list is cluster-wide, so one node is asked, the first that answers in the configured order, on a
slow schedule (``[rabbitmq.queues] interval``, 30 s). Per poll: ``GET /api/overview?columns=object_totals``
(how many queues the cluster has: a shorter list means the account cannot see some vhosts) and
``GET /api/queues?disable_stats=true&columns=...`` (eight fields a queue, from the queue records, not
the statistics database); only when that list holds streams, one more ``GET /api/queues?columns=...`` in
stats mode, where streams list their replicas. The list is summarised here, as it arrives: what is
recorded grows with the queues' layouts, not with their number. A node that does not answer within the
timeout is passed over for the next; the whole poll ends within three timeouts.
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from hatui.model import FailureKind
from hatui.model.rabbitmq_queues import FIELDS, STREAM_FIELDS, QueuesGarbled, summarise
from hatui.secrets import Secret
from hatui.sources.base import SourceError
from hatui.sources.rabbitmq_cluster_api import ClusterApiSource

QUEUES_PATH = "/api/queues?disable_stats=true&columns=" + ",".join(FIELDS)
STREAMS_PATH = "/api/queues?columns=" + ",".join(STREAM_FIELDS)
TOTALS_PATH = "/api/overview?columns=object_totals"


class _Skip(Exception):
    """This node could not answer: try the next one."""


class RabbitQueuesSource(ClusterApiSource):
    def account(self) -> tuple[str, Secret | None]:
        q = self.section.queues  # its own account when given: listing queues needs a permission entry
        if q is not None and q.user:
            return q.user, q.password
        return self.section.user, self.section.password

    async def _get(self, base: str, path: str, left: float) -> Any:
        what = path.split("?")[0]
        try:
            r = await asyncio.wait_for(self.client().get(base + path), timeout=left)
        except (TimeoutError, httpx.HTTPError) as exc:
            raise _Skip(exc) from None
        if r.status_code in (401, 403):
            raise SourceError(FailureKind.AUTH if r.status_code == 401 else FailureKind.FORBIDDEN,
                              f"management API: {what} refused ({r.status_code})")
        if r.status_code != 200:
            raise _Skip(SourceError(FailureKind.HTTP, f"management API: HTTP error {r.status_code} on {what}"))
        try:
            return r.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SourceError(FailureKind.GARBLED, f"management API: garbled answer (not JSON) on {what}") from None

    async def poll(self) -> dict[str, Any]:
        deadline = time.monotonic() + 3 * self.spec.timeout
        last: BaseException | None = None
        for node in self.section.nodes:
            left = min(deadline - time.monotonic(), 2 * self.spec.timeout)
            if left <= 0:
                break
            base = f"{self.section.scheme}://{node.host}:{node.management_port}"
            try:
                totals, queues = await asyncio.gather(self._get(base, TOTALS_PATH, left),
                                                      self._get(base, QUEUES_PATH, left))
                streams = None
                if isinstance(queues, list) and any(isinstance(q, dict) and q.get("type") == "stream"
                                                    and q.get("members") is None for q in queues):
                    streams = await self._get(base, STREAMS_PATH, max(0.1, deadline - time.monotonic()))
            except _Skip as exc:
                last = exc.args[0] if exc.args else exc
                continue
            try:
                out = summarise(queues, streams)
            except QueuesGarbled as exc:
                raise SourceError(FailureKind.GARBLED, f"management API: /api/queues: {exc}") from None
            counts = totals.get("object_totals") if isinstance(totals, dict) else None
            total = counts.get("queues") if isinstance(counts, dict) else None
            return {"asked": node.name, "total": total if isinstance(total, int) else None, **out}
        if isinstance(last, SourceError):
            raise last
        if last is None or isinstance(last, TimeoutError):
            raise SourceError(FailureKind.TIMEOUT, f"management API: no node listed its queues within "
                                                   f"{3 * self.spec.timeout:g} s")
        raise last
