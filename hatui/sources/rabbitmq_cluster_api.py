"""A cluster-wide read of RabbitMQ's management API (the connection list, the queue list): one kept HTTP
client, asked of one node at a time, the first that answers in the configured order."""
from __future__ import annotations

import ssl

import httpx

from hatui.config.rabbitmq import RabbitSection
from hatui.model import Failure
from hatui.schedule import TargetSpec
from hatui.secrets import Secret
from hatui.sources.base import AsyncSource
from hatui.sources.http import close_soon, http_timeout
from hatui.sources.rabbitmq import classify_http_error


class ClusterApiSource(AsyncSource):
    keeps_connection = True

    def __init__(self, spec: TargetSpec, section: RabbitSection, verify: ssl.SSLContext | bool = False) -> None:
        super().__init__(spec)
        self.section, self.verify = section, verify
        self._client: httpx.AsyncClient | None = None

    def account(self) -> tuple[str, Secret | None]:
        """The user and password this read asks with (the section's, unless a subclass has its own)."""
        return self.section.user, self.section.password

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            user, secret = self.account()
            self._client = httpx.AsyncClient(auth=(user, secret.reveal() if secret else ""), verify=self.verify,
                                             timeout=http_timeout(self.spec.timeout),
                                             headers={"Accept": "application/json"}, trust_env=False)
        return self._client

    def classify(self, exc: BaseException) -> Failure:
        return classify_http_error(exc, self.spec.timeout)

    def failure(self, exc: BaseException) -> Failure:
        return self.classify(exc)

    def close(self) -> None:
        client, self._client = self._client, None
        close_soon(client)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
