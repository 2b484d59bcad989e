"""Pane widgets: each draws one PaneModel and nothing else (no I/O, no judgement).

Tones map to component classes styled in themes/hatui.tcss, so colours follow the theme. A focused pane
has a row cursor (j/k, up/down, PgUp/PgDn, Home/End) over its rows that start a group (a row whose first
cell is empty continues the one above); Enter posts ``AreaPane.Chosen`` with that row's key.
"""
from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Offset, Region
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from hatui.ui.columns import SPACE, header_line, row_lines, widths
from hatui.ui.views.common import SORTS, Cell, PaneModel, RowKey, group_starts, row_key

TONES = ("ok", "warning", "critical", "unknown", "spof", "stale", "dim", "head")
NARROW = 80  # a pane's own columns below which it leaves out its least useful ones (at 80x24, or
             # side by side on a terminal just wide enough for two)
PAD = Style(meta={"hatui-pad": True})
CURSOR = "hatui-cursor"  # style meta marking the cursor's row, to find the lines it was drawn on
# Groups of rows a pane draws at most: a thousand hosts' rows (or findings) laid out every second
# starved the polls and the keys. Beyond this, a pane draws the
# window around its cursor, which j/k, PgUp/PgDn, Home/End move; / filters every pane.
WINDOW = 40


class Toned(Static):
    """Text made of (text, tone) cells: each tone is a component class, styled by the theme."""

    COMPONENT_CLASSES = {f"pane--{t}" for t in TONES} | {"pane--cursor"}

    def _style(self, tone: str) -> Style:
        return self.get_component_rich_style(f"pane--{tone}") if tone in TONES else Style()

    def _pad_style(self, tone: str) -> Style:
        """A cell's style; the spaces between cells get one of their own, so that they stay a segment apart
        from the text after them (an SVG renderer may drop a text's leading spaces)."""
        return PAD if tone == SPACE else self._style(tone)

    def _line(self, cells: tuple[Cell, ...]) -> Text:
        return Text.assemble(*((text, self._style(tone)) for text, tone in cells))


