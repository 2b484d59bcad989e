"""Fixtures of the cloud-lab integration tests: the lab cloud of hosts (tests/lab/cloud.py), healthy around
each test, and the hatui config an operator would write for it (``python -m tests.lab config``).

Marker ``cloud`` (``-m "not cloud"`` leaves them out); they run last (tests/conftest.py), on the lab that
tests/run-all.sh starts in the background."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.hatui_proc import hatui_env
from tests.lab import cloud as cloud_lab

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def cloud_up():
    lab = cloud_lab.Lab()
    lab.up()
    yield lab
    lab.reset()


@pytest.fixture
def lab(cloud_up):
    cloud_up.reset()
    yield cloud_up
    cloud_up.reset()


@pytest.fixture
def env() -> dict[str, str]:
    return hatui_env(cloud_lab.Lab.secrets_env())


@pytest.fixture
def cloud_config(tmp_path) -> Path:
    """What ``python -m tests.lab config`` prints, as an operator would save it."""
    text = subprocess.run([sys.executable, "-m", "tests.lab", "config"], capture_output=True, text=True,
                          check=True, timeout=60, cwd=REPO).stdout
    p = tmp_path / "hatui.toml"
    p.write_text(text)
    return p


@pytest.fixture
def watch(watcher_factory):
    return watcher_factory
