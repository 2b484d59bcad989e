"""The fuzz tests' figures in the run's summary: how many hypothesis cases ran, and in how long."""
from __future__ import annotations

from tests.unit.fuzz_strategies import CASES

_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report):
    if "test_fuzz_" in report.nodeid:
        _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    total = sum(CASES.values())
    if total:
        terminalreporter.write_line(f"fuzz: {total} cases in {len(CASES)} tests, {sum(_seconds.values()):.1f} s")
