"""TOML text for ``hatui init``: values quoted by TOML's rules, comments that cannot break a line.

Every value written comes from the cloud (host names, URLs, backend names): a quote, a backslash or a
newline in one must stay inside its string, and a comment must never end early and start a TOML line of
its own. Only the types hatui's config holds are written: strings, integers, finite floats, booleans and
flat lists of them.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
VALUE_COLUMN = 33  # comments after a value start here when they fit, as in hatui.example.toml

Value = str | int | float | bool | list


def string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def value(v: Value) -> str:
    if isinstance(v, bool):  # before int: a bool is an int to Python
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"not a finite number: {v!r}")
        return repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError(f"no TOML for {type(v).__name__}")


def key(name: str) -> str:
    """A bare key when TOML allows one, else a quoted key."""
    return name if _BARE_KEY.fullmatch(name) else string(name)


def comment_text(text: str) -> str:
    """Text safe inside a comment: control characters (a newline would end it) become spaces."""
    return "".join(" " if (ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F else ch for ch in text)


@dataclass
class Document:
    """A TOML document written line by line, each line with its comment where one helps."""

    lines: list[str] = field(default_factory=list)

    def _line(self, text: str, note: str | None) -> None:
        if note:
            text = f"{text.ljust(VALUE_COLUMN - 1)} # {comment_text(note)}" if text else f"# {comment_text(note)}"
        self.lines.append(text)

    def comment(self, *notes: str) -> None:
        for note in notes:
            self.lines.append(f"# {comment_text(note)}".rstrip())

    def blank_line(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def table(self, name: str, note: str | None = None, *, array: bool = False) -> None:
        self.blank_line()
        dotted = ".".join(key(part) for part in name.split("."))
        self._line(f"[[{dotted}]]" if array else f"[{dotted}]", note)

    def set(self, name: str, v: Value, note: str | None = None) -> None:
        self._line(f"{key(name)} = {value(v)}", note)

    def blank(self, name: str, example: Value | str, note: str | None = None, *, raw: bool = False) -> None:
        """A commented-out key for the operator to fill in: ``# name = example  # note``. ``raw``: the
        example is written as is (an inline table, a placeholder)."""
        text = f"# {key(name)} = {comment_text(str(example)) if raw else value(example)}"
        self._line(text, note)

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"
