"""Command line: ``hatui`` (the TUI) and its subcommands check, watch, serve, ok-to-stop, record, replay, demo,
init."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from importlib import resources

from hatui import __version__
from hatui.config import Config, ConfigError, NoConfig, load, parse
from hatui.config.maintenance import Maintenance, MaintenanceError, MaintenanceFile
from hatui.faces.init import add_arguments as init_arguments
from hatui.feed.recording import RecordingError, read_recording
from hatui.model import Severity

DEMO_RECORDING = "lab-incident.jsonl.gz"
DEFAULT_LISTEN = "127.0.0.1:9742"  # hatui serve: loopback unless the operator says otherwise


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", "-c", metavar="PATH",
                        help="config file (default: $HATUI_CONFIG, ./hatui.toml, ~/.config/hatui/hatui.toml)")
    muting = argparse.ArgumentParser(add_help=False)
    muting.add_argument("--maintenance", action="append", default=[], metavar="ELEMENT",
                        help="treat this host, domain or instance as under maintenance for this run "
                             "(repeatable; `hatui maintenance on` saves it for every face)")
    looks = argparse.ArgumentParser(add_help=False)
    looks.add_argument("--theme", metavar="NAME", help="colours: hatui-dark (default), hatui-light, "
                       "hatui-high-contrast, hatui-mono (the default with NO_COLOR), or a Textual theme")
    p = argparse.ArgumentParser(prog="hatui", parents=[common, muting, looks],
                                description="Live monitor of an OpenStack control plane's high availability.")
    p.add_argument("--version", action="version", version=f"hatui {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, helptext: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        # the one-line help of `hatui -h` is also the subcommand's own description (`hatui NAME -h`)
        return sub.add_parser(name, parents=list(parents), help=helptext, description=helptext)

    command("ui", "the live terminal UI (the default)", common, muting, looks)
    c = command("check", "one poll round; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN", common, muting)
    c.add_argument("--json", action="store_true", help="print the findings as JSON")
    command("watch", "headless: one JSON line per finding opened, explained or cleared", common, muting)
    s = command("serve", "headless: Prometheus metrics at /metrics and check's JSON at /check", common, muting)
    s.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help=f"address to serve on (default {DEFAULT_LISTEN}; :PORT for every address)")
    o = command("ok-to-stop", "can these hosts, feeds, racks, switches or instances go down now? exit 0 yes, "
                "1 yes but without redundancy after, 2 no, 3 cannot tell", common)
    o.add_argument("elements", nargs="+", metavar="ELEMENT")
    o.add_argument("--json", action="store_true", help="print the verdict as JSON")
    m = command("maintenance", "list the elements under maintenance, or put some on or off: their failures "
                "are muted in every face, the redundancy their absence costs is not", common)
    m.add_argument("action", nargs="?", choices=("list", "on", "off"), default="list")
    m.add_argument("elements", nargs="*", metavar="ELEMENT", help="hosts, feeds, racks, switches or instances")
    m.add_argument("--note", default="", help="why (shown with the list)")
    r = command("record", "record observations to a JSON-lines file", common)
    r.add_argument("-o", "--output", required=True, metavar="FILE", help="recording file (.gz to compress)")
    r.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: until Ctrl-C)")
    init_arguments(command("init", "write a starting config from what the cloud says: catalog, services, Galera, "
                           "RabbitMQ and HAProxy members (reads only; passwords by reference)"))
    for name, helptext in (("replay", "replay a recording in the UI"), ("demo", "replay the bundled lab incident")):
        rp = command(name, helptext, looks)
        if name == "replay":
            rp.add_argument("file", metavar="FILE")
        rp.add_argument("--speed", type=float, default=1.0, help="replay speed factor (default 1)")
        rp.add_argument("--events", action="store_true",
                        help="no UI: print finding events as JSON lines (like watch) as fast as possible")
    return p


def demo_path() -> str:
    return str(resources.files("hatui").joinpath("demo", DEMO_RECORDING))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "ui"
    try:
        if getattr(args, "theme", None):
            _check_theme(args.theme, "--theme")
        if command in ("replay", "demo"):
            return _replay(args.file if command == "replay" else demo_path(), args.speed, args.events,
                           loop=command == "demo", theme=args.theme)
        if command == "maintenance":
            return _maintenance(args)
        if command == "init":
            from hatui.faces.init import run_init

            return run_init(args)
        config = load(args.config)
        maintenance = Maintenance(config.hatui.maintenance_file, tuple(getattr(args, "maintenance", ())))
        if command == "ui" and config.hatui.theme:
            _check_theme(config.hatui.theme, "hatui.theme", config.path)
    except NoConfig as exc:
        return _error(args, str(exc))
    except ConfigError as exc:
        return _error(args, f"config error: {exc}")
    except RecordingError as exc:
        return _error(args, str(exc))
    if command == "check":
        from hatui.faces.check import run_check

        return run_check(config, args.json, maintenance)
    if command == "ok-to-stop":
        from hatui.faces.ok_to_stop import run_ok_to_stop

        return run_ok_to_stop(config, args.elements, args.json)
    if command == "watch":
        from hatui.faces.watch import run_watch

        return run_watch(config, maintenance)
    if command == "serve":
        from hatui.faces.serve import run_serve

        return run_serve(config, args.listen, maintenance)
    if command == "record":
        return _record(config, args.output, args.duration)
    return _ui(config, getattr(args, "theme", None), maintenance)


def _maintenance(args: argparse.Namespace) -> int:
    """``hatui maintenance [list | on NAME... | off NAME...]``: the file every face reads."""
    try:
        path = load(args.config).hatui.maintenance_file
    except NoConfig:
        path = None  # the default file: the command works before any config exists
    store = MaintenanceFile(path)
    if args.action != "list" and not args.elements:
        return _error(args, f"maintenance {args.action}: name the hosts, domains or instances")
    try:
        entries = store.entries() if args.action == "list" else store.set(args.elements, args.action == "on",
                                                                          args.note)
    except (MaintenanceError, OSError) as exc:
        return _error(args, str(exc))
    if not entries:
        print(f"nothing under maintenance ({store.path})")
    for e in entries:
        since = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.since))
        print(f"{e.name}  since {since}" + (f"  {e.note}" if e.note else ""))
    return 0


def _check_theme(name: str, where: str, file: str | None = None) -> None:
    from hatui.ui.themes import theme_names

    if name not in theme_names():
        expected = "one of " + ", ".join(theme_names())
        if file is not None:
            raise ConfigError(file, where, expected, repr(name))
        raise ConfigError("(command line)", where, expected, repr(name))


def _error(args: argparse.Namespace, message: str) -> int:
    """hatui's own error (bad config, bad recording): one line on stderr, and on stdout as JSON under
    --json; exit 3, UNKNOWN, as a Nagios plugin that cannot run (2 would read as CRITICAL)."""
    print(f"hatui: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"status": "unknown", "error": message}))
    return Severity.UNKNOWN.exit_code


def _ui(config: Config, theme: str | None, maintenance: Maintenance) -> int:
    from hatui.feed import LiveFeed
    from hatui.sources import build_sources
    from hatui.ui.app import HatuiApp

    HatuiApp(config, LiveFeed(build_sources(config)), theme=theme, maintenance=maintenance).run()
    return 0


def _record(config: Config, output: str, duration: float | None) -> int:
    import asyncio

    from hatui.feed import LiveFeed
    from hatui.feed.recording import Recorder
    from hatui.sources import build_sources

    recorder = Recorder(output, config.document, time.time())
    feed = LiveFeed(build_sources(config))
    count = 0

    def sink(obs) -> None:
        nonlocal count
        recorder(obs)
        count += 1

    async def run() -> None:
        task = asyncio.create_task(feed.run(sink))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):  # end cleanly: a .gz needs its trailer written
            loop.add_signal_handler(sig, task.cancel)
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=duration) if duration else await task
        except (TimeoutError, asyncio.CancelledError):
            pass
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    finally:
        recorder.close()
    print(f"hatui: recorded {count} observations to {output}", file=sys.stderr)
    return 0


def _replay(path: str, speed: float, events: bool, loop: bool, theme: str | None = None) -> int:
    doc, observations = read_recording(path)
    config = parse(doc, f"{path} (recorded config)", resolve_secrets=False)
    if speed <= 0:
        raise RecordingError("--speed must be > 0")
    from hatui.feed import ReplayFeed

    if events:
        from hatui.faces.replay_events import print_events

        return print_events(config, observations)
    from hatui.schedule import target_specs
    from hatui.ui.app import HatuiApp

    # a step (the . key) is one poll round: the shortest interval polled
    step = min((spec.interval for spec in target_specs(config)), default=1.0)
    feed = ReplayFeed(observations, speed=speed, loop=loop, step=step)
    # the status bar adds the position in the recording, its length and speed (the clock shows the date)
    HatuiApp(config, feed, clock=feed.clock, mode="demo" if loop else "replay", theme=theme).run()
    return 0
