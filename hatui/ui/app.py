"""The hatui Textual app: a feed and a monitor behind, panes in front.

The feed runs as a Textual worker on the app's loop (blocking clients are in their own threads
inside the feed) and writes observations into the monitor; a finding opening or clearing posts
``Changed``, which Textual collapses while a burst queues (``can_replace``), and each redraw hands
every pane its PaneModel. Layout follows the terminal through Textual's breakpoints (classes on the
screen, styled in themes/hatui.tcss). Nothing here blocks.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from importlib import resources

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from hatui.areas import AREAS as DECLARED
from hatui.areas import PANES, Area
from hatui.config import Config
from hatui.config.maintenance import Maintenance
from hatui.feed import LiveFeed, ReplayFeed
from hatui.model import Observation
from hatui.model.redundancy import find
from hatui.monitor import Assessment, Monitor
from hatui.ui.detail import Detail
from hatui.ui.help import Help
from hatui.ui.live import LiveJudge
from hatui.ui.maintenance import MaintenanceDialog
from hatui.ui.ok_to_stop import OkToStop
from hatui.ui.panes import AreaPane
from hatui.ui.themes import MONO, THEMES, default_theme
from hatui.ui.views import AREAS, pane_model
from hatui.ui.views.common import filtered, insecure_sections, next_sort, sorted_rows
from hatui.ui.views.detail import detail_model

TICK = 1.0  # s: regular redraw: figures, ages and "no answer for" counters move
# s between two redraws for findings opening or clearing: at a thousand hosts they do every few
# milliseconds, and a redraw for each starved the polls and the keys
REDRAW_GAP = 0.5
WIDE = 150  # columns from which panes sit side by side (two panes of a readable ~75 columns each)
SHORT = 30  # rows below which panes drop their bottom border: at 80x24 every row counts
SEEK = 10.0  # s of recording a replay's [ and ] move back and forward


def theme_path() -> str:
    return str(resources.files("hatui").joinpath("themes", "hatui.tcss"))


def _key_word(title: str) -> str:
    """The footer's word for a pane's key: "API endpoints" -> "Endpoints"."""
    word = title.split()[-1]
    return word[:1].upper() + word[1:]


def _mmss(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m:02d}:{s:02d}"


class Changed(Message):
    """A finding opened or cleared: redraw now. A burst of them queued together is one redraw."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Changed)


def unconfigured_words(areas: list[Area]) -> str:
    """One line for the areas the config leaves out, and how to add them."""
    panes = ", ".join(p.title for a in areas for p in a.panes)
    sections = ", ".join(f"[{a.name}]" for a in areas)
    return f"not configured: {panes} (add {sections}: see hatui.example.toml, or run hatui init)"


