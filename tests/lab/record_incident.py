"""Record a real incident in the lab with ``hatui record``: the demo and the UI tests replay it.

    .venv/bin/python -m tests.lab.record_incident [--out tests/fixtures/recordings/lab-incident.jsonl.gz]

Script (Galera, 3 nodes, 1 s polls): healthy -> node3 SIGKILLed (survivors become SPOFs) -> node3
restarted and Synced -> node2 and node3 SIGKILLed (node1 alone, non-Primary: quorum lost) -> both
restarted (the lab repairs the Primary component) -> healthy; then RabbitMQ (3 nodes, canary every
2 s): rabbit3 SIGKILLed (the two left are each a SPOF) and restarted -> a memory alarm on rabbit2
(publishers blocked cluster-wide) and cleared -> healthy. Moments are written to
``<out minus .jsonl.gz>.marks.json`` (seconds from the recording's first observation), so tests
can look at a known instant. The recorded config names the lab's nodes; it holds no secret.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.integration.conftest import GALERA_PW_ENV, galera_toml
from tests.integration.hatui_proc import hatui_env
from tests.integration.rabbit.conftest import CANARY_PW_ENV, MONITOR_PW_ENV, rabbit_toml
from tests.lab import galera as galera_lab
from tests.lab import rabbit as rabbit_lab

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "recordings" / "lab-incident.jsonl.gz"
DEMO = ROOT / "hatui" / "demo" / "lab-incident.jsonl.gz"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--demo", action="store_true", help="also copy the recording to the bundled demo")
    args = ap.parse_args()
    lab, mq = galera_lab.Lab(), rabbit_lab.Lab()
    lab.up()
    lab.reset()
    mq.up()
    mq.reset()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    env = hatui_env({GALERA_PW_ENV: galera_lab.MONITOR_PASSWORD, MONITOR_PW_ENV: rabbit_lab.MONITOR_PASSWORD,
                     CANARY_PW_ENV: rabbit_lab.CANARY_PASSWORD})
    marks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "hatui.toml"
        config.write_text(galera_toml() + rabbit_toml())
        rec = subprocess.Popen([sys.executable, "-m", "hatui", "record", "-o", str(args.out), "--config",
                                str(config)], env=env)
        t0 = time.time()

        def mark(name: str) -> None:
            marks[name] = round(time.time() - t0, 2)
            print(f"{marks[name]:7.2f} s  {name}", flush=True)

        try:
            time.sleep(6)
            mark("healthy")
            lab.kill(3)
            mark("node3_killed")
            lab.wait_for(lambda s: s and s.get("wsrep_cluster_size") == "2", nodes=[1, 2], timeout=30)
            time.sleep(2)
            mark("survivors_are_spofs")
            time.sleep(4)
            lab.start(3)
            mark("node3_rejoined")
            time.sleep(6)
            mark("healthy_again")
            lab.kill(2)
            lab.kill(3)
            mark("two_killed")
            lab.wait_for(lambda s: s and s.get("wsrep_cluster_status") != "Primary", nodes=[1], timeout=30)
            time.sleep(2)
            mark("quorum_lost")
            time.sleep(5)
            lab.up()  # restarts node2 and node3; the Primary component comes back
            mark("quorum_regained")
            time.sleep(6)
            mark("galera_healthy")
            mq.kill(3)
            mark("rabbit3_killed")
            time.sleep(6)
            mark("rabbit_spofs")
            mq.start(3)
            mark("rabbit3_rejoined")
            time.sleep(6)
            mq.alarm("memory", 2)
            mark("rabbit2_memory_alarm")
            time.sleep(8)
            mark("publishers_blocked")
            mq.clear_alarms()
            mark("alarm_cleared")
            time.sleep(8)
            mark("end")
        finally:
            rec.terminate()
            rec.wait(30)
            lab.reset()
            mq.reset()
    # marks are relative to our t0; shift them to the recording's first observation
    from hatui.feed.recording import read_recording

    _doc, observations = read_recording(args.out)
    shift = observations[0].observed_at - t0
    marks = {k: round(v - shift, 2) for k, v in marks.items()}
    args.out.with_suffix("").with_suffix(".marks.json").write_text(json.dumps(marks, indent=1) + "\n")
    if args.demo:
        shutil.copy(args.out, DEMO)
    print(f"recorded {len(observations)} observations to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
