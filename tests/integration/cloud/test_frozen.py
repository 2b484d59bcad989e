"""Everything frozen at once (issue 13, item 4): every kind of server of the lab cloud SIGSTOPped together
while the live TUI runs, then thawed.

The TUI runs in-process under Textual's pilot, built as ``hatui`` builds it for a live run (hatui/cli.py
``_ui``: ``HatuiApp(config, LiveFeed(build_sources(config)), maintenance=...)``) from the config an operator
would write for the lab (``cloud_config``) and the lab's secrets: real sources, real threads, real ipmitool
children, real servers. In-process because the assertions need what a terminal cannot give: the
assessment's findings with their ids, the focused widget and screen after a key, and this process's own
threads and children (/proc/self).

Frozen at once, by pid (looked up just before, so the freeze is one loop of kill(2), ~1-2 ms for ~35 pids):
  - each controller's mariadbd and RabbitMQ beam (the pids ``Lab.freeze(host, service)`` signals),
  - every OpenStack API server, each gunicorn's whole process group (keystone x3, nova-api x3,
    placement-api x2, glance-api, neutron-server), and HAProxy (the API VIP and its stats),
  - the BMC emulators: 2 sushy-emulator (Redfish) and 2 ipmi_sim (IPMI),
  - each host's :22 banner listener (the lab's sshd).
Not frozen: the RPC daemons (nova-conductor, -scheduler, -compute, neutron-rpc-server, the metadata agent):
hatui never polls a daemon, it reads them through nova's and neutron's APIs, which are frozen; and the
lab's powerd (not a server). Every stopped pid is continued in a ``finally``; the ``lab`` fixture's reset
then repairs whatever the thaw left (it finds nothing frozen).

Asserted, each by polling against its own deadline (no fixed sleep is an assertion), per target with its
bound from the config (interval, timeout):
  1. its mark in the assessment (``<source>.slow`` / ``.unreachable`` / ``.stale``; power's ``bmc_timeout``;
     the silent banner's ``hosts.service_down``; every catalog endpoint ``endpoint.down``, Keystone's own as
     ``keystone.unreachable``) within 1.05 x interval + timeout + 0.5 s of the freeze (1.05: the feed's own
     jitter on the interval; the endpoint round's timeout is each probe's), timed by the finding's ``since``;
     its line on screen, in its own pane, no longer OK within one redraw tick (TICK) more;
  2. keys answer while frozen: a pane key moves the focus, ``?`` opens the help and Esc closes it, each
     within KEY_WAIT of the key being sent;
  3. this process's threads and children stay bounded while frozen and after: threads at most THREADS_MORE
     above the baseline, at most one ipmitool per IPMI BMC, no other kind of child;
  4. the one target no server stands behind (the jump host's own links) stays current throughout;
  5. after the thaw, current again (a successful answer that came after the thaw, fresh, none of its marks
     open) within 1.05 x interval + 2 x timeout (the poll in flight at the thaw, then the next one);
     RabbitMQ from when the node first answers a new client again
     (RABBIT_BACK), Keystone and nova's and neutron's lists within DB_RECOVERY (why below).
Every delay is printed (``pytest -s``); the worst of each kind is in the assertion messages.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from rich.console import Console

from hatui.config import load
from hatui.config.maintenance import Maintenance
from hatui.feed import LiveFeed
from hatui.rules.freshness import FAILURE_CONDITIONS
from hatui.schedule import TargetSpec, target_specs
from hatui.sources import build_sources
from hatui.sources.rabbitmq import GRACE
from hatui.ui.app import TICK, HatuiApp
from hatui.ui.help import Help
from hatui.ui.panes import AreaPane
from tests.lab import cloud as cloud_lab
from tests.lab import rabbit as rabbit_lab
from tests.lab.hosts import _pids_with

pytestmark = [pytest.mark.lab, pytest.mark.cloud]

API_SERVERS = ("haproxy", "keystone", "nova-api", "placement-api", "glance-api", "neutron-server")
JITTER = 1.05  # hatui/feed/live.py: the next poll comes interval x uniform(0.95, 1.05) after the last
SLACK = 0.5  # s: the "timeout + 0.5 s"
KEY_WAIT = 1.0  # s for a key to take effect
THREADS_MORE = 8  # threads the process may gain while everything is frozen
SAMPLE = 0.05  # s between samples
FIRST_ANSWERS = 60.0  # s for every target to answer once before the freeze
# After the thaw, Keystone and nova's and neutron's APIs need their database: with every Galera node frozen
# longer than the lab's evs.inactive_timeout (3 s), each node, thawed, may first find its peers silent and
# drop them (seen in most runs): the cluster is non-Primary for ~2-3 s until they merge again, Keystone
# answers 500 meanwhile and nova-api waits on it. Their first answer then comes when the database is back,
# not within one interval + timeout (measured: 0.2-1.4 s in this test, 5.8 s after a 15 s freeze).
DB_RECOVERY = 30.0
DB_SOURCES = ("keystone", "services")
RABBIT_BACK = 30.0  # s for each RabbitMQ node to answer a new client after the thaw
NOT_FROZEN = {("local", "jump")}  # the jump host's own links: read from /sys, no server behind
# The RPC connection list is polled every 30 s (clients_interval): a freeze this short may fall between
# two of its polls, so its mark is not waited for (its freshness is the same code as every other target's).
NOT_WAITED = {("rabbitmq-clients", "cloud-mq")}
SIZE = (120, 40)  # the README's bench terminal (a tmux pane)
BAD_WORDS = ("▲ WARN", "✖ CRIT", "? UNKN", "? STALE", "✖ DOWN")


def _server_pids(lab: cloud_lab.Lab) -> dict[str, list[int]]:
    """What is frozen: every kind of server hatui polls, by name -> pids."""
    out: dict[str, list[int]] = {}
    for h in cloud_lab.CONTROLLERS:  # what Lab.freeze(host, "galera" | "rabbitmq") signals
        out[f"mariadbd@{h.name}"] = [lab.galera.pid(h.index)]
        out[f"rabbitmq@{h.name}"] = [lab.rabbit.pid(h)]
    for s in lab.openstack.services():  # each instance's whole process group (gunicorn master + worker)
        if s["binary"] in API_SERVERS:
            out[s["name"]] = s["pids"]
    for h in cloud_lab.HOSTS.values():
        out[f"bmc-{h.bmc}@{h.name}"] = lab._bmc_pids(h)
        out[f"sshd@{h.name}"] = _pids_with(lab._listener_tag(h))
    missing = [name for name, pids in out.items() if not pids or None in pids]
    assert not missing, f"not running: {missing}"
    return out


def _children() -> list[str]:
    """This process's children, by command name."""
    me, out = str(os.getpid()), []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            if stat.rsplit(") ", 1)[1].split()[1] == me:
                out.append(stat[stat.index("(") + 1:stat.rindex(")")])
    return out