class HatuiApp(App):
    CSS_PATH = theme_path()
    TITLE = "hatui"
    ENABLE_COMMAND_PALETTE = True  # ctrl+p (or :): hatui's themes, a screenshot, and Textual's own commands
    HORIZONTAL_BREAKPOINTS = [(0, "-one-column"), (WIDE, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT, "-tall")]
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("f", "focus_pane('findings')", "Findings"),
        Binding("n", "focus_pane('redundancy')", "N-1"),
        Binding("o", "ok_to_stop", "Ok-to-stop?"),
        Binding("t", "focus_pane('timeline')", "Timeline"),
        Binding("x", "next_failure", "Next failure"),
        Binding("m", "maintenance", "Maintenance"),
        *(Binding(p.key, f"focus_pane('{p.id}')", _key_word(p.title)) for p in PANES),
        Binding("p", "pause", "Pause"),
        Binding("S", "sort", "Sort"),  # shift+s, as k9s sorts (s is the services pane)
        Binding("slash", "filter", "Filter"),
        Binding("question_mark", "help", "Help"),
        Binding("colon", "command_palette", "Commands", show=False),
        # replay and demo only (check_action): the feed itself, not the panes (p)
        Binding("space", "replay('pause')", "Play/pause"),
        Binding("full_stop", "replay('step')", "Step a poll round (replay)", show=False),
        Binding("left_square_bracket", "replay('back')", f"Back {SEEK:g} s (replay)", show=False),
        Binding("right_square_bracket", "replay('forward')", f"Forward {SEEK:g} s (replay)", show=False),
    ]
    # what acts on the panes, so not while a detail covers them (Esc goes back first)
    PANE_ACTIONS = frozenset({"focus_pane", "next_failure", "filter", "sort"})

    def __init__(self, config: Config, feed, clock: Callable[[], float] = time.time, mode: str = "live",
                 theme: str | None = None, maintenance: Maintenance | None = None) -> None:
        super().__init__()
        for t in THEMES:
            self.register_theme(t)
        self.theme = default_theme(theme or config.hatui.theme)
        self.config = config
        self.feed = feed
        self.clock = clock
        self.mode = mode
        self.maintenance = maintenance
        self.monitor = self._new_monitor(clock())
        self._status_shown = ""
        self.assessment: Assessment | None = None
        self.live: LiveJudge | None = None  # a live feed's thread of polls and judgements
        self._drawn_at = -REDRAW_GAP  # (time.monotonic) of the last redraw
        self._redraw_pending = False
        self.paused_at: float | None = None  # the panes frozen at this time; polling goes on
        self._frozen: Assessment | None = None  # what the paused panes show
        self.filter_text = ""  # rows shown in every pane: those containing it (case-insensitive)

    def compose(self) -> ComposeResult:
        yield Static(id="status-bar")
        # the findings stay in sight at every size, whatever pane a key scrolls to (at 80x24 too)
        with VerticalScroll(id="findings-box", can_focus=False):
            yield AreaPane("findings", "Findings")
        # An area the config leaves out takes one line, not a pane each (its pane stays, hidden: its key
        # says so when pressed)
        unconfigured = [a for a in DECLARED if a.name not in self.config.sections]
        hidden = {p.id for a in unconfigured for p in a.panes}
        with VerticalScroll(id="body"):
            if unconfigured:
                yield Static(unconfigured_words(unconfigured), id="unconfigured", markup=False)
            with Grid(id="areas"):
                yield AreaPane("redundancy", "Redundancy")
                for area, title in AREAS:
                    yield AreaPane(area, title, classes="-unconfigured" if area in hidden else "")
                yield AreaPane("timeline", "Timeline")
        yield Input(placeholder="filter every pane (Enter keeps it, Esc clears it)", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, lambda _theme: self._mark_mono())
        self._mark_mono()
        for pane in self.query(AreaPane):
            pane.can_focus = not pane.has_class("-unconfigured")
        # A live feed polls and is judged in a thread of its own (hatui.ui.live): the UI's loop only draws
        # what it is handed, and keys are answered while a thousand polls come back. A replay is a worker
        # on the app's loop: it says when it starts a pass over (a seek back: the state is rebuilt from a
        # fresh monitor) and when it has carried out a command (drawn at once).
        if isinstance(self.feed, LiveFeed):
            self.live = LiveJudge(self.feed, self.monitor, self.clock, self._judged)
            self.live.judge()  # here, before its thread starts: the first frame waits for nothing
            self.run_worker(self.live.run, name="feed", group="feed", thread=True,  # type: ignore[arg-type]
                            exit_on_error=False)  # (a coroutine function: Textual runs it with asyncio.run)
        else:
            run = (self.feed.run(self._on_observation, rewind=self._rewind, moved=lambda: self.post_message(Changed()))
                   if isinstance(self.feed, ReplayFeed) else self.feed.run(self._on_observation))
            self.run_worker(run, name="feed", group="feed", exit_on_error=False)
        self.set_interval(TICK, self.redraw)
        self.redraw()

    def _new_monitor(self, started_at: float) -> Monitor:
        m = self.maintenance
        return Monitor(self.config, started_at=started_at, maintenance=m.names if m else None)

    def _rewind(self, at: float) -> None:
        """A replay seeks back: forget everything, the recording is delivered again from ``at``."""
        self.monitor = self._new_monitor(at)
        self.assessment = None

    def _on_observation(self, obs: Observation) -> None:
        """A replay's (or any feed but a live one's) observation, judged at once: a recording is small, and
        its timeline must hold every event."""
        self.monitor.ingest(obs)
        self._judged(self.monitor.assess(self.clock(), self.feed.pending()))

    def _judged(self, a: Assessment) -> None:
        """A new assessment (in the live judge's thread, or the replay's loop): drawn at once when a finding
        opened or cleared; new figures wait for the 1 s tick (redrawing on every poll costs CPU for numbers
        nobody reads faster than that). post_message is safe from any thread."""
        first, self.assessment = self.assessment is None, a
        if first or a.opened or a.cleared:  # (the first: the screen waits for it, see redraw)
            self.post_message(Changed())

    def on_changed(self, _message: Changed) -> None:
        if isinstance(self.feed, ReplayFeed) and not self.feed.idle:
            return  # a seek delivering at once: drawn when it is done (and by the tick meanwhile)
        wait = self._drawn_at + REDRAW_GAP - time.monotonic()
        if wait <= 0 or not isinstance(self.feed, LiveFeed):
            self.redraw()
        elif not self._redraw_pending:
            self._redraw_pending = True
            self.set_timer(wait, self._pending_redraw)

    def _pending_redraw(self) -> None:
        self._redraw_pending = False
        self.redraw()

    @property
    def main(self) -> Screen:
        """The screen of the panes (a detail, help or dialog may be on top of it)."""
        return self.screen_stack[0]

    def redraw(self) -> None:
        if not self.is_running:  # quitting: a Changed or the tick handled while the screens are taken down
            return
        self._drawn_at = time.monotonic()
        a = self.assessment
        if self.live is None and (a is None or not isinstance(self.feed, LiveFeed)):
            a = self.assessment = self.monitor.assess(self.clock(), self.feed.pending())
        if a is None:
            return  # live: the judge's first assessment is on its way (it is made before the first poll)
        status = self._status_text(a)
        if status != self._status_shown:
            self._status_shown = status
            bar = self.main.query_one("#status-bar", Static)
            bar.update(status)
            bar.set_classes(f"-{a.status.label}")
        shown = self._frozen or a  # paused: the panes as they were (the status bar above stays live)
        for pane in self.main.query(AreaPane):
            pane.show(sorted_rows(filtered(pane_model(pane.area, shown, self.config), self.filter_text), pane.sort))

    def _status_text(self, a: Assessment) -> str:
        replay = self.feed if isinstance(self.feed, ReplayFeed) else None
        clock = time.strftime("%Y-%m-%d %H:%M:%S" if replay else "%H:%M:%S", time.localtime(a.snapshot.taken_at))
        parts = [f" hatui  {a.status.name}", clock, self.mode if replay is None else self._replay_text(replay)]
        if self.filter_text.strip():
            parts.append(f"filter: {self.filter_text.strip()!r} (/ edits, Esc there clears)")
        if self.paused_at is not None:
            at = time.strftime("%H:%M:%S", time.localtime(self.paused_at))
            parts.append(f"PAUSED: panes as at {at}, status live (p resumes)")
        if a.unknown_why:
            parts.append(a.unknown_why)
        if self.maintenance is not None:
            if names := self.maintenance.names():
                parts.append("MAINTENANCE: " + ", ".join(sorted(names)))
            if self.maintenance.error:
                parts.append("MAINTENANCE FILE UNREADABLE (nothing muted)")
        parts += [f"TLS NOT VERIFIED: {name}" for name in insecure_sections(self.config)]
        return "  │  ".join(parts)

    def _replay_text(self, feed: ReplayFeed) -> str:
        """``replay 01:23 / 02:52 ×1``, and whether it is paused or over."""
        text = f"{self.mode} {_mmss(feed.position)} / {_mmss(feed.duration)} ×{feed.speed:g}"
        if feed.finished:
            return text + "  END OF RECORDING ([ seeks back)"
        if feed.paused:
            return text + "  PAUSED (space plays, . steps, [ ] seek)"
        return text

    def _mark_mono(self) -> None:
        """Monochrome: tones by weight alone (themes/hatui.tcss, Screen.-mono), as with NO_COLOR."""
        for screen in self.screen_stack:  # the panes' screen and any detail over it
            screen.set_class(self.theme == MONO or bool(os.environ.get("NO_COLOR")), "-mono")

    def action_pause(self) -> None:
        """Freeze the panes to read them; polling and the status bar go on."""
        if self.paused_at is None:
            self.paused_at, self._frozen = self.clock(), self.assessment
        else:
            self.paused_at, self._frozen = None, None
        self.redraw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "replay":
            return isinstance(self.feed, ReplayFeed)  # live, the keys are neither shown nor taken
        return not (action in self.PANE_ACTIONS and isinstance(self.screen, Detail))

    def action_replay(self, command: str) -> None:
        """Commands to the replay's feed, which owns its position (pause, step, seek); it says when done."""
        feed = self.feed
        assert isinstance(feed, ReplayFeed)
        if command == "pause":
            feed.toggle_pause()
        elif command == "step":
            feed.step()
        else:
            feed.seek(SEEK if command == "forward" else -SEEK)

    def action_sort(self) -> None:
        """The focused pane's rows: as the view orders them, by status (worst first), by name."""
        pane = self.focused
        if not isinstance(pane, AreaPane):
            self.notify("focus a pane first (its key, or tab)", timeout=3)
            return
        pane.sort = next_sort(pane.sort)
        self.redraw()

    def on_area_pane_chosen(self, message: AreaPane.Chosen) -> None:
        key = message.key
        shown = self._frozen or self.assessment
        if shown is None:
            return
        self.push_screen(Detail(lambda: detail_model(self._frozen or self.assessment or shown, self.config,
                                                     self.monitor, key)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":  # hatui's own, below, says where it went
                yield command
        for t in THEMES:
            yield SystemCommand(f"theme: {t.name}", f"switch to hatui's {t.name} theme",
                                lambda name=t.name: setattr(self, "theme", name))
        yield SystemCommand("screenshot", "save an SVG of the screen in the current directory",
                            lambda: self.set_timer(0.1, self.action_save_svg))  # once the palette has closed

    def action_save_svg(self) -> None:
        """An SVG of the screen in the current directory (the palette's "screenshot")."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.save_screenshot(f"hatui-{stamp}.svg", os.getcwd())
        self.notify(f"screenshot saved: {path}", timeout=6)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-open")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.filter_text = event.value
            self.redraw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":  # keep the filter, give the keys back to the panes
            event.input.remove_class("-open")
            self.query_one("#pane-findings", AreaPane).focus()

    def on_key(self, event) -> None:
        box = self.main.query_one("#filter", Input)
        if event.key == "escape" and box.has_focus:
            box.value = ""  # (Input.Changed clears the filter)
            box.remove_class("-open")
            self.query_one("#pane-findings", AreaPane).focus()
            event.stop()

    def action_help(self) -> None:
        self.push_screen(Help(self.BINDINGS))

    def action_focus_pane(self, area: str) -> None:
        pane = self.query_one(f"#pane-{area}", AreaPane)
        if pane.has_class("-unconfigured"):
            self.notify(f"{pane.border_title}: not configured (see the line above the panes)", timeout=3)
            return
        pane.focus()
        pane.scroll_visible()

    def action_next_failure(self) -> None:
        """Focus the next pane, in screen order after the focused one, with a failure or an unknown
        (then one with a SPOF): the way to walk an incident pane by pane."""
        panes = [p for p in self.query(AreaPane) if p.area != "timeline"]
        start = panes.index(self.focused) + 1 if self.focused in panes else 0
        ring = panes[start:] + panes[:start]
        for tones in (("-critical", "-unknown", "-warning"), ("-spof",)):
            target = next((p for p in ring if any(p.has_class(t) for t in tones)), None)
            if target is not None:
                target.focus()
                target.scroll_visible()
                return
        self.notify("no failure and no single point of failure", timeout=3)

    def action_maintenance(self) -> None:
        if self.maintenance is None:
            self.notify("maintenance is for a live run (hatui, check, watch, serve), not a replay", timeout=4)
            return
        self.push_screen(MaintenanceDialog(self.maintenance))

    def action_ok_to_stop(self) -> None:
        """Asks for the element under the focused pane's cursor (a host, a node, a service instance) when
        the model knows it; otherwise the dialog waits for names."""
        initial = ""
        cloud = self.assessment.cloud if self.assessment else None
        if isinstance(self.focused, AreaPane) and cloud is not None and cloud.topology is not None:
            key = self.focused.key_under_cursor()
            if key is not None and key.finding is None and find(cloud.topology, key.subject) is not None:
                initial = key.subject
        self.push_screen(OkToStop(lambda: self.assessment.cloud if self.assessment else None, initial))

    async def on_unmount(self) -> None:
        if self.live is not None:
            self.live.stop()  # its thread closes the feed's clients and ends
        self.workers.cancel_group(self, "feed")
