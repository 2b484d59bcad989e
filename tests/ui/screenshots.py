"""Generate the README's screenshots from the app itself, fed by the recorded lab incident.

    .venv/bin/python -m tests.ui.screenshots      # writes screenshots/*.svg
"""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from tests.ui.scenario import incident_app, moment

OUT = Path(__file__).parents[2] / "screenshots"
SHOTS = [
    ("galera-node-killed", "survivors_are_spofs", (120, 34)),
    ("galera-quorum-lost", "quorum_lost", (120, 34)),
    ("small-terminal-80x24", "survivors_are_spofs", (80, 24)),
    ("rabbitmq-memory-alarm", "publishers_blocked", (120, 40)),
    ("wide-200x60", "rabbit_spofs", (200, 60)),
]


async def shoot(name: str, mark: str, size: tuple[int, int]) -> Path:
    app = incident_app(moment(mark))
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.5)
        path = OUT / f"{name}.svg"
        app.save_screenshot(str(path))
    return path


def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    OUT.mkdir(exist_ok=True)
    for name, mark, size in SHOTS:
        print(asyncio.run(shoot(name, mark, size)))


if __name__ == "__main__":
    main()
