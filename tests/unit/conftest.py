"""The fuzz tests' figures in the run's summary: how many hypothesis cases ran, and in how long.

The count is taken as the examples run (tests/unit/fuzz_strategies.py wraps every fuzz test's body). A run
of the whole fuzz set must execute at least FLOOR cases (issue 13: 10,000 per CI run), else it fails.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.fuzz_strategies import CASES

FLOOR = 10_000
# the whole fuzz set: every test_fuzz_* function of the test_fuzz_*.py files, as fuzz() names them
FUZZ_SET = {f"{path.stem}::{name}" for path in Path(__file__).parent.glob("test_fuzz_*.py")
            for name in re.findall(r"^def (test_fuzz_\w+)", path.read_text(), re.MULTILINE)}
_seconds: dict[str, float] = {}


def _is_fuzz(nodeid: str) -> bool:
    return "/test_fuzz_" in nodeid and "::test_fuzz_" in nodeid


def pytest_runtest_logreport(report):
    if _is_fuzz(report.nodeid):
        _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + report.duration


def _whole_set_ran() -> bool:
    return bool(FUZZ_SET) and FUZZ_SET <= set(CASES)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    if _whole_set_ran() and sum(CASES.values()) < FLOOR and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    total = sum(CASES.values())
    if total:
        terminalreporter.write_line(f"fuzz: {total} cases in {len(_seconds)} tests, {sum(_seconds.values()):.1f} s")
        if _whole_set_ran() and total < FLOOR:
            terminalreporter.write_line(f"fuzz: FAILED, fewer than {FLOOR} cases in the whole fuzz set")
