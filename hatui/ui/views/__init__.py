"""Views: Assessment -> PaneModel for each pane. Pure (no Textual, no Rich), one module per area.

VIEWS maps each area (a pane of the app, AREAS) to its view.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

from hatui.config import Config
from hatui.monitor import Assessment
from hatui.ui.views.common import PaneModel, findings_pane

View = Callable[[Assessment, Config], PaneModel]

AREAS = (("galera", "Galera"), ("rabbitmq", "RabbitMQ"), ("endpoints", "API endpoints"),
         ("services", "Compute services"), ("hosts", "Hosts"))

# area -> "module:function" drawing its pane
VIEWS: dict[str, str] = {
    "galera": "hatui.ui.views.galera:galera_pane",
    "rabbitmq": "hatui.ui.views.rabbitmq:rabbit_pane",
    "endpoints": "hatui.ui.views.endpoints:endpoints_pane",
    "services": "hatui.ui.views.services:services_pane",
    "hosts": "hatui.ui.views.hosts:hosts_pane",
}


def pane_model(area: str, a: Assessment, config: Config) -> PaneModel:
    if area == "findings":
        return findings_pane(a)
    module, func = VIEWS[area].split(":")
    return getattr(importlib.import_module(module), func)(a, config)
