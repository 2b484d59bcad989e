"""A recording round-trips observations, never holds a secret, and bad files are named clearly."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hatui.feed.recording import Recorder, RecordingError, read_recording
from hatui.model import Failure, FailureKind, Observation


def test_round_trip_gz_and_secrets_scrubbed(tmp_path):
    doc = {"galera": {"password_env": "DB_PW", "user": "hatui", "nodes": [{"name": "a", "host": "h"}]}}
    path = tmp_path / "r.jsonl.gz"
    rec = Recorder(path, doc, 1.0)
    obs = [Observation("galera", "a", 2.0, 0.01, data={"status": {"wsrep_cluster_size": "3"}}),
           Observation("galera", "a", 3.0, 0.5, failure=Failure(FailureKind.TIMEOUT, "no answer"))]
    for o in obs:
        rec(o)
    rec.close()
    config, back = read_recording(path)
    assert back == obs
    assert config == {"galera": {"user": "hatui", "nodes": [{"name": "a", "host": "h"}]}}


def test_garbled_recording_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"hatui_recording": 1, "config": {}}) + "\n{\"source\": 1}\n")
    with pytest.raises(RecordingError, match=r"bad.jsonl: line 2: not an observation"):
        read_recording(path)
    proc = subprocess.run([sys.executable, "-m", "hatui", "replay", str(path), "--events"], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 3 and "line 2" in proc.stderr and "Traceback" not in proc.stderr
