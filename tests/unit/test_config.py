"""A wrong config names the file, the key and what was expected, and exits 3 (UNKNOWN) without a traceback."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hatui.config import ConfigError, load, parse

GOOD = """
[hatui]
interval = 2
[galera]
name = "db"
password_env = "HATUI_TEST_PW"
[[galera.nodes]]
name = "db-1"
host = "127.0.0.1"
port = 13306
[[galera.nodes]]
name = "db-2"
host = "127.0.0.1"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "hatui.toml"
    p.write_text(text)
    return p


def test_good_config_loads_with_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("HATUI_TEST_PW", "s3cret-value")
    cfg = load(str(write(tmp_path, GOOD)))
    assert [n.name for n in cfg.galera.nodes] == ["db-1", "db-2"]
    assert cfg.galera.nodes[1].port == 3306
    assert cfg.galera.size_expected == 2
    assert cfg.interval(cfg.galera) == 2.0 and cfg.timeout(cfg.galera) == 1.0
    assert cfg.galera.password.reveal() == "s3cret-value"
    assert "s3cret-value" not in repr(cfg)


@pytest.mark.parametrize("text, key, expected", [
    ("[galera\n", "(syntax)", "valid TOML"),
    ("[galera]\nnodes = [{name = 'a'}]\n", "galera.nodes[0].host", "a string (required)"),
    ("[galera]\nnodes = [{name = 'a', host = 'h', port = '3306'}]\n", "galera.nodes[0].port", "an integer"),
    ("[galera]\nnodes = [{name = 'a', host = 'h', prot = 1}]\n", "galera.nodes[0].prot", "one of the known keys"),
    ("[galera]\nnodes = []\n", "galera.nodes", "at least one node"),
    ("[galera]\nnodes = [{name = 'a', host = 'h'}, {name = 'a', host = 'i'}]\n", "galera.nodes[1].name", "not used"),
    ("[rabbit]\n", "rabbit", "one of the sections"),
    ("[hatui]\ntimeout = -1\n", "hatui.timeout", ">= 0"),
    ("[hatui]\ninterval = 0\n", "hatui.interval", "> 0"),
    ("[galera]\npassword_env = 'HATUI_UNSET_VAR'\nnodes = [{name = 'a', host = 'h'}]\n", "galera.password_env",
     "HATUI_UNSET_VAR to be set"),
])
def test_bad_config_names_file_key_and_expectation(tmp_path, text, key, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load(str(path))
    assert err.value.key == key
    assert expected in str(err.value)
    assert str(err.value).startswith(str(path))


def test_password_file_is_read_and_missing_file_is_named(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("from-a-file\n")
    cfg = parse({"galera": {"password_file": str(secret), "nodes": [{"name": "a", "host": "h"}]}}, "x.toml")
    assert cfg.galera.password.reveal() == "from-a-file"
    with pytest.raises(ConfigError, match="galera.password_file: expected a readable file"):
        parse({"galera": {"password_file": str(tmp_path / "nope"), "nodes": [{"name": "a", "host": "h"}]}}, "x.toml")


def test_search_order_env_then_local(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hatui.toml").write_text("[hatui]\ninterval = 3\n")
    other = tmp_path / "other.toml"
    other.write_text("[hatui]\ninterval = 4\n")
    assert load().hatui.interval == 3
    monkeypatch.setenv("HATUI_CONFIG", str(other))
    assert load().hatui.interval == 4
    assert load(str(tmp_path / "hatui.toml")).hatui.interval == 3


@pytest.mark.parametrize("command", [[], ["check"], ["watch"], ["check", "--json"]])
def test_cli_exits_3_unknown_with_one_line_and_no_traceback(tmp_path, command):
    path = write(tmp_path, "[galera]\nnodes = [{name = 'a'}]\n")
    proc = subprocess.run([sys.executable, "-m", "hatui", *command, "--config", str(path)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 3  # a plugin's own error is UNKNOWN for Nagios; 2 would page as CRITICAL
    assert "Traceback" not in proc.stderr
    said = f"config error: {path}: galera.nodes[0].host: expected a string (required), got nothing"
    assert proc.stderr.strip().splitlines() == [f"hatui: {said}"]
    # under --json the error is JSON too, for the tool that reads it; otherwise stdout stays empty
    assert (json.loads(proc.stdout) if "--json" in command else proc.stdout) == (
        {"status": "unknown", "error": said} if "--json" in command else "")


def test_cli_without_any_config_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.run([sys.executable, "-m", "hatui", "check"], capture_output=True, text=True, timeout=30,
                          env=env)
    assert proc.returncode == 3
    assert "$HATUI_CONFIG, ./hatui.toml" in proc.stderr
    assert "hatui.example.toml" in proc.stderr and "hatui demo" in proc.stderr


def test_watch_with_nothing_configured_says_unknown_and_keeps_running(tmp_path):
    import signal
    import time

    path = write(tmp_path, "[hatui]\ninterval = 1.0\n")
    proc = subprocess.Popen([sys.executable, "-m", "hatui", "watch", "--config", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
        assert proc.poll() is None  # still running: an operator's watch does not vanish
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "nothing to watch" in err and "UNKNOWN" in err and "Traceback" not in err