def _pane_text(app: HatuiApp, area: str) -> str:
    """A pane as the terminal shows it (as tests/ui/test_app.py reads it)."""
    pane = app.query_one(f"#pane-{area}", AreaPane)
    console = Console(width=max(40, pane.content_size.width), record=True, file=io.StringIO(), color_system=None)
    console.print(pane.content)
    return pane.border_title + "\n" + console.export_text()


def _row_marked(text: str, name: str) -> bool:
    """The row of ``name`` (a node, a host) shows it is not OK."""
    return any(f" {name} " in line and line.lstrip().startswith(BAD_WORDS) for line in text.splitlines())


@dataclass
class Target:
    spec: TargetSpec
    timeout: float  # what bounds its mark: its poll's timeout (the endpoint round: each probe's)
    any_of: set[str]  # its mark: one of these finding ids open ...
    all_of: set[str]  # ... or all of these (the endpoint round: every catalog endpoint down)
    pane: str
    shown: Callable[[str], bool]  # its pane's text shows its mark
    marked_at: float | None = None  # s after the freeze, as hatui judged it (the finding's "since")
    sampled_at: float | None = None  # s after the freeze, when this test's sampling loop saw the mark
    shown_at: float | None = None  # s after the freeze, its pane's text
    current_at: float | None = None  # s after the thaw, when hatui got the answer that made it current
    current_seen: float | None = None  # s after the thaw, when this test's sampling loop saw it
    server_back: float = 0.0  # s after the thaw when its server first answered a new client (RabbitMQ)
    why: list[tuple[float, str]] = field(default_factory=list)  # (s after the thaw, why not current yet)

    @property
    def key(self) -> tuple[str, str]:
        return self.spec.key

    def mark_ids(self, ids: set[str]) -> set[str]:
        return (self.any_of & ids) or (self.all_of if self.all_of and self.all_of <= ids else set())

    @property
    def bound(self) -> float:
        return JITTER * self.spec.interval + self.timeout + SLACK

    @property
    def recovery_bound(self) -> float:
        if self.spec.source in DB_SOURCES:
            return DB_RECOVERY
        if self.spec.source == "rabbitmq":
            # the poll in flight when the node answers again may still time out, the next comes an interval
            # later and, once the node answered, waits up to GRACE x timeout for its cluster-wide endpoints;
            # SLACK: server_back is measured by a client on this same (busy) loop
            return self.server_back + self.timeout + JITTER * self.spec.interval + GRACE * self.timeout + SLACK
        # the poll in flight at the thaw may still end on the freeze's account (up to its timeout), the next
        # starts an interval later, and its own answer takes time too: a thawed listener served its backlog
        # first (CI: the hosts' :22 banners current again 2.16 s after the thaw, at 1 s + 1 s)
        return JITTER * self.spec.interval + 2 * self.timeout


