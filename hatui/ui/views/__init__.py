"""Views: Assessment -> PaneModel for each pane. Pure (no Textual, no Rich), one module per area.

Each pane's view is declared with its area in hatui.areas.
"""
from __future__ import annotations

from collections.abc import Callable

from hatui.areas import PANES, load
from hatui.config import Config
from hatui.monitor import Assessment
from hatui.ui.views.common import PaneModel, findings_pane
from hatui.ui.views.redundancy import redundancy_pane
from hatui.ui.views.timeline import timeline_pane

View = Callable[[Assessment, Config], PaneModel]

# (pane id, title) of every area pane, in screen order (declared with their areas in hatui.areas)
AREAS = tuple((p.id, p.title) for p in PANES)
_VIEWS = {p.id: p.view for p in PANES}


def pane_model(area: str, a: Assessment, config: Config) -> PaneModel:
    if area == "findings":
        return findings_pane(a)
    if area == "redundancy":
        return redundancy_pane(a, config)
    if area == "timeline":
        return timeline_pane(a)
    return load(_VIEWS[area])(a, config)
