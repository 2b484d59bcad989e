"""Rows laid out in columns (hatui.ui.columns): every line exactly the pane's width, nothing lost but
what an ellipsis says is cut, the status word never squeezed."""
from __future__ import annotations

from rich.cells import cell_len

from hatui.ui.columns import GAP, SPACE, header_line, row_lines, widths

COLUMNS = ("", "node", "what")
ROWS = [(("✔ OK", "ok"), ("db-1", ""), ("Synced", "ok")),
        (("✖ CRIT", "critical"), ("db-2", ""), ("connection refused after a long wait for the node", "critical"))]


def text(line) -> str:
    return "".join(t for t, _tone in line)


def test_lines_fill_the_width_and_the_last_column_is_flush_right():
    sizes = widths(COLUMNS, ROWS, 80)
    assert sum(sizes) + GAP * 2 == 80
    lines = [text(line) for row in ROWS for line in row_lines(row, sizes, [False] * 3)]
    assert all(cell_len(line) == 80 for line in lines), lines
    assert lines[0].split() == ["✔", "OK", "db-1", "Synced"] and lines[0].endswith("Synced")
    assert text(header_line(COLUMNS, sizes)).endswith("what")


def test_the_extra_width_goes_to_the_wrapping_column():
    sizes = widths(COLUMNS, ROWS, 100, wraps=("what",))
    assert sizes == [6, 4, 100 - 6 - 4 - 2 * GAP]  # the others keep their widest cell


def test_too_narrow_a_wrapping_column_folds_its_words_and_the_row_grows():
    sizes = widths(COLUMNS, ROWS, 34, wraps=("what",))
    assert sizes[0] == 6  # the status word keeps its width
    lines = row_lines(ROWS[1], sizes, [False, False, True])
    assert len(lines) > 1 and all(cell_len(text(line)) == 34 for line in lines)
    words = " ".join(text(line)[6 + GAP + 4 + GAP:].strip() for line in lines)
    assert words == "connection refused after a long wait for the node"
    assert all(tone == SPACE for line in lines for t, tone in line if t and not t.strip())  # pads, apart


def test_a_cut_cell_says_so_with_an_ellipsis():
    rows = [(("✔ OK", "ok"), ("a-very-long-node-name-indeed", ""), ("x", ""))]
    sizes = widths(COLUMNS, rows, 24)
    line = text(row_lines(rows[0], sizes, [False] * 3)[0])
    assert cell_len(line) == 24 and "…" in line and line.startswith("✔ OK")
