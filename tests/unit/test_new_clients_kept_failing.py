"""A kept connection that fails itself hides nothing: until a poll gets in again, a new client's failure is
told as the kept connection's (new clients keep their cadence: one may still get in), and so is a new
client's failure that the source found its kept connection (or token) met too.

Seen on the labs (tests/integration/{rabbit,openstack}/test_new_clients.py): RabbitMQ's management API
checks the password on every request, so a changed one fails hatui's kept connection at once; Keystone
revokes the user's tokens with a password changed through its API. A new client turned away after (or
instead of) that used to word the finding "a new client cannot get in ...; hatui's kept connection still
worked 3.0 s ago" about a kept connection, or token, that had failed the same way; which one came first was
a matter of timing.
"""
from __future__ import annotations

import asyncio
import threading
import types
from typing import Any

import pytest
from keystoneauth1 import exceptions as ks_exc

from hatui.feed.live import LiveFeed, NewClients
from hatui.model import FailureKind, Observation
from hatui.monitor import Monitor
from hatui.schedule import TargetSpec
from hatui.sources.base import BlockingSource, SourceError, kept_failed_too
from hatui.sources.keystone import KeystoneSource
from hatui.sources.services import ServicesSource
from tests.fixtures_galera import CONFIG, node_observation
from tests.unit.test_new_clients import _run

REFUSED_401 = SourceError(FailureKind.AUTH, "management API: credentials refused (401)")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def spec(fresh_every: float, interval: float = 1.0) -> TargetSpec:
    return TargetSpec("galera", "db-1", interval, 1.0, 10.0, fresh_every)


class Kept(BlockingSource):
    keeps_connection = True


def test_while_the_kept_connection_fails_a_new_clients_failure_hid_nothing_and_the_cadence_holds():
    clock, src = FakeClock(), Kept(spec(3.0))
    nc = NewClients(clock)
    nc.done(src, 0.0, got_in=True)
    assert not nc.hid_nothing(src)
    clock.now = 1.0
    nc.kept(src, got_in=False)  # the kept connection refused (credentials, TLS, connection, timeout)
    assert nc.hid_nothing(src)
    clock.now = 3.0
    assert nc.due(src)  # a new client may still get in where the kept connection cannot
    nc.done(src, 3.0, got_in=False)
    clock.now = 4.0
    assert nc.due(src) and nc.hid_nothing(src)  # every poll a new client's, until one gets in, as ever
    nc.done(src, 4.0, got_in=True)  # in: it is the kept connection now
    assert not nc.hid_nothing(src) and not nc.due(src)
    clock.now = 5.0
    nc.kept(src, got_in=False)
    nc.kept(src, got_in=True)  # the kept connection answers again
    assert not nc.hid_nothing(src)


def test_a_kept_connection_the_server_answered_hides_what_a_new_client_meets():
    """An HTTP error, a 403, a garbled answer: the kept connection got in; a new client may not."""
    nc, src = NewClients(FakeClock()), Kept(spec(3.0))
    nc.kept(src, got_in=True)
    assert not nc.hid_nothing(src)


def test_a_source_that_keeps_nothing_is_never_marked():
    nc = NewClients(FakeClock())
    src = BlockingSource(spec(3.0))
    nc.kept(src, got_in=False)
    assert not nc.hid_nothing(src) and not nc.due(src)  # (it never makes new-client polls at all)


class PerRequestAuth(BlockingSource):
    """As RabbitMQ's management API: the password checked on every request, kept connection or new."""

    keeps_connection = True

    def __init__(self, s: TargetSpec, refused: range) -> None:
        super().__init__(s)
        self.refused, self.polls, self.renewed = refused, 0, False
        self.renewed_while_refused = 0

    def renew(self) -> None:
        self.renewed = True

    def poll(self) -> dict[str, Any]:
        fresh, self.renewed = self.renewed, False
        self.polls += 1
        if self.polls in self.refused:
            self.renewed_while_refused += fresh
            raise REFUSED_401
        return {"ok": True}


def test_the_feed_tells_no_new_client_turned_away_while_the_kept_connection_is_refused():
    # polls 1-3 answer (the first a new client's), 4-9 refused on the kept connection and on the new clients
    # made meanwhile (fresh_every, 0.1 s, passes; the feed polls a target at most every 0.05 s), then in
    src = PerRequestAuth(spec(0.1, interval=0.02), refused=range(4, 10))
    seen = asyncio.run(_run(LiveFeed([src]), 0.8))
    assert len(seen) >= 11, len(seen)
    failed = [i for i, o in enumerate(seen) if not o.ok]
    assert failed == list(range(3, 9))
    assert seen[0].new_client and src.renewed_while_refused >= 1
    assert not any(seen[i].new_client for i in failed)  # the kept connection's own failure, every time
    assert seen[9].ok


def test_the_finding_stays_in_the_kept_connections_words():
    """End to end through the rules: what the feed makes of a refused kept connection reads plainly."""
    src = PerRequestAuth(spec(0.1, interval=0.02), refused=range(4, 10_000))
    seen = asyncio.run(_run(LiveFeed([src]), 0.6))
    m = Monitor(CONFIG, started_at=0.0)
    m.ingest(node_observation("healthy", 1, at=60.0))
    summaries = set()
    for i, o in enumerate(o for o in seen if not o.ok):
        m.ingest(Observation(o.source, o.target, 61.0 + i, o.latency, failure=o.failure, new_client=o.new_client))
        f = next(f for f in m.assess(61.0 + i).findings if f.id == "galera.unreachable:db-1")
        summaries.add(f.summary)
    assert summaries == {"db-1: management API: credentials refused (401)"}


