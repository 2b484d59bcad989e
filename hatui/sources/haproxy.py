"""HAProxy: every backend's servers from the stats CSV, over HTTP (``.../;csv``) or the stats socket.

Over HTTP: httpx with explicit connect/read/write/pool timeouts (basic auth if the stats page asks
for it). Over the socket: ``show stat`` on the admin or stats socket (any level may read it),
with asyncio's unix connection bounded by the timeout at connect and at every read. Only the
columns hatui reads are kept (the CSV has ~100 per row).
"""
from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import httpx

from hatui.config.openstack import HaproxyStats
from hatui.model import Failure, FailureKind
from hatui.model.haproxy import STAT_FIELDS
from hatui.schedule import TargetSpec
from hatui.sources.base import AsyncSource, SourceError
from hatui.sources.http import classify_http, http_timeout, ssl_context

CSV_LIMIT = 4 * 1024 * 1024  # a few thousand servers; anything bigger is not a stats page


def stat_rows(text: str) -> dict[str, Any]:
    """The CSV's rows with STAT_FIELDS only; ``rows`` None (and the start of the text) when it is not a
    stats CSV (the model reports it as garbled)."""
    if not text.startswith("# pxname,"):
        return {"rows": None, "start": text[:80]}
    reader = csv.DictReader(io.StringIO(text[2:]))
    try:
        rows = [{k: r.get(k) or "" for k in STAT_FIELDS} for r in reader if r.get("pxname")]
    except csv.Error:  # a stray CR, a broken quote: not a CSV HAProxy writes
        return {"rows": None, "start": text[:80]}
    return {"rows": rows}


class HaproxySource(AsyncSource):
    keeps_connection = True  # over HTTP (the socket is new every poll)

    def __init__(self, spec: TargetSpec, stats: HaproxyStats) -> None:
        super().__init__(spec)
        self.stats = stats
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def poll(self) -> dict[str, Any]:
        url = self.stats.url
        text = await (self._http(url) if url else self._socket())
        return stat_rows(text)

    async def _http(self, url: str) -> str:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:  # a client belongs to one event loop
            auth = None
            if self.stats.user:
                auth = httpx.BasicAuth(self.stats.user, self.stats.password.reveal() if self.stats.password else "")
            verify = False if self.stats.insecure else (self.stats.ca_file or True)
            self._client = httpx.AsyncClient(verify=ssl_context(verify), auth=auth,
                                             timeout=http_timeout(self.spec.timeout), follow_redirects=False)
            self._loop = loop
        resp = await self._client.get(url)
        if resp.status_code in (401, 403):
            kind = FailureKind.AUTH if resp.status_code == 401 else FailureKind.FORBIDDEN
            raise SourceError(kind, f"stats page answers HTTP {resp.status_code} (user / password_env)")
        if resp.status_code >= 400:
            raise SourceError(FailureKind.HTTP, f"stats page answers HTTP {resp.status_code}")
        return resp.text[:CSV_LIMIT]

    async def _socket(self) -> str:
        t = self.spec.timeout
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(self.stats.socket), t)
        try:
            writer.write(b"show stat\n")
            await asyncio.wait_for(writer.drain(), t)
            chunks, size = [], 0
            while True:  # non-interactive mode: HAProxy closes the connection after the answer
                chunk = await asyncio.wait_for(reader.read(65536), t)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > CSV_LIMIT:
                    break
        finally:
            writer.close()
        return b"".join(chunks).decode("utf-8", "replace")

    def classify(self, exc: BaseException) -> Failure:
        if isinstance(exc, FileNotFoundError):
            return Failure(FailureKind.NOT_FOUND, f"no socket at {self.stats.socket}")
        if isinstance(exc, PermissionError):
            return Failure(FailureKind.FORBIDDEN, f"no permission on {self.stats.socket}")
        return classify_http(exc, self.spec.timeout)

    async def aclose(self) -> None:
        client, self._client = self._client, None  # the next poll makes a new one (arenew)
        if client is not None:
            await client.aclose()
