"""What the poller needs from a source, and the failure classification every source shares."""
from __future__ import annotations

import errno
import socket
import ssl
from typing import Any, ClassVar

from hatui.model import Failure, FailureKind
from hatui.schedule import TargetSpec
from hatui.secrets import redact


class Source:
    """What the poller needs from every source; each is a BlockingSource or an AsyncSource, whose
    ``poll`` (and ``close``/``aclose``) differ in kind."""

    blocking: ClassVar[bool]
    # A connection (or a login: a token) kept between polls. A kept connection can hide that the server
    # turns new clients away, so the feed makes some polls by a new client (``renew``, then ``poll``).
    keeps_connection: ClassVar[bool] = False

    def __init__(self, spec: TargetSpec) -> None:
        self.spec = spec

    def wake_fd(self) -> int | None:
        """A socket that becomes readable when the server goes away (or speaks): poll at once."""
        return None

    def classify(self, exc: BaseException) -> Failure:
        return classify_exception(exc)

    def failure(self, exc: BaseException) -> Failure:
        """What the poller records for ``exc``: the source's classification, timeouts in seconds."""
        failure = self.classify(exc)
        if failure.kind == FailureKind.TIMEOUT:
            return timeout_failure(self.spec.timeout)
        return failure


class BlockingSource(Source):
    """A source whose client blocks (pymysql, pika, ipmitool): the poller runs it in its own thread."""

    blocking = True

    def poll(self) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def renew(self) -> None:
        """Make the next poll a new client's: connect, TLS handshake and log in afresh. Called in the
        poll's own thread, just before it. Default: close the kept connection."""
        self.close()


def kept_failed_too(exc: BaseException) -> BaseException:
    """Mark a new client's failure as one the kept connection (or token) met too, checked in the same poll
    (a changed password that also revoked the kept token): it hid nothing, so the feed reports the failure
    as the kept connection's (``new_client`` False), in its own words."""
    exc.hatui_kept_failed = True  # type: ignore[attr-defined]
    return exc


def timeout_failure(timeout: float) -> Failure:
    return Failure(FailureKind.TIMEOUT, f"no answer within {timeout:g} s")


class AsyncSource(Source):
    """A source with an asyncio client (httpx): polled on the event loop."""

    blocking = False

    async def poll(self) -> dict[str, Any]:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass

    async def arenew(self) -> None:
        """As ``BlockingSource.renew``: the next poll connects afresh. Default: close the client (the poll
        makes a new one)."""
        await self.aclose()


class SourceError(Exception):
    """Raised by a source for a failure it has already classified."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


_ERRNO_KIND = {
    errno.ECONNREFUSED: FailureKind.REFUSED,
    errno.ECONNRESET: FailureKind.REFUSED,
    errno.ETIMEDOUT: FailureKind.TIMEOUT,
    errno.EHOSTUNREACH: FailureKind.UNREACHABLE,
    errno.ENETUNREACH: FailureKind.UNREACHABLE,
    errno.EHOSTDOWN: FailureKind.UNREACHABLE,
}


def classify_exception(exc: BaseException) -> Failure:
    """The generic part: socket and TLS errors look the same under every client."""
    if isinstance(exc, SourceError):
        return Failure(exc.kind, redact(str(exc)))
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:  # walk the cause chain: clients wrap OSErrors
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLError | ssl.CertificateError):
            return Failure(FailureKind.TLS, redact(f"TLS: {cur}"))
        if isinstance(cur, socket.timeout | TimeoutError):
            return Failure(FailureKind.TIMEOUT, "no answer within the timeout")
        if isinstance(cur, OSError) and cur.errno in _ERRNO_KIND:
            words = cur.strerror or str(cur)  # "connection refused", as the other sources say it
            return Failure(_ERRNO_KIND[cur.errno], redact(words[:1].lower() + words[1:]))
        cur = cur.__cause__ or cur.__context__
    return Failure(FailureKind.ERROR, redact(f"{type(exc).__name__}: {exc}"))
