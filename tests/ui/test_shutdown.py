"""The app's last moments: what arrives while it quits must not crash it.

Found by tests/integration/cloud/test_frozen.py: findings open and clear by the dozen around a freeze, and a
``Changed`` (or the 1 s tick) handled while the app was quitting redrew panes that were being taken down
(``IndexError`` from ``screen_stack[0]``, or ``NoMatches`` for ``#status-bar``): a traceback instead of a
clean exit.
"""
from __future__ import annotations

from tests.ui.scenario import incident_app, moment, settled


async def test_a_redraw_once_the_screens_are_gone_does_nothing():
    app = incident_app(moment("survivors_are_spofs"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
    assert not app.is_running and not app.screen_stack  # quit: a queued Changed or the tick may still come
    app.redraw()  # nothing to draw on: no IndexError
