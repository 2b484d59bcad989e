"""hatui type-checks clean: mypy, configured in pyproject.toml ([tool.mypy]), finds no error.

mypy keeps its incremental cache in .mypy_cache at the repo root (git-ignored): a run after a small
change re-checks only what changed. mypy comes with the test extra (tests/lab/install.sh installs it);
missing, this test fails rather than skips.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_finds_no_error():
    run = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, f"mypy (exit {run.returncode}):\n{run.stdout}{run.stderr}"
