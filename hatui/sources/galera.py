"""Galera: the wsrep rows of ``SHOW GLOBAL STATUS`` on every node, over one kept-open connection.

The connection is kept between polls for two reasons: a poll costs one round trip instead of a
login, and its socket tells us at once when the server dies (the kernel closes it on SIGKILL or
shutdown), long before Galera's own membership change (~2.6 s in the lab) or our next poll.
pymysql blocks, so the poller runs this in a thread; connect, read and write timeouts are all set
(a frozen mariadbd still accepts TCP and would hang a read without them: lab measurement).

A kept connection hides a node that turns new clients away (max_connections reached, a changed
password): every ``fresh_every`` seconds the feed asks for a poll by a new client (``renew``). The new
connection is opened beside the kept one, and replaces it only once it is in: closed first, the kept one
would free the very slot a full server then gives to the new client.
"""
from __future__ import annotations

import select
import ssl
from typing import Any

import pymysql

from hatui.config import Config
from hatui.config.galera import GaleraNode, GaleraSection
from hatui.model import Failure, FailureKind
from hatui.model.galera import WSREP_FIELDS
from hatui.schedule import TargetSpec, target_specs
from hatui.secrets import redact
from hatui.sources.base import BlockingSource, classify_exception
from hatui.sources.tls import tls_context

# Only the fields hatui reads: a full wsrep status is ~75 rows, 25x the bytes per poll and recording.
_FIELD_LIST = ", ".join(f"'{k}'" for k in WSREP_FIELDS)
STATUS_QUERY = f"SHOW GLOBAL STATUS WHERE Variable_name IN ({_FIELD_LIST})"
# Read once per connection: names the node and cluster as the server knows them, and its quorum weight.
VARIABLES_QUERY = ("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('wsrep_node_name', 'wsrep_cluster_name', 'version', "
                   "'wsrep_provider_options')")
# Of the provider options (~2 KB, ~100 options) only these are kept: the rest would bloat every recording.
PROVIDER_OPTIONS_READ = ("pc.weight",)

# pymysql / MariaDB error numbers -> what they mean to an operator
_AUTH_ERRORS = {1045, 1698}          # access denied
_FORBIDDEN_ERRORS = {1227, 1142, 1044}
_CONNECT_ERRORS = {2003, 2002}       # can't connect (message holds the socket error)
_LOST_ERRORS = {2013, 2006}          # lost connection / server has gone away
# the server turns this client away: max_connections, max_user_connections, a per-hour limit, a blocked host
_TURNED_AWAY = {1040, 1203, 1226, 1129}


