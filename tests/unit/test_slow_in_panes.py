"""A poll outstanding past half its timeout (a frozen server) is said in its own pane, not only in the
findings pane: the services pane and the endpoints pane's HAProxy lines, whose rows are about other
subjects than the polled target (found by tests/integration/cloud/test_frozen.py: while nova's API and
HAProxy were frozen, these panes showed their last answer as if nothing were waiting)."""
from __future__ import annotations

from hatui.monitor import Monitor
from hatui.ui.views import pane_model
from tests.fixtures_openstack import healthy, lab_config


def _panes(pending: dict[tuple[str, str], float], at: float):
    cfg = lab_config()
    m = Monitor(cfg, started_at=99.0)
    for o in healthy(100.0):
        m.ingest(o)
    a = m.assess(at, pending)
    text = {p: "\n".join("".join(t for t, _ in line) for line in (pm.headline, pm.note) if line) + "\n" +
            "\n".join("".join(t for t, _ in row) for row in pm.rows)
            for p, pm in (("endpoints", pane_model("endpoints", a, cfg)), ("services", pane_model("services", a, cfg)))}
    return cfg, a, text


def test_a_slow_service_list_and_haproxy_are_said_in_their_panes():
    cfg, _a, quiet = _panes({}, 100.5)
    assert "no answer for" not in quiet["services"] and "no answer for" not in quiet["endpoints"]
    timeout = cfg.section("openstack").timeout
    waited = 0.8 * timeout  # past half the timeout, before it
    cfg, a, text = _panes({("services", "nova"): 100.5, ("haproxy", "lb"): 100.5}, 100.5 + waited)
    assert {"services.slow:nova", "haproxy.slow:lb"} <= {f.id for f in a.findings}
    assert f"nova: no answer for {waited:.1f} s (timeout {timeout:g} s)" in text["services"]
    assert "neutron: no answer" not in text["services"]  # only the target that waits
    assert f"haproxy lb: no answer for {waited:.1f} s (timeout {timeout:g} s)" in text["endpoints"]
    assert "nova-conductor" in text["services"]  # the last answer is still shown, with it