def _targets(config, specs: list[TargetSpec], catalog_types: set[str]) -> list[Target]:
    out = []
    for spec in specs:
        source, name = spec.key
        any_of = {f"{source}.{c}:{name}" for c in ("slow", "unreachable", "stale",
                                                   *FAILURE_CONDITIONS.get(source, {}).values())}
        all_of: set[str] = set()
        timeout = spec.timeout
        if source in ("galera", "rabbitmq", "power"):  # the node's or host's row is no longer OK
            pane, shown = ("hosts" if source == "power" else source), (lambda t, n=name: _row_marked(t, n))
        elif source == "network":  # the host answers, its :22 accepts and says nothing
            any_of.add(f"hosts.service_down:{name}")
            pane, shown = "hosts", (lambda t, n=name: any(f" {n} " in ln and "silent" in ln for ln in t.splitlines()))
        elif source == "keystone":
            pane, shown = "endpoints", (lambda t, n=name: any(
                f"Keystone {n}:" in ln and ln.lstrip().startswith(BAD_WORDS) for ln in t.splitlines()))
        elif source == "haproxy":  # "haproxy lb: no answer for 1.6 s (timeout 3 s)", then "... within 3 s"
            pane, shown = "endpoints", (lambda t, n=name: f"haproxy {n}: no answer" in t)
        elif source == "services":  # "nova: no answer for 1.6 s (timeout 3 s)", then "... within 3 s"
            pane, shown = "services", (lambda t, n=name: any(ln.lstrip().startswith(f"{n}: no answer")
                                                             for ln in t.splitlines()))
        elif source == "endpoint":
            # The round itself answers (each probe has its own timeout, the round's is 4 of them): its mark is
            # every catalog endpoint down, Keystone's own as keystone.unreachable (README: the login's).
            timeout = config.section("openstack").timeout
            all_of = {f"endpoint.down:{t}" for t in catalog_types if t != "identity"} | {"keystone.unreachable:cloud"}

            def shown(t: str, n: int = len(catalog_types)) -> bool:  # noqa: B008 - bound now, on purpose
                rows = [ln for ln in t.splitlines() if f"{cloud_lab.VIP}:" in ln and "Keystone" not in ln]
                return len(rows) == n and all(r.lstrip().startswith(BAD_WORDS) and "no answer" in r for r in rows)
            pane = "endpoints"
        else:
            raise AssertionError(f"a target this test does not know: {spec.key}")
        out.append(Target(spec, timeout, any_of, all_of, pane, shown))
    return out


