"""The redundancy pane and the ok-to-stop dialog, fed by the recorded lab incident (its controllers
lab-ctl-0..2 carry the Galera and RabbitMQ nodes, nova's services and the HAProxy servers)."""
from __future__ import annotations

import pytest
from textual.widgets import Static

from tests.ui.scenario import incident_app, moment, settled
from tests.ui.test_app import pane_text


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


async def ask(pilot, app, names: str) -> str:
    await pilot.press("o")
    await pilot.pause(0.1)
    for key in names:
        await pilot.press(key if key != " " else "space")
    await pilot.press("enter")
    await pilot.pause(0.1)
    return str(app.screen.query_one("#ok-to-stop-answer", Static).render())


async def test_ok_to_stop_in_the_ui_answers_from_the_live_state():
    app = incident_app(moment("healthy"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        one = await ask(pilot, app, "lab-ctl-1")
        assert one.startswith("OK to stop, but without redundancy after: lab-ctl-1"), one
        left = next(line for line in one.splitlines() if "without redundancy: database," in line)
        assert left.startswith("  left") and "then down with any one of lab-ctl-0, lab-ctl-2, pdu-a" in left, one
        assert "cannot tell where load balancer lb; compute (nova) API;" in one, one  # loopback URLs: unplaced
        # RabbitMQ's own verdict (its health check, per quorum queue) beside hatui's
        assert "RabbitMQ says mq-2 is not quorum critical (hatui: the message queue stays up)" in one, one
        await pilot.press("escape")
        two = await ask(pilot, app, "lab-ctl-0 lab-ctl-1")
        assert two.startswith("NOT OK to stop") and "goes down: database (quorum lost (1 of 3 left)" in two, two
        assert "goes down: nova-conductor (no instance left: nova-conductor@lab-ctl-0, nova-conductor@lab-ctl-1" in two
        await pilot.press("escape")
        nope = await ask(pilot, app, "ctl-9")
        assert nope.startswith("no element named 'ctl-9'"), nope


async def test_redundancy_pane_names_what_would_take_each_service_down():
    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settled(pilot)
        text = pane_text(app, "redundancy")
        lines = {line.split()[2]: line for line in text.splitlines() if line.startswith(("◆", "✔", "✖", "?"))}
        # lab-ctl-1 is off: the database (2 of 3) and nova-conductor (1 of 2) go with either survivor's host
        assert "not: lab-ctl-0" in lines["database"] and "lab-ctl-2" in lines["database"], text
        assert lines["nova-conductor"].startswith("◆ SPOF") and "lab-ctl-0" in lines["nova-conductor"], text
        assert "lab-ctl-1" not in lines["database"].split("not:")[1]  # already down: not a SPOF


async def test_host_rows_show_what_runs_there_and_what_went_down_with_it():
    from hatui.ui.views import pane_model

    app = incident_app(moment("controller_down"))
    async with app.run_test(size=(200, 60)) as pilot:
        await settled(pilot)
        model = pane_model("hosts", app.assessment, app.config)
        runs = {r[1][0]: r[model.columns.index("runs")][0] for r in model.rows}
        assert runs["lab-ctl-1"].startswith("db✗ mq✗ nova-conductor✗ nova-scheduler✗"), runs
        assert runs["lab-ctl-0"].startswith("db mq nova-conductor nova-scheduler"), runs
        assert "runs" in pane_text(app, "hosts")  # shown at this width


def test_n2_pairs_are_shown_as_risk_not_alarmed():
    from hatui.config import parse
    from hatui.feed.recording import read_recording
    from hatui.ui.views import pane_model
    from tests.ui.scenario import INCIDENT
    from tests.unit.test_causes import _at

    a = _at("healthy")
    config = parse(read_recording(INCIDENT)[0], str(INCIDENT), resolve_secrets=False)
    note = pane_model("redundancy", a, config).note
    assert note.startswith("N-2 risk: lab-ctl-1 + lab-ctl-2, "), note
    assert "redundancy.spof:lab-ctl-1" not in {f.id for f in a.findings}  # a risk, not a finding


async def test_o_answers_for_the_host_under_the_cursor_at_once():
    app = incident_app(moment("healthy"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await pilot.press("h")  # the hosts pane: lab-ctl-0 first, the cursor moves to lab-ctl-1
        await pilot.press("j")
        await pilot.pause(0.1)
        assert app.focused.key_under_cursor().subject == "lab-ctl-1"
        await pilot.press("o")
        await pilot.pause(0.2)
        answer = str(app.screen.query_one("#ok-to-stop-answer", Static).render())
        assert answer.startswith("OK to stop, but without redundancy after: lab-ctl-1"), answer
        assert "  quorum margins (members each can lose, now -> after the stop): database 1 -> 0" in answer, answer


async def test_the_redundancy_pane_follows_a_controller_lost_and_back_live():
    """One running app through the recording: healthy, lab-ctl-1 powered off, lab-ctl-1 back."""
    app = incident_app(moment("healthy"), stepped=True)

    def lines() -> dict[str, str]:
        text = pane_text(app, "redundancy")
        return {line.split()[2]: " ".join(line.split()) for line in text.splitlines()
                if line.startswith(("◆", "✔", "✖", "?"))}

    async with app.run_test(size=(160, 50)) as pilot:
        await settled(pilot)
        await pilot.pause(0.2)
        before = lines()
        # two nodes on each: by construction
        assert before["database"] == "◆ SPOF database 3/3 not: pdu-a, sw-2", before
        app.feed.advance(moment("controller_down"))
        await settled(pilot)
        await pilot.pause(0.2)
        down = lines()
        assert down["database"] != before["database"] and "lab-ctl-0" in down["database"], down
        assert "lab-ctl-1" not in down["database"].split("not:")[1], down  # already down: not a SPOF
        assert down["nova-conductor"].startswith("◆ SPOF"), down
        app.feed.advance(moment("end"))
        await settled(pilot)
        await pilot.pause(0.2)
        assert lines()["database"] == before["database"], lines()


async def test_enter_on_a_service_lists_every_pair_that_takes_it_down():
    """N-2 on demand: the pane's note shows the first few pairs of all services; Enter on a service row
    lists all of that service's, with what else each pair takes down."""
    app = incident_app(moment("healthy"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settled(pilot)
        note = " ".join(pane_text(app, "redundancy").split())
        assert ("N-2 risk: lab-ctl-1 + lab-ctl-2, lab-ctl-1 + r3, lab-ctl-2 + pdu-b (+3 more); Enter on a service: "
                "its pairs and what they take down") in note, note
        await pilot.press("n")  # the redundancy pane, its first row: the database
        await pilot.press("enter")
        await pilot.pause(0.2)
        text = app.screen.model.text
        pairs = [(x.name, y.name) for x, y, losses in app.assessment.cloud.pairs if "database" in losses]
        assert pairs and f"N-2: pairs that would take database down together ({len(pairs)}; risk, not alarmed)" \
            in text, text
        for x, y in pairs:
            assert f"{x} + {y}" in text, (x, y, text)
        assert "lab-ctl-1 + lab-ctl-2" in text  # two of the three Galera nodes' hosts
