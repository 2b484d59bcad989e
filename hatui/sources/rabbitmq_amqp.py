"""RabbitMQ AMQP canary (source ``rabbitmq-amqp``): one message through each node, as a client.

Each poll connects to one node's AMQP listener with the canary account, opens a channel, declares
a server-named exclusive queue, consumes from it, publishes one message to it through the default
exchange and waits for it to come back: ``round_trip`` is publish -> delivery. Exclusive queues die
with their connection, so a poll leaves nothing behind. pika blocks, so this runs in a thread of
its own (BlockingSource), and every step is bounded:

- ``socket_timeout`` bounds the TCP connect, ``stack_timeout`` the whole AMQP handshake (a frozen
  node accepts TCP and then says nothing: lab);
- past the handshake pika has no timeout on channel calls, and a queue declaration waits for the
  cluster's metadata store (Mnesia): with a peer frozen it hangs until the peer is declared down.
  A deadline timer on pika's own I/O loop (the mechanism pika uses for its blocked-connection
  timeout) tears the connection down when the poll's budget (2 x timeout) is spent;
- ``connection.blocked`` (a memory or disk alarm: RabbitMQ lets the publish through, then stops
  reading from the publishing connection, cluster-wide) is data, not a failure: the poll returns
  ``blocked`` with the reason.

A blocked connection is kept, not closed: RabbitMQ does not read a blocked socket, so a closed one
would linger on the server (with its queue) until the alarm clears, one more per poll, on a node
already short of memory. The kept connection is checked at each poll (it says when it is
unblocked; server heartbeats keep coming meanwhile, and pika drops it if they stop); once
unblocked it is closed and a fresh round trip is measured.
"""
from __future__ import annotations

import logging
import math
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pika
import pika.exceptions as px
from pika.adapters.utils.connection_workflow import AMQPConnectorPhaseErrorBase, AMQPConnectorStackTimeout

from hatui.config.rabbitmq import RabbitNode, RabbitSection
from hatui.model import Failure, FailureKind
from hatui.schedule import TargetSpec
from hatui.secrets import redact
from hatui.sources.base import BlockingSource, SourceError, classify_exception
from hatui.sources.tls import tls_context

# pika logs every failed connection at ERROR; hatui reports failures itself, and Python's last-resort
# handler would print them over the terminal UI.
logging.getLogger("pika").setLevel(logging.CRITICAL + 1)

BODY = b"hatui canary"
BUDGET = 2.0  # a poll's whole budget, in timeouts (the feed gives up at 3 x timeout + 1 s)
HEARTBEAT_MIN = 10  # seconds; also >= 2 canary intervals so a kept connection is not timed out between polls


class CanaryDeadline(Exception):
    """The canary's budget ran out in the middle of an AMQP exchange."""


@dataclass
class _Held:
    """A connection the server blocked (resource alarm), kept until it is unblocked."""

    conn: pika.BlockingConnection
    connect: float
    reason: str
    unblocked: list[bool]  # filled by pika's connection.unblocked callback


