"""What every HTTP source shares: httpx timeouts, TLS context, and how a failed request reads.

The endpoint probes, HAProxy's stats page, RabbitMQ's management API and Redfish BMCs all speak HTTP
through httpx; they word a failure the same way and only say in front whose it was ("management API: ",
"BMC: ").
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from typing import Any

import httpx

# httpx imports its transport (httpcore) at the first client and anyio's asyncio backend at the first async
# request. Imported here, at start-up, so that a first poll's deadline never pays for an import that
# competes with other pollers' threads (seen: every RabbitMQ node 'no answer within 1 s' on the first round).
import httpcore  # noqa: F401  # isort: skip

with contextlib.suppress(ImportError):  # anyio's layout is its own; without it the first request imports it
    import anyio._backends._asyncio  # noqa: F401

from hatui.model import Failure, FailureKind
from hatui.secrets import redact
from hatui.sources.base import SourceError, classify_exception
from hatui.sources.tls import tls_context


def close_soon(client: httpx.AsyncClient | None) -> None:
    """Close an async client from the feed's synchronous close: on the running loop if there is one (its
    sockets go with the process otherwise)."""
    if client is None:
        return
    with contextlib.suppress(RuntimeError):  # no running loop
        asyncio.get_running_loop().create_task(client.aclose())


def http_timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(connect=seconds, read=seconds, write=seconds, pool=seconds)


def ssl_context(verify: bool | str | None, cert: Any = None) -> ssl.SSLContext:
    """requests-style verify (True, False, CA bundle path) and cert -> an SSL context for httpx."""
    return tls_context(verify if isinstance(verify, str) else None, verify is False,
                       tuple(cert) if isinstance(cert, list) else cert)


def disconnected(exc: BaseException) -> bool:
    """The server closed the connection without a byte of answer (a kept-alive one, or a dying backend)."""
    return isinstance(exc, httpx.ReadError) or "disconnected" in str(exc).lower()


def classify_http(exc: BaseException, timeout: float) -> Failure:
    """An httpx exception in an operator's words. A read timeout means TCP was accepted but nothing
    answered: a frozen or overloaded server, not an unreachable one; the words say which."""
    if isinstance(exc, SourceError):
        return Failure(exc.kind, redact(str(exc)))
    if isinstance(exc, httpx.ConnectTimeout):
        return Failure(FailureKind.TIMEOUT, f"no TCP connection within {timeout:g} s")
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return Failure(FailureKind.TIMEOUT, f"connected, no answer within {timeout:g} s")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError) and disconnected(exc):
        return Failure(FailureKind.REFUSED, "connection closed without an answer")
    if isinstance(exc, httpx.RemoteProtocolError):
        return Failure(FailureKind.GARBLED, redact(f"not HTTP: {exc}")[:200])
    cur: BaseException | None = exc
    while cur is not None:
        if isinstance(cur, socket.gaierror):
            return Failure(FailureKind.UNREACHABLE, "host name not resolved")
        cur = cur.__cause__ or cur.__context__
    failure = classify_exception(exc)
    # asyncio words these "Connect call failed (host, port)", "[Errno 113] ...": one phrase each
    if failure.kind == FailureKind.REFUSED:
        return Failure(FailureKind.REFUSED, "connection refused")
    if failure.kind == FailureKind.UNREACHABLE:
        return Failure(FailureKind.UNREACHABLE, "host unreachable")
    return failure
