"""What a new client sees (issue 13, item 5): a kept connection must not hide a server that turns new
clients away. The feed's cadence of new-client polls, the Galera source's renewal beside its kept
connection, and the words an operator reads; the lab test is tests/integration/test_galera.py."""
from __future__ import annotations

import asyncio
import threading
import time
import types
from typing import Any

import httpx
import pymysql
import pytest
from keystoneauth1 import exceptions as ks_exc

from hatui.config import ConfigError, parse
from hatui.feed.live import LiveFeed, NewClients
from hatui.feed.recording import Recorder, read_recording
from hatui.model import Failure, FailureKind, Observation
from hatui.monitor import Monitor
from hatui.schedule import TargetSpec, target_specs
from hatui.secrets import Secret, redact
from hatui.sources.base import AsyncSource, BlockingSource, SourceError
from hatui.sources.galera import GaleraNodeSource, classify_mysql_error
from hatui.sources.haproxy import HaproxySource
from hatui.sources.keystone import CloudSession, KeystoneSource
from tests.fixtures_galera import CONFIG, node_observation


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def spec(fresh_every: float, interval: float = 1.0, timeout: float = 1.0) -> TargetSpec:
    return TargetSpec("galera", "db-1", interval, timeout, 10.0, fresh_every)


class Kept(BlockingSource):
    keeps_connection = True


# ---- cadence ---------------------------------------------------------------------------------------

def test_the_first_poll_then_one_every_fresh_every_are_new_clients():
    clock, src = FakeClock(), Kept(spec(60.0))
    nc = NewClients(clock)
    assert nc.due(src)  # the first poll (and so `check`'s only one) connects afresh anyway
    nc.done(src, clock(), got_in=True)
    for clock.now in (1.0, 30.0, 59.9):
        assert not nc.due(src)
    clock.now = 60.0
    assert nc.due(src)


def test_after_a_new_client_fails_every_poll_is_a_new_clients_until_one_gets_in():
    clock, src = FakeClock(), Kept(spec(60.0))
    nc = NewClients(clock)
    nc.done(src, 0.0, got_in=True)
    clock.now = 60.0
    nc.done(src, 60.0, got_in=False)  # turned away: the kept connection must not clear the finding
    for clock.now in (61.0, 62.0, 63.0):
        assert nc.due(src)
    nc.done(src, 63.0, got_in=True)
    clock.now = 64.0
    assert not nc.due(src)
    clock.now = 123.0
    assert nc.due(src)


def test_no_new_client_polls_when_off_or_when_nothing_is_kept():
    nc = NewClients(FakeClock())
    assert not nc.due(Kept(spec(0.0)))
    assert not nc.due(BlockingSource(spec(60.0)))  # connects afresh every poll (canary, ipmitool, probes)


class Recording(BlockingSource):
    """Counts renewals and polls, and whether two ever ran at once for this target."""

    keeps_connection = True

    def __init__(self, s: TargetSpec, fail_fresh: int = 0) -> None:
        super().__init__(s)
        self.calls: list[str] = []
        self.busy = threading.Lock()
        self.overlap = False
        self.renewed = False
        self.fail_fresh = fail_fresh  # how many new clients are turned away first

    def _enter(self, what: str) -> None:
        if not self.busy.acquire(blocking=False):
            self.overlap = True
            return
        try:
            self.calls.append(what)
            time.sleep(0.002)
        finally:
            self.busy.release()

    def renew(self) -> None:
        self._enter("renew")
        self.renewed = True

    def poll(self) -> dict[str, Any]:
        self._enter("poll")
        fresh, self.renewed = self.renewed, False
        if fresh and self.fail_fresh:
            self.fail_fresh -= 1
            raise SourceError(FailureKind.REFUSED, "too many connections (1040)")
        return {"ok": True}


async def _run(feed: LiveFeed, seconds: float) -> list[Observation]:
    seen: list[Observation] = []
    task = asyncio.create_task(feed.run(seen.append))
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return seen