class GaleraNodeSource(BlockingSource):
    keeps_connection = True

    def __init__(self, spec: TargetSpec, section: GaleraSection, node: GaleraNode) -> None:
        super().__init__(spec)
        self.section, self.node = section, node
        self._conn: pymysql.connections.Connection | None = None
        self._variables: dict[str, str] = {}
        self._renew = False

    def _ssl(self) -> ssl.SSLContext | None:
        if not (self.section.tls or self.section.ca_file or self.section.insecure):
            return None
        return tls_context(self.section.ca_file, self.section.insecure)

    def _connect(self) -> pymysql.connections.Connection:
        timeout = self.spec.timeout
        password = self.section.password.reveal() if self.section.password else ""
        conn = pymysql.connect(
            host=self.node.host, port=self.node.port, user=self.section.user, password=password,
            connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout,
            ssl=self._ssl(), autocommit=True, charset="utf8mb4",
        )
        try:
            with conn.cursor() as cur:
                cur.execute(VARIABLES_QUERY)
                self._variables = {str(k).lower(): str(v) for k, v in cur.fetchall()}
        except Exception:
            _close_quietly(conn)
            raise
        if "wsrep_provider_options" in self._variables:
            self._variables["wsrep_provider_options"] = _options_read(self._variables["wsrep_provider_options"])
        return conn

    def renew(self) -> None:
        self._renew = True  # the next poll connects beside the kept connection (see the module's doc)

    def poll(self) -> dict[str, Any]:
        renew, self._renew = self._renew, False
        if renew and self._conn is not None:
            try:
                new = self._connect()
            except Exception:
                # a new client's failure is this poll's; the kept connection stays open (its slot held),
                # unless the server closed it (a readable socket would wake the feed again at once)
                if _closed_by_server(self._conn):
                    self.close()
                raise
            old, self._conn = self._conn, new
            _close_quietly(old)
        try:
            return self._query()
        except pymysql.err.OperationalError as exc:
            self.close()
            # A kept connection that broke (server killed or restarted) says little: ask again on a
            # fresh one so the observation says what an operator needs (refused, timeout, ...).
            if exc.args and exc.args[0] in _LOST_ERRORS and not _is_timeout(exc):
                return self._query()
            raise
        except Exception:
            self.close()
            raise

    def _query(self) -> dict[str, Any]:
        if self._conn is None:
            self._conn = self._connect()
        with self._conn.cursor() as cur:
            cur.execute(STATUS_QUERY)
            rows = cur.fetchall()
        status = {str(k).lower(): _text(v) for k, v in rows}
        return {"status": status, "variables": dict(self._variables)}

    def wake_fd(self) -> int | None:
        sock = getattr(self._conn, "_sock", None)
        try:
            return sock.fileno() if sock is not None else None
        except OSError:
            return None

    def classify(self, exc: BaseException) -> Failure:
        return classify_mysql_error(exc)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _close_quietly(conn)


def _closed_by_server(conn: pymysql.connections.Connection) -> bool:
    """Between queries the server sends nothing: a readable socket means it closed (or errored) ours."""
    sock = getattr(conn, "_sock", None)
    try:
        return sock is None or bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _close_quietly(conn: pymysql.connections.Connection) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail; it is gone either way
        pass


def _text(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _is_timeout(exc: BaseException) -> bool:
    return "timed out" in str(exc)


def classify_mysql_error(exc: BaseException) -> Failure:
    if isinstance(exc, pymysql.err.MySQLError) and exc.args and isinstance(exc.args[0], int):
        code, msg = exc.args[0], redact(str(exc.args[1]) if len(exc.args) > 1 else "")
        if code in _AUTH_ERRORS:
            return Failure(FailureKind.AUTH, f"access denied ({code})")
        if code in _TURNED_AWAY:
            return Failure(FailureKind.REFUSED, f"{msg[:1].lower()}{msg[1:]} ({code})")
        if code in _FORBIDDEN_ERRORS:
            return Failure(FailureKind.FORBIDDEN, f"not allowed: {msg}")
        if code in _CONNECT_ERRORS | _LOST_ERRORS:
            if "timed out" in msg:
                return Failure(FailureKind.TIMEOUT, "no answer within the timeout")
            if "refused" in msg:
                return Failure(FailureKind.REFUSED, "connection refused")
            if "unreachable" in msg or "No route" in msg:
                return Failure(FailureKind.UNREACHABLE, "host unreachable")
            if "SSL" in msg or "TLS" in msg or "certificate" in msg:
                return Failure(FailureKind.TLS, f"TLS: {msg}")
            if code in _LOST_ERRORS:
                return Failure(FailureKind.ERROR, f"connection lost ({code})")
        if code == 2026 or "SSL" in msg:
            return Failure(FailureKind.TLS, f"TLS: {msg}")
    return classify_exception(exc)


def galera_sources(config: Config) -> list[GaleraNodeSource]:
    section = config.galera
    assert section is not None
    specs = {s.name: s for s in target_specs(config) if s.source == "galera"}
    return [GaleraNodeSource(specs[n.name], section, n) for n in section.nodes]


def _options_read(options: str) -> str:
    """``a = 1; pc.weight = 2; b = x`` -> ``pc.weight = 2``: the provider options hatui reads, as the
    server wrote them."""
    kept = [o.strip() for o in options.split(";") if o.split("=", 1)[0].strip() in PROVIDER_OPTIONS_READ]
    return "; ".join(kept)
