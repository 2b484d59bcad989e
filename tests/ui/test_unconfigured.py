"""Areas the config leaves out take one line above the panes, not a pane each (issue 12: at 80x24 three
"not configured" panes pushed the configured ones off the screen)."""
from __future__ import annotations

from textual.widgets import Static

from hatui.areas import BY_NAME
from hatui.config import parse
from hatui.feed.recording import read_recording
from hatui.ui.app import HatuiApp
from hatui.ui.panes import AreaPane
from tests.ui.scenario import INCIDENT, FrozenReplay, moment, settled


def galera_and_rabbit_app() -> HatuiApp:
    doc, observations = read_recording(INCIDENT)
    doc = {k: v for k, v in doc.items() if k not in ("openstack", "hosts")}
    kept = {f.source for name in ("galera", "rabbitmq") for f in BY_NAME[name].feeds}
    config = parse(doc, str(INCIDENT), resolve_secrets=False)
    feed = FrozenReplay([o for o in observations if o.source in kept], moment("controller_down"))
    return HatuiApp(config, feed, clock=feed.clock, mode="replay (test)")


async def test_unconfigured_areas_are_one_line_and_their_keys_say_so():
    app = galera_and_rabbit_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        line = str(app.query_one("#unconfigured", Static).render())
        assert line == ("not configured: API endpoints, Compute services, Hosts (add [openstack], [hosts]: see "
                        "hatui.example.toml, or run hatui init)")
        shown = {p.area for p in app.query(AreaPane) if p.display}
        assert shown == {"findings", "redundancy", "galera", "rabbitmq", "timeline"}, shown
        await pilot.press("h")  # the hosts pane's key: a word, not a hidden focus
        await pilot.pause()
        assert app.focused is None or app.focused.id != "pane-hosts"
        assert any("Hosts: not configured" in str(n.message) for n in app._notifications), app._notifications
        await pilot.press("g")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "pane-galera"


async def test_a_full_config_has_no_such_line():
    from tests.ui.scenario import incident_app

    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        assert not app.query("#unconfigured")
        assert all(p.display for p in app.query(AreaPane))
