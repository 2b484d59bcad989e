"""The command line as an operator meets it: every subcommand says what it does."""
from __future__ import annotations

import argparse

from hatui.cli import _parser


def test_every_subcommand_describes_itself():
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == {"ui", "check", "watch", "serve", "ok-to-stop", "maintenance", "record", "replay",
                                 "demo"}
    listed = {c.dest: c.help for c in sub._choices_actions}  # what `hatui -h` lists
    for name, parser in sub.choices.items():
        assert parser.description and parser.description == listed[name], name
