"""hatui's colour themes (Textual themes: the stylesheet, themes/hatui.tcss, reads only their variables).

Every theme gives focus its own colour ($accent), never the warning one (Textual's default dark theme
uses one orange for both). In ``hatui-mono``, and whenever NO_COLOR is set, meaning is carried by
glyph, word and weight alone: CRIT is bold and reversed, the most prominent thing on screen.
"""
from __future__ import annotations

import os

from textual.theme import BUILTIN_THEMES, Theme

DEFAULT, MONO = "hatui-dark", "hatui-mono"

THEMES = (
    Theme(name=DEFAULT, primary="#0178D4", secondary="#a58bd6", accent="#3fb6e8", warning="#ffa62b",
          error="#e0455f", success="#4EBF71", foreground="#e0e0e0", dark=True),
    Theme(name="hatui-light", primary="#004578", secondary="#6b4fa0", accent="#0a6fb3", warning="#a85f00",
          error="#b0243f", success="#2d7d46", background="#f2f2f2", surface="#e8e8e8", panel="#dcdcdc",
          dark=False),
    Theme(name="hatui-high-contrast", primary="#00bfff", secondary="#d0a0ff", accent="#00e5ff",
          warning="#ffd700", error="#ff3b3b", success="#00ff66", foreground="#ffffff", background="#000000",
          surface="#000000", panel="#1c1c1c", dark=True),
    Theme(name=MONO, primary="#c8c8c8", secondary="#b0b0b0", accent="#ffffff", warning="#e6e6e6",
          error="#ffffff", success="#a0a0a0", foreground="#e6e6e6", background="#000000", surface="#000000",
          panel="#262626", dark=True),
)


def default_theme(configured: str | None) -> str:
    """The configured theme; else monochrome where NO_COLOR is set (https://no-color.org), else dark."""
    if configured:
        return configured
    return MONO if os.environ.get("NO_COLOR") else DEFAULT


def theme_names() -> list[str]:
    """hatui's themes first, then Textual's own."""
    return [t.name for t in THEMES] + sorted(BUILTIN_THEMES)
