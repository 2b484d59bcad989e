"""The command line as an operator meets it: every subcommand says what it does."""
from __future__ import annotations

import argparse

from hatui.cli import _parser


def test_every_subcommand_describes_itself():
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == {"ui", "check", "watch", "serve", "ok-to-stop", "maintenance", "record", "replay",
                                 "demo", "init"}
    listed = {c.dest: c.help for c in sub._choices_actions}  # what `hatui -h` lists
    for name, parser in sub.choices.items():
        assert parser.description and parser.description == listed[name], name


def test_without_a_config_hatui_suggests_the_demo_and_init():
    from hatui.config import NoConfig

    said = str(NoConfig())
    assert "hatui demo" in said and "hatui init --cloud NAME" in said
