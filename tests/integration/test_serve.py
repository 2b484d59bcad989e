"""``hatui serve`` scraped over real HTTP, as Prometheus would, while the real Galera lab has a fault.

The metrics must say what ``check`` says: the killed node's target down with its error counted, the
quorum SPOFs of the survivors named, the status CRITICAL; and all back to OK after the restart.
"""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.lab

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_alert_selectors() -> dict[str, list[tuple[str, dict[str, str]]]]:
    """alert name -> the hatui_* selectors of its expr, from the README's example rules."""
    text = README.read_text()
    rules = text[text.index("# hatui-alerts.yml"):]
    rules = rules[:rules.index("```")]
    out: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for alert, expr in re.findall(r"- alert: (\w+)\n\s+expr: (.+)", rules):
        out[alert] = [(name, dict(re.findall(r'(\w+)="([^"]*)"', labels or "")))
                      for name, labels in re.findall(r"(hatui_\w+)(?:\{([^}]*)\})?", expr)]
    return out


def matching(samples: dict, name: str, labels: dict[str, str]) -> list[float]:
    return [v for (n, ls), v in samples.items() if n == name and labels.items() <= dict(ls).items()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, config, env) -> None:
        self.base = f"http://127.0.0.1:{_free_port()}"
        self.proc = subprocess.Popen([sys.executable, "-m", "hatui", "serve", "--config", str(config),
                                      "--listen", self.base.removeprefix("http://")],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.http = httpx.Client(timeout=5, trust_env=False)

    def samples(self) -> dict[tuple[str, tuple], float]:
        r = self.http.get(f"{self.base}/metrics")
        r.raise_for_status()
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for fam in text_string_to_metric_families(r.text) for s in fam.samples}

    def value(self, name: str, **labels: str) -> float | None:
        return self.samples().get((name, tuple(sorted(labels.items()))))

    def wait(self, what: str, pred: Callable[[dict], bool], timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        last: dict = {}
        while time.monotonic() < deadline:
            try:
                last = self.samples()
            except httpx.HTTPError:
                last = {}
            if last and pred(last):
                return last
            time.sleep(0.2)
        raise AssertionError(f"{what}: not seen in {timeout:.0f}s; last scrape: {sorted(last.items())[:40]}")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def _target(source: str, target: str, area: str) -> tuple:
    return tuple(sorted({"area": area, "source": source, "target": target}.items()))


def test_serve_metrics_follow_a_killed_galera_node_and_its_recovery(galera_healthy, galera_config, env):
    served = Served(galera_config, env)
    try:
        up = _target("galera", "db-3", "galera")
        served.wait("every target up, status OK",
                    lambda m: m.get(("hatui_target_up", up)) == 1 and m.get(("hatui_status", ())) == 0, 20)
        galera_healthy.kill(3)
        m = served.wait("db-3 down and the status CRITICAL",
                        lambda m: m.get(("hatui_target_up", up)) == 0 and m.get(("hatui_status", ())) == 2, 15)
        assert ("hatui_target_latency_seconds", up) not in m  # no latency for a refused connection
        assert m[("hatui_target_poll_errors_total", tuple(sorted((*up, ("kind", "refused")))))] >= 1
        m = served.wait("the survivors named as SPOFs",
                        lambda m: {("db-1"), ("db-2")} <= {dict(k)["element"] for n, k in m if n == "hatui_spof"}, 30)
        assert m[("hatui_spofs", ())] >= 2
        crit = [k for (n, k), v in m.items() if n == "hatui_findings" and dict(k)["severity"] == "critical" and v > 0]
        assert crit and all(dict(k)["area"] == "galera" for k in crit)
        # The README's alert rules name series that exist, and the failure and SPOF alerts would fire now
        alerts = readme_alert_selectors()
        assert {"HatuiControlPlaneFailure", "HatuiSinglePointOfFailure", "HatuiBlind"} <= alerts.keys()
        for alert, selectors in alerts.items():
            for name, _labels in selectors:
                assert any(n == name for n, _ in m), f"{alert}: {name} is not exposed"
        for alert in ("HatuiControlPlaneFailure", "HatuiSinglePointOfFailure"):
            (name, labels), = alerts[alert]
            assert any(v > 0 for v in matching(m, name, labels)), f"{alert} would not fire: {name}{labels}"
        doc = served.http.get(f"{served.base}/check").json()
        assert doc["status"] == "critical"
        assert "galera.unreachable:db-3" in {f["id"] for f in doc["findings"]}
        galera_healthy.start(3)
        served.wait("all clear after the restart",
                    lambda m: m.get(("hatui_target_up", up)) == 1 and m.get(("hatui_status", ())) == 0
                    and m.get(("hatui_spofs", ())) == 0, 45)
        assert served.http.get(f"{served.base}/check").json()["status"] == "ok"
        assert served.http.get(f"{served.base}/nothing").status_code == 404
    finally:
        err = served.stop()
    assert "Traceback" not in err, err
    assert served.proc.returncode == 0  # SIGTERM ends it cleanly


def test_serve_refuses_a_bad_listen_address_and_a_busy_port(galera_config, env):
    bad = subprocess.run([sys.executable, "-m", "hatui", "serve", "--config", str(galera_config),
                          "--listen", "localhost"], capture_output=True, text=True, timeout=30, env=env)
    assert bad.returncode == 3 and "expected HOST:PORT" in bad.stderr, bad.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = subprocess.run([sys.executable, "-m", "hatui", "serve", "--config", str(galera_config),
                               "--listen", f"127.0.0.1:{s.getsockname()[1]}"],
                              capture_output=True, text=True, timeout=30, env=env)
    assert busy.returncode == 3 and "cannot listen on" in busy.stderr, busy.stderr
    assert "Traceback" not in bad.stderr + busy.stderr


def test_serve_with_nothing_configured_stays_up_saying_unknown(tmp_path, env):
    cfg = tmp_path / "empty.toml"
    cfg.write_text("[hatui]\ninterval = 1.0\n")
    served = Served(cfg, env)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                doc = served.http.get(f"{served.base}/check").json()
                if doc["checked_at"] is not None:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("hatui serve never answered /check")
            time.sleep(0.1)
        assert doc["status"] == "unknown" and "names no target" in doc["unknown"], json.dumps(doc)
        assert served.value("hatui_status") == 3
        time.sleep(1.5)
        assert served.proc.poll() is None  # still serving: an empty config is not a reason to exit
    finally:
        served.stop()
    assert served.proc.returncode == 0
