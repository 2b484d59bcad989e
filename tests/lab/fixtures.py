"""The pytest fixtures every lab's own tests use: the lab up once per module, reset around each test."""
from __future__ import annotations

import pytest


def lab_fixtures(lab_class):
    """``lab, clean = lab_fixtures(Lab)`` in a test module: ``lab`` is up for the module, and every test
    starts and ends with the lab back in its healthy default state."""

    @pytest.fixture(scope="module")
    def lab():
        instance = lab_class()
        instance.up()
        yield instance
        instance.reset()

    @pytest.fixture(autouse=True)
    def clean(lab):
        lab.reset()
        yield
        lab.reset()

    return lab, clean
