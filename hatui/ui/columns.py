"""Rows of (text, tone) cells laid out in columns of a given width, as plain lines of cells.

Rich's Table lays out and renders a table whole to learn even its height, and Textual asks for the height
at every layout: with a thousand hosts that cost a third of a second per refresh and held the keys back.
Here the columns are measured once, each row becomes its lines, and a pane's height is its number of
lines. Like the Table it replaces: two spaces between columns, the extra width shared by the wrapping
columns (else by all, as their widths go), a cell too long for its column cut with an ellipsis, a
wrapping cell folded over several lines, the last column flush right.
"""
from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size

Cell = tuple[str, str]  # (text, tone), as hatui.ui.views.common.Cell
GAP = 2                 # spaces between two columns
SPACE = "space"         # the tone of the spaces that pad and separate cells
MIN_WRAP = 12           # a wrapping column is not squeezed below this while another can give
MIN_CUT = 3             # nor a cut one below this


def widths(columns: Sequence[str], rows: Sequence[Sequence[Cell]], width: int,
           wraps: Sequence[str] = ()) -> list[int]:
    """Each column's width: its widest cell (or title), then widened or narrowed to fill ``width``."""
    n = len(columns)
    out = [max([cell_len(c)] + [cell_len(r[i][0]) for r in rows]) for i, c in enumerate(columns)]
    room = width - GAP * (n - 1)
    extra = room - sum(out)
    wrapping = [i for i, c in enumerate(columns) if c in wraps]
    if extra > 0:  # shared out: to the wrapping columns, else to all as wide as they are
        takers = wrapping or list(range(n))
        weight = [out[i] if not wrapping else 1 for i in takers]
        total = sum(weight) or 1
        given = [extra * w // total for w in weight]
        given[-1] += extra - sum(given)
        for i, g in zip(takers, given, strict=True):
            out[i] += g
        return out
    # too wide: the wrapping columns give first, then the widest of the others (never the first: the
    # status word is read before anything else)
    for i in wrapping:
        while extra < 0 and out[i] > MIN_WRAP:
            give = min(out[i] - MIN_WRAP, -extra)
            out[i] -= give
            extra += give
    while extra < 0:
        widest = max(range(1, n), key=lambda i: out[i], default=None) if n > 1 else None
        if widest is None or out[widest] <= MIN_CUT:
            break  # narrower than anything can be: Textual crops the rest
        out[widest] -= 1
        extra += 1
    return out


def _fit(text: str, width: int, wrap: bool) -> list[str]:
    if cell_len(text) <= width:
        return [text]
    if wrap:
        folded = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]
        return [set_cell_size(line, width).rstrip() for line in folded]
    return [set_cell_size(text, max(0, width - 1)) + "…"]


def row_lines(row: Sequence[Cell], sizes: Sequence[int], wrap: Sequence[bool]) -> list[list[Cell]]:
    """One row as its lines (a wrapping cell makes it taller), each line's cells padded to their columns
    and joined by GAP spaces; the last column flush right."""
    fitted = [_fit(text, size, w) for (text, _tone), size, w in zip(row, sizes, wrap, strict=True)]
    last = len(sizes) - 1
    out = []
    for k in range(max(len(f) for f in fitted)):
        line: list[Cell] = []
        for i, ((_text, tone), size, parts) in enumerate(zip(row, sizes, fitted, strict=True)):
            part = parts[k] if k < len(parts) else ""
            pad = " " * (size - cell_len(part))
            if i == last:
                line += [(pad, SPACE), (part, tone)]
            else:
                line += [(part, tone), (pad + " " * GAP, SPACE)]
        out.append(line)
    return out


def header_line(columns: Sequence[str], sizes: Sequence[int]) -> list[Cell]:
    return row_lines([(c, "dim") for c in columns], sizes, [False] * len(columns))[0]