class RabbitCanarySource(BlockingSource):
    def __init__(self, spec: TargetSpec, section: RabbitSection, node: RabbitNode) -> None:
        super().__init__(spec)
        assert section.canary is not None
        self.section, self.node, self.canary = section, node, section.canary
        self._held: _Held | None = None
        self._stage = ""

    def _params(self) -> pika.ConnectionParameters:
        t = self.spec.timeout
        password = self.canary.password.reveal() if self.canary.password else ""
        tls = None
        if self.canary.tls:
            tls = pika.SSLOptions(tls_context(self.section.ca_file, self.section.insecure),
                                  server_hostname=self.node.host)
        return pika.ConnectionParameters(
            host=self.node.host, port=self.node.amqp_port, virtual_host=self.canary.vhost,
            credentials=pika.PlainCredentials(self.canary.user, password, erase_on_connect=True),
            socket_timeout=t, stack_timeout=t, blocked_connection_timeout=None,  # a block is data; see _Held
            heartbeat=max(HEARTBEAT_MIN, math.ceil(2 * self.spec.interval)),
            connection_attempts=1, retry_delay=0, ssl_options=tls,
            client_properties={"connection_name": f"hatui canary ({self.spec.name})", "product": "hatui"},
        )

    def poll(self) -> dict[str, Any]:
        if self._held is not None:
            result = self._poll_held()
            if result is not None:
                return result
        return self._round_trip()

    def _round_trip(self) -> dict[str, Any]:
        t0 = time.monotonic()
        deadline = t0 + BUDGET * self.spec.timeout
        self._stage = "connect"
        conn = pika.BlockingConnection(self._params())  # bounded by socket_timeout and stack_timeout
        timer = _arm(conn, deadline - time.monotonic(), lambda: self._stage)
        kept = False
        try:
            blocked: list[str] = []
            unblocked: list[bool] = []
            conn.add_on_connection_blocked_callback(lambda _c, frame: blocked.append(frame.method.reason or "blocked"))
            conn.add_on_connection_unblocked_callback(lambda *_a: unblocked.append(True))
            self._stage = "channel.open"
            ch = conn.channel()
            self._stage = "queue.declare"
            queue = ch.queue_declare("", exclusive=True, auto_delete=True).method.queue
            delivered: list[float] = []
            self._stage = "basic.consume"
            ch.basic_consume(queue, lambda *_a: delivered.append(time.monotonic()), auto_ack=True)
            connected = time.monotonic() - t0
            self._stage = "delivery"
            published = time.monotonic()
            ch.basic_publish("", queue, BODY)
            while not delivered and not blocked:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SourceError(FailureKind.TIMEOUT,
                                      f"AMQP canary: message not delivered within "
                                      f"{BUDGET * self.spec.timeout:g} s")
                conn.process_data_events(time_limit=left)
            # RabbitMQ lets the publish that meets an alarm through, then blocks the connection and
            # says so (connection.blocked, sent before the delivery): look for it before judging.
            conn.process_data_events(time_limit=0)
            rt = round(delivered[0] - published, 4) if delivered else None
            if not blocked:
                return {"connect": round(connected, 4), "round_trip": rt, "blocked": None}
            conn._impl._adapter_remove_timeout(timer)
            self._held = _Held(conn, round(connected, 4), blocked[0], unblocked)
            kept = True
            return {"connect": round(connected, 4), "round_trip": rt, "blocked": blocked[0]}
        finally:
            if not kept:
                _close(conn, timer, self.spec.timeout)

    def _poll_held(self) -> dict[str, Any] | None:
        """The kept blocked connection: still blocked (data), or unblocked (None: measure afresh)."""
        held = self._held
        assert held is not None
        timer = _arm(held.conn, self.spec.timeout, lambda: self._stage)
        try:
            self._stage = "blocked connection"
            held.conn.process_data_events(time_limit=0)
        except Exception:
            self._held = None
            _close(held.conn, timer, self.spec.timeout)
            raise
        if not held.unblocked:
            held.conn._impl._adapter_remove_timeout(timer)
            return {"connect": held.connect, "round_trip": None, "blocked": held.reason}
        self._held = None  # unblocked: close it (the server reads again) and measure afresh
        _close(held.conn, timer, self.spec.timeout)
        return None

    def classify(self, exc: BaseException) -> Failure:
        return classify_amqp_error(exc, self.spec.timeout, self._stage)

    def failure(self, exc: BaseException) -> Failure:
        """As classified: a timeout's words already give its seconds and the AMQP step that hung."""
        return self.classify(exc)

    def close(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            _close(held.conn, None, self.spec.timeout)


def _arm(conn: pika.BlockingConnection, seconds: float, what: Callable[[], str]) -> object:
    """Tear the connection down after ``seconds``: the blocking call in progress raises CanaryDeadline.
    Uses the same private hooks as pika's own blocked-connection timeout (pika 1.3, 1.4)."""
    impl = conn._impl

    def expire() -> None:
        impl._terminate_stream(CanaryDeadline(f"no answer within {seconds:.1f} s to {what()}"))

    return impl._adapter_call_later(max(0.0, seconds), expire)


def _close(conn: pika.BlockingConnection, timer: object | None, timeout: float) -> None:
    """Close politely within ``timeout`` (the server then deletes the exclusive queue at once), else abort."""
    try:
        if timer is not None:
            conn._impl._adapter_remove_timeout(timer)
        if conn.is_open:
            _arm(conn, timeout, lambda: "connection.close")
            conn.close()
    except Exception:  # noqa: BLE001 - a broken connection is gone either way; the queue goes with it
        pass


_WORDS = {FailureKind.REFUSED: "connection refused", FailureKind.UNREACHABLE: "host unreachable"}


def classify_amqp_error(exc: BaseException, timeout: float, stage: str = "") -> Failure:
    """AMQP canary failures in an operator's words, each saying it was the canary."""
    if isinstance(exc, SourceError):
        return Failure(exc.kind, redact(str(exc)))
    if isinstance(exc, CanaryDeadline):
        return Failure(FailureKind.TIMEOUT, f"AMQP canary: {exc}")
    if isinstance(exc, AMQPConnectorStackTimeout):
        return Failure(FailureKind.TIMEOUT,
                       f"AMQP canary: no answer within {timeout:g} s to the AMQP handshake")
    if isinstance(exc, px.ProbableAuthenticationError):
        return Failure(FailureKind.AUTH, "AMQP canary: credentials refused")
    if isinstance(exc, px.ProbableAccessDeniedError):
        return Failure(FailureKind.FORBIDDEN, "AMQP canary: not allowed: access to the vhost refused")
    if isinstance(exc, px.ChannelClosedByBroker | px.ConnectionClosedByBroker):
        kind = FailureKind.FORBIDDEN if exc.reply_code == 403 else FailureKind.ERROR
        head = "not allowed" if kind == FailureKind.FORBIDDEN else "error"
        return Failure(kind, redact(f"AMQP canary: {head}: {stage}: {exc.reply_code} {exc.reply_text}"))
    if isinstance(exc, px.StreamLostError | px.ConnectionClosed) and stage not in ("", "connect"):
        return Failure(FailureKind.REFUSED, f"AMQP canary: connection refused (closed during {stage})")
    inner = _socket_error(exc)
    if isinstance(inner, socket.gaierror):
        return Failure(FailureKind.UNREACHABLE, "AMQP canary: unreachable (host name not resolved)")
    generic = classify_exception(inner if inner is not None else exc)
    if generic.kind == FailureKind.TLS:
        return Failure(generic.kind, f"AMQP canary: TLS failure: {generic.message.removeprefix('TLS: ')}")
    if generic.kind in _WORDS:
        return Failure(generic.kind, f"AMQP canary: {_WORDS[generic.kind]}")
    if generic.kind == FailureKind.TIMEOUT:
        return Failure(FailureKind.TIMEOUT, f"AMQP canary: no answer within {timeout:g} s")
    return Failure(generic.kind, f"AMQP canary: {generic.message}")


def _socket_error(exc: BaseException) -> BaseException | None:
    """The OSError under pika's connection wrappers (AMQPConnectionError(AMQPConnector...Error(OSError)))."""
    seen = 0
    cur: Any = exc
    while cur is not None and seen < 6:
        seen += 1
        if isinstance(cur, OSError | ssl.SSLError):
            return cur
        if isinstance(cur, AMQPConnectorPhaseErrorBase):
            cur = cur.exception
            continue
        args = [a for a in getattr(cur, "args", ()) if isinstance(a, BaseException)]
        cur = args[0] if args else (cur.__cause__ or cur.__context__)
    return None
