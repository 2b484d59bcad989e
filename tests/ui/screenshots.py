"""Regenerate the README's screenshots from the app itself, fed by the recorded lab incident (the demo's).

    .venv/bin/python -m tests.ui.screenshots      # rewrites screenshots/*.svg (and only those)

Each shot is the app at a labelled moment of tests/fixtures/recordings/lab-incident.jsonl.gz (its marks
file), every observation up to it delivered as it came, then keys pressed as an operator would. The
folder holds exactly what this script writes: an SVG it no longer makes is removed.
"""
from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

from tests.ui.scenario import incident_app, moment, settled

OUT = Path(__file__).parents[2] / "screenshots"


@dataclass(frozen=True)
class Shot:
    name: str
    mark: str  # the moment (lab-incident.marks.json)
    size: tuple[int, int]
    keys: tuple[str, ...] = ()
    theme: str | None = None
    alt: str = ""  # the README's words for it


SHOTS = [
    Shot("healthy", "healthy", (120, 40), alt="the lab healthy: every pane OK, lab-ctl-0's single points of "
         "failure in sight"),
    Shot("host-power-off", "controller_down", (120, 40), keys=("h",), alt="controller lab-ctl-1 powered off "
         "through its BMC, and everything that ran on it"),
    Shot("rabbitmq-node-lost", "rabbit_spofs", (120, 40), keys=("r",), alt="a RabbitMQ node killed: its peers "
         "see it gone, the two left are each a single point of failure"),
    Shot("redundancy-pane", "controller_down", (120, 40), keys=("n",), alt="the redundancy pane (n) while "
         "lab-ctl-1 is off: what one more loss would take down"),
    Shot("monochrome-80x24", "controller_down", (80, 24), theme="hatui-mono", alt="monochrome at 80x24 "
         "(hatui-mono, the default with NO_COLOR): findings first"),
    Shot("galera-node-killed", "survivors_are_spofs", (120, 40), keys=("g",), alt="a Galera node killed: "
         "refused at once, the survivors each a single point of failure"),
    Shot("wide-200x60", "controller_down", (200, 60), alt="200x60: the panes side by side"),
]


async def shoot(shot: Shot) -> Path:
    app = incident_app(moment(shot.mark), theme=shot.theme, mode="demo")
    async with app.run_test(size=shot.size) as pilot:
        await settled(pilot)
        for key in shot.keys:
            await pilot.press(key)
        await pilot.pause(0.2)
        path = OUT / f"{shot.name}.svg"
        app.save_screenshot(path.name, str(OUT))
    return path


def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    os.environ.pop("NO_COLOR", None)  # each shot says its theme
    OUT.mkdir(exist_ok=True)
    made = {asyncio.run(shoot(shot)) for shot in SHOTS}
    for path in made:
        print(path)
    for old in set(OUT.glob("*.svg")) - made:
        old.unlink()
        print(f"removed {old}")


if __name__ == "__main__":
    main()