class AreaPane(Toned):
    """A bordered pane showing one area (Galera, RabbitMQ, ...) or the findings list."""

    BINDINGS = [
        Binding("j,down", "cursor(1)", "Down", show=False),
        Binding("k,up", "cursor(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("home", "cursor(-1000000)", "First row", show=False),
        Binding("end", "cursor(1000000)", "Last row", show=False),
        Binding("enter", "choose", "Detail"),
    ]

    cursor: reactive[int] = reactive(0, init=False)  # which group of rows (see group_starts) is under it

    class Chosen(Message):
        """Enter on a row: show its detail."""

        def __init__(self, pane: AreaPane, key: RowKey) -> None:
            super().__init__()
            self.pane = pane
            self.key = key

    def __init__(self, area: str, title: str, classes: str = "", **kw) -> None:
        super().__init__(id=f"pane-{area}", classes=f"pane {classes}".strip(), **kw)
        self.area = area
        self.border_title = title
        self.sort = SORTS[0]  # how its rows are ordered (the app applies views.common.sorted_rows)
        self._shown: PaneModel | None = None
        self._starts: tuple[int, ...] = ()
        self._narrow = False
        self._first = 0  # the first group drawn (see WINDOW)
        self._laid_out = 0  # the width the rows were last laid out for

    # ---- drawing ---------------------------------------------------------------------------------------

    def _is_narrow(self) -> bool:
        width = self.content_size.width
        return 0 < width < NARROW  # 0: not laid out yet; the first resize re-renders

    def on_resize(self) -> None:
        if self._shown is None:
            return
        if self._is_narrow() != self._narrow:
            self.show(self._shown)
        elif self.content_size.width != self._laid_out:
            self._redraw()  # the columns are laid out for a width

    def show(self, model: PaneModel) -> None:
        narrow = self._is_narrow()
        if model == self._shown and narrow == self._narrow:
            return  # nothing changed: no re-render, no layout (keeps the idle CPU low)
        under = self.key_under_cursor()
        self._shown, self._narrow, self._starts = model, narrow, group_starts(model.rows)
        # the cursor stays on its row while rows come, go or move (a finding opening above it)
        keys = [row_key(model, i) for i in self._starts]
        # (unfocused, a pane shows its top, worst first: its cursor is not drawn, and a window that followed
        # a row pushed down by new findings would hide the newest)
        at = (keys.index(under) if under is not None and under in keys else self.cursor) if self.has_focus else 0
        self.set_reactive(AreaPane.cursor, max(0, min(at, len(self._starts) - 1)))
        for tone in TONES:
            self.set_class(model.tone == tone, f"-{tone}")
        self.border_title = model.title
        self._update(model)

    def _redraw(self) -> None:
        if self._shown is not None:
            self._update(self._shown)

    def _update(self, model: PaneModel) -> None:
        self._laid_out = self.content_size.width
        self.update(self._build(model))

    def _cursor_rows(self) -> range:
        """The rows of the group under the cursor (empty when unfocused: the cursor is the focus's)."""
        if not self.has_focus or not self._starts or self._shown is None:
            return range(0)
        start = self._starts[self.cursor]
        end = self._starts[self.cursor + 1] if self.cursor + 1 < len(self._starts) else len(self._shown.rows)
        return range(start, end)

    def _window(self, model: PaneModel) -> range:
        """The rows drawn: all of them, or WINDOW groups with the cursor's among them."""
        starts = self._starts
        if len(starts) <= WINDOW:
            return range(len(model.rows))
        cursor = min(self.cursor, len(starts) - 1)
        first = min(self._first, cursor)
        first = max(first, cursor - WINDOW + 1)
        self._first = first = max(0, min(first, len(starts) - WINDOW))
        end = starts[first + WINDOW] if first + WINDOW < len(starts) else len(model.rows)
        return range(starts[first], end)

    def _width(self) -> int:
        """The width the rows are laid out for: the pane's content, or (before its first layout) the screen's."""
        return self.content_size.width or max(20, self.app.size.width - 4)

    def _build(self, model: PaneModel) -> Text:
        """The pane's whole content as one Text: its lines are laid out here (hatui.ui.columns), so Textual
        learns the height without rendering a table."""
        lines: list[Text] = []
        if model.headline:
            lines.append(self._line(model.headline))
        if model.note:
            lines.append(Text(model.note, style=self._style("dim")))
        if model.columns and model.rows:
            drawn = self._window(model)
            rows = model.rows[drawn.start:drawn.stop]
            keep = [i for i, col in enumerate(model.columns) if not (self._narrow and col in model.narrow_drop)]
            columns = [model.columns[i] for i in keep]
            cells = [[row[i] for i in keep] for row in rows]
            sizes = widths(columns, cells, self._width(), model.wrap)
            wrap = [c in model.wrap for c in columns]
            under = self._cursor_rows()
            # over each cell's own tone: only the cursor's background (and underline, in monochrome)
            full = self.get_component_rich_style("pane--cursor")
            cursor = Style(bgcolor=full.bgcolor, underline=full.underline, meta={CURSOR: True})
            if drawn.start:
                lines.append(Text(f"↑ {drawn.start} row(s) above (k, PgUp, Home)", style=self._style("dim")))
            lines.append(Text.assemble(*((t, self._pad_style(tone)) for t, tone in header_line(columns, sizes)),
                                      no_wrap=True, overflow="crop", end=""))
            for n, row in zip(drawn, cells, strict=True):
                on = n in under
                for line in row_lines(row, sizes, wrap):
                    text = Text.assemble(*((t, self._pad_style(tone) + cursor if on else self._pad_style(tone))
                                           for t, tone in line), no_wrap=True, overflow="crop", end="")
                    lines.append(text)
            if drawn.stop < len(model.rows):
                lines.append(Text(f"↓ {len(model.rows) - drawn.stop} more row(s) (j, PgDn, End; / filters)",
                                  style=self._style("dim")))
        return Text("\n", end="").join(lines)

    # ---- the row cursor --------------------------------------------------------------------------------

    def key_under_cursor(self) -> RowKey | None:
        if self._shown is None or not self._starts:
            return None
        return row_key(self._shown, self._starts[min(self.cursor, len(self._starts) - 1)])

    def validate_cursor(self, cursor: int) -> int:
        return max(0, min(cursor, len(self._starts) - 1))

    def watch_cursor(self) -> None:
        self._redraw()
        self.call_after_refresh(self._reveal)

    def watch_has_focus(self, has_focus: bool) -> None:
        super().watch_has_focus(has_focus)
        self._redraw()  # the cursor is drawn only in the focused pane

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cursor", "page", "choose") and not self._starts:
            return False  # no rows: the keys go on to the scrolling body
        return True

    def action_cursor(self, step: int) -> None:
        self.cursor += step

    def action_page(self, direction: int) -> None:
        """A page of rows (the height of what scrolls it); at the first or last row, the screen pages on."""
        scroller = self._scroller()
        page = max(1, (scroller.scrollable_content_region.height if scroller else 10) - 2)
        last = len(self._starts) - 1
        if (direction > 0 and self.cursor < last) or (direction < 0 and self.cursor > 0):
            self.cursor += direction * page
        elif scroller is not None:
            (scroller.scroll_page_down if direction > 0 else scroller.scroll_page_up)(animate=False)

    def action_choose(self) -> None:
        key = self.key_under_cursor()
        if key is None:
            self.notify("no detail for this row", timeout=3)
            return
        self.post_message(self.Chosen(self, key))

    def _scroller(self) -> Widget | None:
        """What scrolls this pane: the box of the pinned findings, or the body of the area panes."""
        node = self.parent
        while isinstance(node, Widget):
            if node.allow_vertical_scroll:
                return node
            node = node.parent
        return None

    def _cursor_lines(self) -> tuple[int, int] | None:
        """(first line, number of lines) of the cursor's rows in the pane's content, as drawn."""
        width = self.content_size.width
        if self._shown is None or not width or not self._cursor_rows():
            return None
        console = self.app.console
        lines = console.render_lines(self._build(self._shown), console.options.update_width(width), pad=False)
        marked = [n for n, line in enumerate(lines) if any(seg.style is not None and seg.style.meta.get(CURSOR)
                                                           for seg in line)]
        return (marked[0], len(marked)) if marked else None

    def _reveal(self) -> None:
        """Scroll the cursor's rows into view in each container around the pane (as Widget.scroll_to_widget
        does for a whole widget)."""
        span = self._cursor_lines()
        if span is None:
            return
        top, height = span
        if self.cursor == 0:  # the first row: with the pane's title and headline above it
            top, height = -self.gutter.top, top + height + self.gutter.top
        region = Region(0, top, max(1, self.content_size.width), height)
        widget: Widget = self
        while isinstance(widget.parent, Widget):  # into the parent's coordinates, and scroll it
            shift = Offset(*widget.gutter.top_left) - widget.scroll_offset + widget.virtual_region.offset
            region = region.translate(shift)
            widget = widget.parent
            widget.scroll_to_region(region, animate=False, immediate=True)
