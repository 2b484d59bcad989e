"""``hatui init``: write a starting config from what the cloud itself says.

    hatui init --cloud NAME [--db-host ADDR[:PORT] ... [--db-tls] [--db-ca-file FILE | --db-insecure]]
               [--mq-url URL ...] [--haproxy-url URL ...] [-o FILE]

Reads only (hatui.faces.init_discovery says what), decides what to write (init_plan), writes it annotated
(init_render), and loads the text with hatui's own config loader before writing it: a config init writes
always loads. It refuses to overwrite a file without --force; ``-o -`` prints it. Exit 0: written from
everything asked; 1: written, but some part could not be read (said on stderr and in the file); 2: nothing
written (a wrong argument, a cloud clouds.yaml does not define, the file exists, or what it would write does
not load: a bug).
"""
from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

DEFAULT_OUTPUT = "hatui.toml"  # where hatui looks first after --config and $HATUI_CONFIG


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cloud", metavar="NAME",
                   help="the clouds.yaml entry, as for the openstack CLI (default $OS_CLOUD)")
    p.add_argument("--os-password-env", metavar="VAR", help="the cloud's password from this variable (a "
                   "clouds.yaml kept without it)")
    g = p.add_argument_group("Galera (the members are read from any one node: wsrep_incoming_addresses)")
    g.add_argument("--db-host", action="append", default=[], metavar="ADDR[:PORT]", help="a node (repeatable)")
    g.add_argument("--db-user", default="hatui", metavar="USER", help="an account with USAGE only (default hatui)")
    g.add_argument("--db-password-env", default="HATUI_GALERA_PASSWORD", metavar="VAR",
                   help="its password's variable (default HATUI_GALERA_PASSWORD)")
    g.add_argument("--db-password-file", metavar="PATH", help="or its password's file")
    # named after [galera]'s keys: init reads the nodes as the config it writes will (the Galera source's TLS)
    g.add_argument("--db-tls", action="store_true", help="TLS to the nodes, verified by the system's CAs (tls)")
    g.add_argument("--db-ca-file", metavar="FILE", help="TLS verified against this CA bundle (ca_file)")
    g.add_argument("--db-insecure", action="store_true",
                   help="TLS without verification (insecure); said on stderr and on hatui's screen")
    m = p.add_argument_group("RabbitMQ (the nodes are read from any one management API: /api/nodes)")
    m.add_argument("--mq-url", action="append", default=[], metavar="URL",
                   help="a node's management API, http(s)://ADDR:15672 (repeatable)")
    m.add_argument("--mq-host", action="append", default=[], metavar="ADDR[:PORT]",
                   help="the same as --mq-url http://ADDR:15672")
    m.add_argument("--mq-user", default="hatui", metavar="USER", help='tag "monitoring" (default hatui)')
    m.add_argument("--mq-password-env", default="HATUI_RABBIT_PASSWORD", metavar="VAR",
                   help="its password's variable (default HATUI_RABBIT_PASSWORD)")
    m.add_argument("--mq-password-file", metavar="PATH", help="or its password's file")
    p.add_argument("--haproxy-url", action="append", default=[], metavar="URL",
                   help="an HAProxy's stats CSV, http://LB:8404/;csv (repeatable)")
    p.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                   help="connect and read timeout of every request (default 3)")
    p.add_argument("-o", "--output", default=DEFAULT_OUTPUT, metavar="FILE",
                   help=f"where to write it (default ./{DEFAULT_OUTPUT}; - for stdout)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


class UsageError(Exception):
    pass


def request_from(args: argparse.Namespace):  # -> init_discovery.Request
    from hatui.faces.init_discovery import GALERA_PORT, MANAGEMENT_PORT, PasswordRef, Request, mq_base, split_address

    cloud = args.cloud or os.environ.get("OS_CLOUD")
    if not cloud:
        raise UsageError("name the cloud: --cloud NAME (a clouds.yaml entry) or $OS_CLOUD")
    if not args.timeout > 0:
        raise UsageError("--timeout must be > 0")
    db_hosts = []
    for text in args.db_host:
        addr = split_address(text, GALERA_PORT)
        if addr is None:
            raise UsageError(f"--db-host {text!r}: expected ADDR or ADDR:PORT")
        db_hosts.append(addr)
    mq_urls = list(args.mq_url)
    for text in args.mq_host:
        addr = split_address(text, MANAGEMENT_PORT)
        if addr is None:
            raise UsageError(f"--mq-host {text!r}: expected ADDR or ADDR:PORT")
        mq_urls.append(f"http://{addr[0] if ':' not in addr[0] else f'[{addr[0]}]'}:{addr[1]}")
    try:
        schemes = {mq_base(u)[0] for u in mq_urls}
    except ValueError as exc:
        raise UsageError(f"--mq-url: {exc}") from None
    if len(schemes) > 1:
        raise UsageError("--mq-url: every management API by the same scheme (http or https)")
    return Request(
        cloud=cloud, os_password=PasswordRef(args.os_password_env),
        db_hosts=tuple(db_hosts), db_user=args.db_user,
        db_password=PasswordRef(None if args.db_password_file else args.db_password_env, args.db_password_file),
        db_tls=db_tls(args),
        mq_urls=tuple(mq_urls), mq_user=args.mq_user,
        mq_password=PasswordRef(None if args.mq_password_file else args.mq_password_env, args.mq_password_file),
        haproxy_urls=tuple(args.haproxy_url), timeout=args.timeout)


def db_tls(args: argparse.Namespace):  # -> init_discovery.Tls
    """--db-tls, --db-ca-file, --db-insecure as [galera]'s tls, ca_file, insecure: checked here, where a
    wrong one can still be named by its flag."""
    from hatui.faces.init_discovery import Tls

    given = [f for f, on in (("--db-tls", args.db_tls), ("--db-ca-file", args.db_ca_file),
                             ("--db-insecure", args.db_insecure)) if on]
    if given and not args.db_host:
        raise UsageError(f"{given[0]}: no --db-host to read with it")
    if args.db_ca_file and args.db_insecure:
        raise UsageError("--db-insecure turns verification off: --db-ca-file would verify nothing; give one")
    return Tls(tls=args.db_tls, ca_file=ca_file(args.db_ca_file, "--db-ca-file"), insecure=args.db_insecure)


def ca_file(path: str | None, flag: str) -> str | None:
    """A CA bundle that loads as hatui loads it (the sources' own TLS context), as an absolute path: the
    config written is read from wherever hatui runs, not from here."""
    import ssl

    from hatui.sources.tls import tls_context

    if path is None:
        return None
    full = os.path.abspath(os.path.expanduser(path))
    try:
        tls_context(full)
    except ssl.SSLError:
        raise UsageError(f"{flag} {path}: not a CA bundle (no PEM certificate in it)") from None
    except OSError as exc:
        raise UsageError(f"{flag} {path}: {exc.strerror or exc}") from None
    return full


def run_init(args: argparse.Namespace) -> int:
    from hatui.config import ConfigError, parse
    from hatui.faces.init_discovery import discover
    from hatui.faces.init_plan import plan
    from hatui.faces.init_render import render
    from hatui.secrets import redact

    try:
        req = request_from(args)
    except UsageError as exc:
        return _say(f"init: {exc}", 2)
    out = None if args.output == "-" else Path(args.output)
    if out is not None and out.exists() and not args.force:
        return _say(f"init: {out} exists: not overwritten (--force to overwrite, -o FILE elsewhere, -o - to print)", 2)
    facts = discover(req)
    if "cloud" in facts.cloud.errors:
        return _say(f"init: {facts.cloud.errors['cloud'].rstrip('.')}: nothing written", 2)
    p = plan(facts)
    text = render(p)
    name = str(out) if out is not None else "(stdout)"
    try:  # what init writes loads with hatui's own loader, or it is not written
        parse(tomllib.loads(text), name, resolve_secrets=False)
    except (tomllib.TOMLDecodeError, ConfigError) as exc:
        return _say(f"init: hatui bug: the config it would write does not load ({redact(str(exc))}); nothing written",
                    2)
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            with open(out, "w" if args.force else "x", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            return _say(f"init: {out}: {exc.strerror or exc}", 2)
    errors = p.facts.errors()
    lb = sum(len(h.backends) for h in p.facts.haproxy)
    said = (f"init: wrote {name}: {len(p.galera)} Galera node(s), {len(p.rabbit)} RabbitMQ node(s), "
            f"{len(p.haproxy)} HAProxy ({lb} backends), {len(p.hosts)} host(s), a catalog of {len(p.catalog)} URL(s). "
            "Fill in what is commented out (BMCs, power feeds, racks, switches), then: hatui check")
    _say(said, 0)
    if req.db_tls.insecure:
        _say("init: --db-insecure: Galera's certificates were not verified, and the config written does not "
             "verify them either (insecure = true: hatui's screen says TLS NOT VERIFIED)", 0)
    for e in errors:
        _say(f"init: not read: {redact(e)}", 0)
    return 1 if errors else 0


def _say(message: str, code: int) -> int:
    print(f"hatui: {message}", file=sys.stderr)
    return code