def _not_current(app: HatuiApp, t: Target, ids: set[str], since_wall: float) -> str:
    """Why the target is not current ("" when it is: a successful answer that arrived after ``since_wall``,
    fresh, and none of its marks open)."""
    st = app.assessment.snapshot.get(*t.key)
    if st is None or st.latest is None:
        return "no answer yet"
    if not st.latest.ok:
        return f"last poll failed: {st.latest.failure.message}"
    if st.latest.observed_at + (st.latest.latency or 0.0) < since_wall:
        return f"no answer since (a poll pending for {st.pending_for:.1f} s)"
    if not st.fresh:
        return "stale"
    return f"open: {sorted(t.mark_ids(ids))}" if t.mark_ids(ids) else ""


def _missing(app: HatuiApp, missing: list[Target], open_ids: set[str]) -> str:
    panes = {t.pane for t in missing if t.shown_at is None}
    return (f"marks (s after the freeze: assessment, screen): {[(t.key, t.marked_at, t.shown_at) for t in missing]}; "
            f"open: {sorted(open_ids)}; " + "".join(f"\n{_pane_text(app, p)}" for p in sorted(panes)))


async def _first_answer(h: cloud_lab.Host, t0: float) -> float:
    """s after ``t0`` when the node's management API first answers a new client (its node-local health check,
    hatui's pulse for the node)."""
    async with httpx.AsyncClient(auth=(rabbit_lab.MONITOR_USER, rabbit_lab.MONITOR_PASSWORD), trust_env=False) as c:
        while True:
            try:
                r = await c.get(f"http://{h.address}:{cloud_lab.MGMT_PORT}/api/health/checks/local-alarms", timeout=1.0)
                if r.status_code in (200, 503):
                    return time.monotonic() - t0
            except httpx.HTTPError:
                pass
            await asyncio.sleep(SAMPLE)


async def _until(pred: Callable[[], object], timeout: float, what: Callable[[], str]) -> float:
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"not within {timeout:.1f} s: {what()}")
        await asyncio.sleep(SAMPLE)
    return time.monotonic() - t0