def test_the_feed_renews_at_its_cadence_in_the_polls_own_slot_and_says_so():
    src = Recording(spec(0.25, interval=0.02))
    seen = asyncio.run(_run(LiveFeed([src]), 1.0))
    renewals = src.calls.count("renew")
    assert len(seen) >= 15 and 3 <= renewals <= 6, (len(seen), renewals)  # not on every poll
    assert not src.overlap
    # each renewal is followed by its poll, and that poll's observation says it was a new client's
    assert all(src.calls[i + 1] == "poll" for i, c in enumerate(src.calls[:-1]) if c == "renew")
    assert sum(o.new_client for o in seen) in (renewals, renewals - 1)  # the last may still be in flight
    assert seen[0].new_client


def test_a_turned_away_new_client_keeps_every_poll_fresh_until_one_gets_in():
    src = Recording(spec(30.0, interval=0.02), fail_fresh=4)
    seen = asyncio.run(_run(LiveFeed([src]), 0.6))
    fresh = [o for o in seen if o.new_client]
    assert [o.ok for o in fresh] == [False] * 4 + [True]  # then none until fresh_every has passed
    assert seen[:5] == fresh[:5] and all(not o.new_client for o in seen[5:])
    assert fresh[0].failure == Failure(FailureKind.REFUSED, "too many connections (1040)")


class AsyncKept(AsyncSource):
    keeps_connection = True

    def __init__(self, s: TargetSpec) -> None:
        super().__init__(s)
        self.calls: list[str] = []

    async def aclose(self) -> None:
        self.calls.append("close")

    async def poll(self) -> dict[str, Any]:
        self.calls.append("poll")
        return {}


def test_an_async_source_is_renewed_by_closing_its_client_before_the_poll():
    src = AsyncKept(spec(0.2, interval=0.02))
    asyncio.run(_run(LiveFeed([src]), 0.5))
    closes = [i for i, c in enumerate(src.calls) if c == "close"]
    assert 2 <= len(closes) <= 4 and all(src.calls[i + 1] == "poll" for i in closes[:-1])


def test_check_polls_as_a_new_client():
    src = Recording(spec(60.0))
    seen: list[Observation] = []
    asyncio.run(LiveFeed([src]).poll_round(seen.append))
    assert [o.new_client for o in seen] == [True]


# ---- config and recordings ---------------------------------------------------------------------------

def _galera(**keys: Any) -> dict:
    return {"name": "lab-db", "nodes": [{"name": "db-1", "host": "127.0.0.1"}], **keys}


def test_fresh_every_defaults_to_a_minute_and_a_section_may_set_or_turn_it_off():
    def fresh(doc: dict) -> float:
        return target_specs(parse(doc, "t.toml", resolve_secrets=False))[0].fresh_every

    assert fresh({"galera": _galera()}) == 60.0
    assert fresh({"hatui": {"fresh_every": 5}, "galera": _galera()}) == 5.0
    assert fresh({"hatui": {"fresh_every": 5}, "galera": _galera(fresh_every=0)}) == 0.0
    for bad in (-1, "often", float("inf")):
        with pytest.raises(ConfigError, match="galera.fresh_every"):
            parse({"galera": _galera(fresh_every=bad)}, "t.toml", resolve_secrets=False)


def test_a_recording_keeps_new_client_and_older_ones_load_without_it(tmp_path):
    path = tmp_path / "r.jsonl"
    rec = Recorder(path, {}, 0.0)
    rec(Observation("galera", "db-1", 1.0, 0.1, failure=Failure(FailureKind.AUTH, "access denied (1045)"),
                    new_client=True))
    rec(Observation("galera", "db-1", 2.0, 0.1, data={"x": 1}))
    rec.close()
    assert "new_client" not in path.read_text().splitlines()[2]  # only when set: old lines stay as they were
    _, obs = read_recording(path)
    assert [o.new_client for o in obs] == [True, False]


