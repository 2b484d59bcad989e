"""Pane widgets: each draws one PaneModel and nothing else (no I/O, no judgement).

Tones map to component classes styled in themes/hatui.tcss, so colours follow the theme.
"""
from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from hatui.ui.views.common import PaneModel

TONES = ("ok", "warning", "critical", "unknown", "spof", "stale", "dim")
NARROW = 80  # a pane's own columns below which it leaves out its least useful ones (at 80x24, or
             # side by side on a terminal just wide enough for two)


class AreaPane(Static):
    """A bordered pane showing one area (Galera, RabbitMQ, ...) or the findings list."""

    COMPONENT_CLASSES = {f"pane--{t}" for t in TONES}

    def __init__(self, area: str, title: str, **kw) -> None:
        super().__init__(id=f"pane-{area}", classes="pane", **kw)
        self.area = area
        self.border_title = title
        self._shown: PaneModel | None = None
        self._narrow = False

    def _style(self, tone: str) -> Style:
        return self.get_component_rich_style(f"pane--{tone}") if tone in TONES else Style()

    def _is_narrow(self) -> bool:
        width = self.content_size.width
        return 0 < width < NARROW  # 0: not laid out yet; the first resize re-renders

    def on_resize(self) -> None:
        if self._shown is not None and self._is_narrow() != self._narrow:
            self.show(self._shown)

    def show(self, model: PaneModel) -> None:
        narrow = self._is_narrow()
        if model == self._shown and narrow == self._narrow:
            return  # nothing changed: no re-render, no layout (keeps the idle CPU low)
        self._shown, self._narrow = model, narrow
        for tone in TONES:
            self.set_class(model.tone == tone, f"-{tone}")
        self.border_title = model.title
        self.update(self._build(model))

    def _build(self, model: PaneModel) -> Group:
        parts: list[Text | Table] = []
        if model.headline:
            parts.append(Text.assemble(*((text, self._style(tone)) for text, tone in model.headline)))
        if model.note:
            parts.append(Text(model.note, style=self._style("dim")))
        if model.columns and model.rows:
            narrow = self._narrow
            keep = [i for i, col in enumerate(model.columns) if not (narrow and col in model.narrow_drop)]
            table = Table(box=None, expand=True, show_edge=False, pad_edge=False, header_style=self._style("dim"))
            for i in keep:
                col = model.columns[i]
                wraps = col in model.wrap
                # the status word ("◆ SPOF") is never squeezed into the next cell when space runs short
                least = max((len(r[i][0]) for r in model.rows), default=0) + 1 if i == keep[0] else None
                table.add_column(col, no_wrap=not wraps, overflow="fold" if wraps else "ellipsis",
                                 ratio=3 if wraps else None, justify="right" if i == keep[-1] else "left",
                                 min_width=least)
            for row in model.rows:
                table.add_row(*(Text(row[i][0], style=self._style(row[i][1])) for i in keep))
            parts.append(table)
        return Group(*parts)