# ---- a new client's failure the kept connection met too --------------------------------------------------

class RevokedWithThePassword(BlockingSource):
    """As Keystone with a password changed through its API, met first by a new login: refused, and the kept
    token found revoked in the same poll."""

    keeps_connection = True

    def __init__(self, s: TargetSpec) -> None:
        super().__init__(s)
        self.renewed, self.new_clients, self.refused = False, 0, False
        self.first_refused_by_a_new_client: bool | None = None

    def renew(self) -> None:
        self.renewed = True

    def poll(self) -> dict[str, Any]:
        fresh, self.renewed = self.renewed, False
        self.new_clients += fresh
        if self.new_clients == 2 and not self.refused:  # the change lands just before the second new client
            self.refused, self.first_refused_by_a_new_client = True, fresh
        if self.refused:
            exc = SourceError(FailureKind.AUTH, "credentials refused by Keystone (401)")
            raise kept_failed_too(exc) if fresh else exc
        return {"ok": True}


def test_a_new_clients_failure_the_kept_connection_met_too_is_the_kept_ones():
    src = RevokedWithThePassword(spec(0.1, interval=0.02))
    seen = asyncio.run(_run(LiveFeed([src]), 0.5))
    failed = [o for o in seen if not o.ok]
    assert src.first_refused_by_a_new_client and len(failed) >= 3
    assert not any(o.new_client for o in failed)  # the first (a renewed poll) too: the kept token failed with it


def _refused_login(session: Any) -> None:
    raise ks_exc.Unauthorized("The request you have made requires authentication.")


class _Auth:
    def __init__(self, token: str | None) -> None:
        self.auth_url = "http://keystone.test:5000/v3"
        self.auth_ref = types.SimpleNamespace(auth_token=token) if token else None
        self.invalidated = 0

    def invalidate(self) -> None:
        self.invalidated += 1

    def get_endpoint(self, session: Any, **kw: Any) -> str:
        return self.auth_url


class _Cloud:
    def __init__(self, token: str | None, login=_refused_login) -> None:
        self.auth, self.timeout = _Auth(token), 2.0
        self.first_answer = threading.Event()
        self.login = login
        self.asked: list[str] = []  # what Keystone was asked to validate
        self.status = 200  # what it answers

    def new_session(self) -> Any:
        def get(url: str, headers: dict, **kw: Any) -> Any:
            self.asked.append(headers["X-Subject-Token"])
            return types.SimpleNamespace(status_code=self.status)
        return types.SimpleNamespace(session=types.SimpleNamespace(close=lambda: None), get=get)

    def catalog(self) -> tuple:
        return None, None, None


def _keystone(cloud: _Cloud) -> KeystoneSource:
    return KeystoneSource(TargetSpec("keystone", "lab", 1.0, 2.0, 6.0, 3.0), cloud)  # type: ignore[arg-type]


def _renewed_poll(src: KeystoneSource) -> BaseException:
    src._token = "kept-token"
    src.renew()
    with pytest.raises(ks_exc.Unauthorized) as err:
        src.poll()
    return err.value


@pytest.mark.parametrize("status, revoked", [(404, True), (401, True), (200, False)])
def test_keystone_asks_whether_a_refused_new_login_left_the_kept_token_valid(status, revoked):
    """404: Keystone no longer validates it (a password changed through its API revokes the user's tokens):
    dropped, and the refusal is the kept token's. 200: still valid (a password changed behind Keystone, in
    a directory): a new client turned away, and the services go on with the kept token."""
    cloud = _Cloud("kept-token")
    cloud.status = status
    exc = _renewed_poll(_keystone(cloud))
    assert cloud.asked == ["kept-token"]
    assert getattr(exc, "hatui_kept_failed", False) is revoked
    assert cloud.auth.invalidated == (1 if revoked else 0)


def test_keystone_asks_nothing_more_of_a_keystone_that_did_not_answer_the_login():
    def timed_out(session: Any) -> None:
        raise ks_exc.ConnectTimeout("no answer")

    cloud = _Cloud("kept-token", login=timed_out)
    src = _keystone(cloud)
    src._token = "kept-token"
    src.renew()
    with pytest.raises(ks_exc.ConnectTimeout) as err:
        src.poll()
    assert cloud.asked == [] and not hasattr(err.value, "hatui_kept_failed")  # no second timeout


def test_a_services_poll_without_a_token_is_the_kept_tokens_failure():
    """Its renewal renews the connections to nova or neutron, not the shared login (the keystone source's)."""
    cloud = types.SimpleNamespace(timeout=2.0, new_session=lambda: types.SimpleNamespace(),
                                  access=lambda session: _refused_login(session))
    src = ServicesSource(TargetSpec("services", "nova", 1.0, 2.0, 6.0, 3.0), cloud, "nova")  # type: ignore[arg-type]
    with pytest.raises(SourceError) as err:
        src.poll()
    assert str(err.value) == "no token from Keystone (credentials refused by Keystone (401))"
    assert getattr(err.value, "hatui_kept_failed", False) is True