# ---- the Galera source: a new connection beside the kept one ----------------------------------------

class FakeConn:
    def __init__(self, log: list[str], n: int) -> None:
        self.log, self.n, self._sock = log, n, None

    def cursor(self) -> FakeCursor:
        return FakeCursor()

    def close(self) -> None:
        self.log.append(f"close {self.n}")


class FakeCursor:
    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *a: object) -> None:
        pass

    def execute(self, q: str) -> None:
        pass

    def fetchall(self) -> list:
        return [("wsrep_ready", "ON")]


def test_galera_opens_the_new_connection_beside_the_kept_one_and_keeps_it_when_turned_away(monkeypatch):
    """Closed first, the kept connection would free the very slot a full server then gives the new client."""
    log: list[str] = []
    refuse = [False]

    def connect(**kw: Any) -> FakeConn:
        if refuse[0]:
            log.append("refused")
            raise pymysql.err.OperationalError(1040, "Too many connections")
        log.append(f"open {len(log)}")
        return FakeConn(log, len(log) - 1)

    monkeypatch.setattr(pymysql, "connect", connect)
    monkeypatch.setattr("hatui.sources.galera._closed_by_server", lambda conn: False)
    section = CONFIG.galera
    src = GaleraNodeSource(spec(60.0), section, section.nodes[0])
    src.poll()
    src.renew()
    src.poll()
    assert log == ["open 0", "open 1", "close 0"]  # the new one in before the kept one goes
    refuse[0] = True
    src.renew()
    with pytest.raises(pymysql.err.OperationalError) as err:
        src.poll()
    assert classify_mysql_error(err.value) == Failure(FailureKind.REFUSED, "too many connections (1040)")
    assert log[-1] == "refused" and src._conn is not None  # the kept connection stays, holding its slot
    assert src.poll()["status"] == {"wsrep_ready": "ON"}  # the next poll without renew(): the kept one answers


# ---- the words ------------------------------------------------------------------------------------------

def _finding(monitor: Monitor, now: float, fid: str = "galera.unreachable:db-1"):
    return next((f for f in monitor.assess(now).findings if f.id == fid), None)


TURNED_AWAY = Failure(FailureKind.REFUSED, "too many connections (1040)")


def test_a_new_client_turned_away_while_the_kept_connection_worked_says_both():
    m = Monitor(CONFIG, started_at=0.0)
    for n in (1, 2, 3):
        m.ingest(node_observation("healthy", n, at=60.0))
    m.ingest(Observation("galera", "db-1", 100.0, 0.01, failure=TURNED_AWAY, new_client=True))
    f = _finding(m, 100.0)
    assert f is not None and f.severity.label == "critical"
    assert f.summary == ("db-1: a new client cannot get in: too many connections (1040); hatui's kept "
                         "connection still worked 40 s ago")
    # the next new client turned away too: the words hold (the kept answer is the last good one)
    m.ingest(Observation("galera", "db-1", 101.0, 0.01, failure=TURNED_AWAY, new_client=True))
    assert _finding(m, 101.0).summary.endswith("still worked 41 s ago")
    m.ingest(node_observation("healthy", 1, at=102.0))
    assert _finding(m, 102.0) is None


def test_check_has_no_kept_connection_and_names_the_same_finding_plainly():
    m = Monitor(CONFIG, started_at=0.0)
    m.ingest(Observation("galera", "db-1", 100.0, 0.01, failure=Failure(FailureKind.AUTH, "access denied (1045)"),
                         new_client=True))
    assert _finding(m, 100.0).summary == "db-1: credentials refused: access denied (1045)"


def test_a_kept_connection_failing_reads_as_before():
    m = Monitor(CONFIG, started_at=0.0)
    m.ingest(node_observation("healthy", 1, at=60.0))
    m.ingest(Observation("galera", "db-1", 61.0, 0.01, failure=Failure(FailureKind.REFUSED, "connection refused")))
    assert _finding(m, 61.0).summary == "db-1: connection refused"


