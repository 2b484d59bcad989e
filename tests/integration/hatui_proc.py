"""Run the real ``hatui`` CLI against the lab, as an operator would: check --json, watch, record.

``Watcher`` runs ``hatui watch`` in a subprocess and collects its JSON lines on a reader thread,
so a test can wait for "finding X opened" with a deadline and measure when it arrived.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path


def hatui_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    return env


def until(pred: Callable[[], object], timeout: float, what: str):
    """Poll ``pred`` until it returns something true (returned), else fail saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.1)


def check_json(config: Path, env: dict[str, str], timeout: float = 60, args: tuple[str, ...] = ()) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "hatui", "check", "--json", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


class Watcher:
    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "hatui", "watch", "--config", str(config)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.events: list[tuple[float, dict]] = []  # (monotonic arrival, event)
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            ev = json.loads(line)
            with self._cond:
                self.events.append((time.monotonic(), ev))
                self._cond.notify_all()

    def open_ids(self, kind: str | None = None) -> set[str]:
        """Findings open now (of ``kind``, "failure" or "spof", if given), from the event stream alone."""
        out: set[str] = set()
        with self._cond:
            for _, ev in self.events:
                f = ev["finding"]
                if ev["event"] == "opened" and kind in (None, f["kind"]):
                    out.add(f["id"])
                elif ev["event"] == "cleared":
                    out.discard(f["id"])
        return out

    def cause(self, finding_id: str) -> str | None:
        """What explains that finding, as the last "opened" or "explained" event about it says."""
        with self._cond:
            evs = [ev for _, ev in self.events if ev["finding"]["id"] == finding_id and ev["event"] != "cleared"]
        return evs[-1]["finding"]["caused_by"] if evs else None

    def wait_cause(self, finding_id: str, cause: str, timeout: float) -> None:
        """Until the watch says ``cause`` explains that finding (a cause is often seen a poll after), or
        the finding is gone."""
        deadline = time.monotonic() + timeout
        while self.cause(finding_id) != cause and finding_id in self.open_ids():
            if time.monotonic() > deadline:
                raise AssertionError(f"{finding_id}: explained by {self.cause(finding_id)!r}, not {cause!r}; "
                                     f"its events: {self.history(finding_id, cause)}")
            time.sleep(0.1)

    def wait_explained(self, finding_id: str, cause: str, timeout: float) -> None:
        """Until that finding is open and explained by ``cause`` (it may open, clear and open again on the
        way: a failover's first seconds)."""
        deadline = time.monotonic() + timeout
        while not (finding_id in self.open_ids() and self.cause(finding_id) == cause):
            if time.monotonic() > deadline:
                raise AssertionError(f"{finding_id}: not open and explained by {cause!r} within {timeout}s; "
                                     f"events: {self.history(finding_id, cause)}")
            time.sleep(0.1)

    def history(self, *finding_ids: str) -> list[tuple[str, str, str | None]]:
        """(time, event, cause) of every event about these findings: what a failed wait shows."""
        with self._cond:
            return [(ev["at"][11:23], f'{ev["event"]} {ev["finding"]["id"]}', ev["finding"]["caused_by"])
                    for _, ev in self.events if ev["finding"]["id"] in finding_ids]

    def wait(self, pred: Callable[[dict], bool], timeout: float, after: float = 0.0) -> tuple[float, dict]:
        """The first event matching ``pred`` that arrived after monotonic time ``after``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for t, ev in self.events:
                    if t >= after and pred(ev):
                        return t, ev
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no matching event within {timeout}s; events: "
                                         f"{[e for _, e in self.events][-15:]}; stderr: {self._stderr()}")
                self._cond.wait(left)

    def wait_opened(self, finding_id: str, timeout: float, after: float = 0.0) -> tuple[float, dict]:
        return self.wait(lambda e: e["event"] == "opened" and e["finding"]["id"] == finding_id, timeout, after)

    def wait_cleared(self, finding_id: str, timeout: float, after: float = 0.0) -> tuple[float, dict]:
        return self.wait(lambda e: e["event"] == "cleared" and e["finding"]["id"] == finding_id, timeout, after)

    def open_failures(self) -> set[str]:
        return self.open_ids("failure")

    def _wait_none_open(self, kind: str | None, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.open_ids(kind):
            if time.monotonic() > deadline:
                raise AssertionError(f"{kind or 'finding'}s still open after {timeout}s: {sorted(self.open_ids(kind))}")
            time.sleep(0.05)

    def wait_no_failure(self, timeout: float) -> None:
        """Until no failure is open: healthy, as hatui sees it, in a lab with SPOFs by construction."""
        self._wait_none_open("failure", timeout)

    def wait_quiet(self, timeout: float) -> None:
        """Until no finding is open (the lab is healthy as hatui sees it)."""
        self._wait_none_open(None, timeout)

    def _stderr(self) -> str:
        if self.proc.poll() is None:
            return "(running)"
        return (self.proc.stderr.read() if self.proc.stderr else "")[-2000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
