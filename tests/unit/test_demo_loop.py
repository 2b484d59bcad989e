"""The demo loops its recording (hatui.feed.replay, loop=True): the second pass tells the story of the
first. Issue 12 found each restart of the loop inventing "flow control paused replication 100% of the
time": counters set against the previous pass's last answer."""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

from hatui.cli import demo_path
from hatui.config import parse
from hatui.feed.recording import read_recording
from hatui.monitor import Monitor


def opened_per_pass(passes: int = 2) -> list[Counter]:
    doc, observations = read_recording(Path(demo_path()))
    config = parse(doc, demo_path(), resolve_secrets=False)
    t0 = observations[0].observed_at
    duration = observations[-1].observed_at - t0 + 1.0  # as ReplayFeed shifts a later pass
    monitor = Monitor(config, started_at=t0)
    out: list[Counter] = []
    for n in range(passes):
        opened: Counter = Counter()
        for obs in observations:
            obs = replace(obs, observed_at=obs.observed_at + n * duration)
            monitor.ingest(obs)
            opened.update(f.id for f in monitor.assess(obs.observed_at).opened)
        out.append(opened)
    return out


def test_the_demos_second_pass_opens_what_its_first_did_and_no_flow_control_is_invented():
    first, second = opened_per_pass()
    assert not [i for i in second if i.startswith("galera.flow_control")] or \
        [i for i in first if i.startswith("galera.flow_control")], second
    # what the first pass opened after its start-up (the first answers), the second opens again, no more
    assert set(second) - set(first) == set(), set(second) - set(first)