@pytest.mark.parametrize("code, words", [
    (1040, "too many connections (1040)"),
    (1203, "user hatui already has more than 'max_user_connections' active connections (1203)"),
])
def test_a_server_turning_clients_away_is_refused_in_its_own_words(code, words):
    exc = pymysql.err.OperationalError(code, words.rsplit(" (", 1)[0].capitalize())
    assert classify_mysql_error(exc) == Failure(FailureKind.REFUSED, words)


# ---- the other sources' renewal --------------------------------------------------------------------------

class _Cloud:
    def __init__(self) -> None:
        self.auth = types.SimpleNamespace(auth_url="http://keystone.test:5000/v3")
        self.closed, self.logins = 0, 0
        self.first_answer = threading.Event()

    def new_session(self) -> Any:
        return types.SimpleNamespace(session=types.SimpleNamespace(close=self._close))

    def _close(self) -> None:
        self.closed += 1

    def login(self, session: Any) -> None:
        self.logins += 1


def test_keystone_renews_its_connections_and_logs_in_anew_and_forgets_expired_tokens(monkeypatch):
    cloud = _Cloud()
    src = KeystoneSource(TargetSpec("keystone", "t", 5.0, 3.0, 20.0, 60.0), cloud)  # type: ignore[arg-type]
    monkeypatch.setattr(src, "_validate", lambda retry: {"user": "u"})
    src.renew()
    src.poll()
    assert (cloud.closed, cloud.logins) == (1, 0)  # the first poll logs in anyway
    src._token = "tok-1"
    src.renew()
    src.poll()
    src.poll()
    assert (cloud.closed, cloud.logins) == (2, 1)  # a new login for the renewed poll only
    # a login a minute is a token a minute: each is redacted while it is valid, and forgotten after
    now = time.time()
    for token, expires in (("old-token-aaaa", now - 1), ("live-token-bbbb", now + 3600)):
        Secret(token, "keystone token")
        src._remember(token, expires)
    src._remember("new-token-cccc", now + 3600)
    assert redact("old-token-aaaa live-token-bbbb") == "old-token-aaaa ***"


def test_a_failed_new_login_leaves_the_kept_token_to_the_services(tmp_path, monkeypatch):
    """Keystone logins failing must not take the token nova and neutron are read with (README, OpenStack)."""
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  t:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n      username: u\n"
                      "      password: pw-sekret\n      project_name: p\n      user_domain_name: Default\n"
                      "      project_domain_name: Default\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cloud = CloudSession(parse({"openstack": {"cloud": "t", "catalog_cache": False}}, "t.toml").section("openstack"))
    kept = object()
    cloud.auth.auth_ref = kept

    def refused(session: Any) -> Any:
        raise ks_exc.Unauthorized("bad password")

    monkeypatch.setattr(cloud.auth, "get_auth_ref", refused)
    with pytest.raises(ks_exc.Unauthorized):
        cloud.login(cloud.new_session())
    assert cloud.auth.auth_ref is kept
    monkeypatch.setattr(cloud.auth, "get_auth_ref", lambda session: "new")
    cloud.login(cloud.new_session())
    assert cloud.auth.auth_ref == "new"


async def test_http_sources_renew_by_closing_their_client_so_the_poll_makes_a_new_one():
    section = parse({"openstack": {"haproxy": [{"name": "lb", "url": "http://127.0.0.1:1/;csv"}]}}, "t.toml",
                    resolve_secrets=False).section("openstack")
    src = HaproxySource(TargetSpec("haproxy", "lb", 1.0, 1.0, 4.0, 60.0), section.haproxy[0])
    old = src._client = httpx.AsyncClient()
    await src.arenew()
    assert src._client is None and old.is_closed