async def test_everything_frozen_at_once_panes_mark_it_keys_answer_nothing_piles_up_and_all_comes_back(
        lab, cloud_config, env, monkeypatch, tmp_path):
    for k in cloud_lab.Lab.secrets_env():
        monkeypatch.setenv(k, env[k])
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # no maintenance file of anyone else's
    config = load(str(cloud_config))
    specs = target_specs(config)
    catalog_types = {t for _name, t, _url in lab.openstack.catalog} | {"identity"}
    targets = _targets(config, [s for s in specs if s.key not in NOT_FROZEN | NOT_WAITED], catalog_types)
    steady = [s for s in specs if s.key in NOT_FROZEN]
    ipmi_bmcs = sum(1 for h in cloud_lab.HOSTS.values() if h.bmc == "ipmi")
    app = HatuiApp(config, LiveFeed(build_sources(config)), maintenance=Maintenance(config.hatui.maintenance_file, ()))

    stopped: list[int] = []
    rabbit_back: dict[str, asyncio.Task] = {}
    phase = {"name": "setup", "t0": 0.0, "wall": 0.0}
    threads: dict[str, list[int]] = {"baseline": [], "frozen": [], "thawed": []}
    kids: dict[str, list[list[str]]] = {"baseline": [], "frozen": [], "thawed": []}
    steady_gaps: list[float] = []
    after_thaw: set[str] = set()  # every finding open at some point after the thaw

    def ids() -> set[str]:
        return {f.id for f in app.assessment.findings} if app.assessment else set()

    async def sample() -> None:
        """Every SAMPLE s: threads and children; while frozen, each target's mark in the assessment and on
        screen; after the thaw, when each target is current again."""
        n = 0
        while True:
            now = time.monotonic()
            name = phase["name"]
            if name != "setup":
                threads[name].append(len(os.listdir("/proc/self/task")))
                kids[name].append(_children())
            if app.assessment is not None and name == "frozen":
                open_ids = ids()
                texts: dict[str, str] = {}
                for t in targets:
                    if t.marked_at is None and t.mark_ids(open_ids):
                        # when hatui judged it: the finding's "since" (this loop may run late behind a redraw)
                        since = [f.since for f in app.assessment.findings if f.id in t.mark_ids(open_ids)]
                        t.marked_at = (max(since) if t.all_of else min(since)) - phase["wall"]
                        t.sampled_at = now - phase["t0"]
                    if t.shown_at is None and n % 2 == 0:  # the screen every 0.1 s (reading it costs)
                        if t.pane not in texts:
                            texts[t.pane] = _pane_text(app, t.pane)
                        if t.shown(texts[t.pane]):
                            t.shown_at = now - phase["t0"]
                for s in steady:
                    st = app.assessment.snapshot.get(*s.key)
                    steady_gaps.append(time.time() - st.latest.observed_at if st and st.latest else float("inf"))
            elif app.assessment is not None and name == "thawed":
                open_ids = ids()
                after_thaw.update(open_ids)
                for t in targets:
                    if t.current_at is None:
                        why = _not_current(app, t, open_ids, phase["wall"])
                        if why:
                            t.why.append((round(now - phase["t0"], 2), why))
                        else:  # when hatui had that answer (this loop may run late behind a redraw)
                            latest = app.assessment.snapshot.get(*t.key).latest
                            t.current_at = latest.observed_at + (latest.latency or 0.0) - phase["wall"]
                            t.current_seen = now - phase["t0"]
            n += 1
            await asyncio.sleep(SAMPLE)

    async with app.run_test(size=SIZE) as pilot:
        sampler = asyncio.create_task(sample())
        try:
            # every target has answered and is current; nothing says "waiting"
            start_wall = time.time() - 1.0
            await _until(lambda: app.assessment is not None and not app.assessment.unknown_why
                         and not any(_not_current(app, t, ids(), start_wall) for t in targets), FIRST_ANSWERS,
                         lambda: f"first answers: {app.assessment and app.assessment.unknown_why}; "
                                 f"open: {sorted(ids())}")
            app.redraw()
            await pilot.pause()
            assert not [a for a in ("galera", "rabbitmq", "endpoints", "services", "hosts")
                        if "waiting" in _pane_text(app, a)]
            await pilot.press("f")  # the findings pane focused: the pane key pressed while frozen moves it
            servers = _server_pids(lab)  # (blocks the loop a moment, before the baseline and the freeze)
            phase["name"] = "baseline"
            await asyncio.sleep(1.0)  # a second of baseline samples (threads, children)
            try:
                phase.update(name="frozen", t0=time.monotonic(), wall=time.time())
                vanished = set()
                for name, pids in servers.items():
                    for pid in pids:
                        try:
                            os.kill(pid, signal.SIGSTOP)
                            stopped.append(pid)
                        except ProcessLookupError:
                            vanished.add(name)
                freeze_took = time.monotonic() - phase["t0"]
                if vanished:  # a process exited since the look-up (a worker replaced): that server's pids again
                    print(f"\nre-resolved after the freeze: {sorted(vanished)}")
                    again = _server_pids(lab)
                    for name in vanished:
                        for pid in set(again[name]) - set(stopped):
                            os.kill(pid, signal.SIGSTOP)
                            stopped.append(pid)

                # keys, while the polls hang (blocking ones in their threads, the others on the loop)
                await asyncio.sleep(1.0)
                keys: dict[str, float] = {}
                for key, done in (("g", lambda: app.focused is app.query_one("#pane-galera")),
                                  ("e", lambda: app.focused is app.query_one("#pane-endpoints")),
                                  ("question_mark", lambda: isinstance(app.screen, Help)),
                                  ("escape", lambda: len(app.screen_stack) == 1 and app.focused is not None)):
                    # from the key sent to its effect (pilot.press itself also waits for the process to idle)
                    t_key = time.monotonic()
                    press = asyncio.create_task(pilot.press(key))
                    await _until(done, KEY_WAIT, lambda k=key: f"key {k!r} answered")
                    keys[key] = time.monotonic() - t_key
                    await press

                # every target's mark, in the assessment and on screen, each within its bound
                worst = max(t.bound for t in targets)
                await _until(lambda: all(t.marked_at is not None and t.shown_at is not None for t in targets),
                             worst + TICK + 0.5 - (time.monotonic() - phase["t0"]),
                             lambda: _missing(app, [t for t in targets if None in (t.marked_at, t.shown_at)], ids()))
                await asyncio.sleep(0.5)  # a few more samples of threads and children while frozen
                frozen_for = time.monotonic() - phase["t0"]
            finally:
                t_thaw = time.monotonic()
                for pid in stopped:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGCONT)
                phase.update(name="thawed", t0=t_thaw, wall=time.time())
                rabbit_back = {h.name: asyncio.create_task(_first_answer(h, t_thaw)) for h in cloud_lab.CONTROLLERS}
            # RabbitMQ itself answers late after a whole-cloud thaw (a new client: 0.3-1.3 s; ~35 processes
            # resume at once on 2 cores, every client reconnects): each node's bound counts from that answer
            for name, task in rabbit_back.items():
                back = await asyncio.wait_for(task, RABBIT_BACK)
                for t in targets:
                    if t.key == ("rabbitmq", name):
                        t.server_back = back
            await _until(lambda: all(t.current_at is not None for t in targets), DB_RECOVERY + 1.0,
                         lambda: f"current again: {[t.key for t in targets if t.current_at is None]}; "
                                 f"open: {sorted(ids())}")
            await asyncio.sleep(0.5)
        finally:
            for task in (sampler, *rabbit_back.values()):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # the figures
    print(f"\nfroze {sum(map(len, servers.values()))} processes of {len(servers)} servers in "
          f"{freeze_took * 1000:.1f} ms, for {frozen_for:.1f} s")
    for t in sorted(targets, key=lambda t: t.key):
        print(f"  {t.key[0]:>10}/{t.key[1]:<9} mark {t.marked_at:5.2f} s, on screen {t.shown_at:5.2f} s "
              f"(bound {t.bound:4.2f}; seen {t.sampled_at:5.2f} s); "
              f"current {t.current_at:5.2f} s after the thaw (seen {t.current_seen:5.2f} s; "
              f"bound {t.recovery_bound:4.2f}"
              + (f"; its server answered a new client {t.server_back:.2f} s after" if t.server_back else "") + ")")
    print(f"  open after the thaw: {sorted(i for i in after_thaw if not i.startswith('redundancy.'))}")
    print(f"  keys: {', '.join(f'{k} {v * 1000:.0f} ms' for k, v in keys.items())}")
    for name in threads:
        print(f"  {name}: threads {min(threads[name])}-{max(threads[name])}, children at most "
              f"{max(map(len, kids[name]))} ({sorted({c for s in kids[name] for c in s})})")
    print(f"  not frozen {[s.key for s in steady]}: latest answer at most {max(steady_gaps):.2f} s old")

    late = [(t.key, round(t.marked_at, 2), t.bound) for t in targets if t.marked_at > t.bound]
    assert not late, f"marked late: {late}"
    late = [(t.key, round(t.shown_at, 2), t.bound + TICK) for t in targets if t.shown_at > t.bound + TICK]
    assert not late, f"shown late: {late}"
    assert all(v <= KEY_WAIT for v in keys.values()), keys
    assert max(threads["frozen"]) <= max(threads["baseline"]) + THREADS_MORE, threads
    assert max(threads["thawed"]) <= max(threads["baseline"]) + THREADS_MORE, threads
    for name in ("frozen", "thawed"):
        assert all(s.count("ipmitool") <= ipmi_bmcs for s in kids[name]), kids[name]
        assert {c for s in kids[name] for c in s} <= {"ipmitool"} | {c for s in kids["baseline"] for c in s}, kids[name]
    assert max(steady_gaps) <= max(s.interval for s in steady) * JITTER + 1.0, steady_gaps
    late = [(t.key, round(t.current_at, 2), t.recovery_bound, t.why[-3:]) for t in targets
            if t.current_at > t.recovery_bound]
    assert not late, f"current again late: {late}"
