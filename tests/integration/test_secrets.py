"""No secret ever leaves hatui: every byte it writes (stdout, stderr, every file it creates, the TUI's screens)
is scanned for every password it was given or could see, against the real lab.

Secrets: the lab's real passwords (Galera, RabbitMQ monitor and canary, the OpenStack reader, the BMCs),
given through ``password_file``, ``password_env``, clouds.yaml and secure.yaml; distinctive wrong passwords
for every source (so that each server's and each client library's own refusal is in the output: MariaDB,
the RabbitMQ management API and AMQP, Keystone, Redfish over HTTP and HTTPS, IPMI); passwords in URLs
(``user:pw@``) that are refused; TLS failures (Galera, the management API, Keystone, Redfish); passwords
in environment variables hatui is never told about (``OS_PASSWORD``, ``MYSQL_PWD``...); and an inline
password in the config (refused: the error must not repeat it). Each is searched raw, URL-quoted and inside
the Basic authorization it would make (base64 of ``user:pw``); Keystone tokens are searched by their Fernet
shape. Separately: credentials written into a URL of the config are refused and never repeated.
hatui runs with HOME, XDG dirs and TMPDIR in a fresh folder, so every file it writes is scanned.
``hatui serve``'s /metrics (text and OpenMetrics) and /check are scraped and scanned too.
"""
from __future__ import annotations

import base64
import gzip
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.integration.hosts.lab_config import hosts_toml
from tests.lab import galera as galera_lab
from tests.lab import hosts as hosts_lab
from tests.lab import openstack as os_lab
from tests.lab import rabbit as rabbit_lab

pytestmark = pytest.mark.lab

WRONG = {  # distinctive wrong passwords: if one shows anywhere, it came from hatui
    "galera": "Wr0ng-Galera-7f3a9c",
    "mq": "Wr0ng-RabbitAPI-51be0d",
    "canary": "Wr0ng-Canary-c0ffee",
    "keystone": "Wr0ng-Keystone-9d2e41",
    "bmc": "Wr0ng-BMC-e5a1b7",
    "url": "Url-Inline-S3cret-4c8d",
    "inline": "Inline-Config-S3cret-2b6f",
}
UNREFERENCED = {  # in hatui's environment, never named in its config
    "OS_PASSWORD": "Env-OS-Password-8a1f3e", "MYSQL_PWD": "Env-Mysql-Pwd-6c2d9b",
    "RABBITMQ_DEFAULT_PASS": "Env-Rabbit-Pass-0e7f4a", "HATUI_UNUSED_SECRET": "Env-Unused-Secret-3b9c5d",
}
RIGHT = {"galera": galera_lab.MONITOR_PASSWORD, "mq": rabbit_lab.MONITOR_PASSWORD,
         "canary": rabbit_lab.CANARY_PASSWORD, "keystone": os_lab.READER_PASSWORD, "bmc": hosts_lab.BMC_PASSWORD}
USERS = {"galera": galera_lab.MONITOR_USER, "mq": rabbit_lab.MONITOR_USER, "canary": rabbit_lab.CANARY_USER,
         "keystone": os_lab.READER_USER, "bmc": hosts_lab.BMC_USER, "url": "hatui-bmc"}
FERNET = re.compile(rb"gAAAAA[0-9A-Za-z_-]{40,}")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def needles() -> dict[bytes, str]:
    """Every form a secret could take in output -> what it is."""
    out: dict[bytes, str] = {}
    secrets = {f"right {k}": v for k, v in RIGHT.items()} | {f"wrong {k}": v for k, v in WRONG.items()} | {
        f"env {k}": v for k, v in UNREFERENCED.items()}
    for what, value in secrets.items():
        out.setdefault(value.encode(), what)
        out.setdefault(urllib.parse.quote(value, safe="").encode(), f"{what} (URL-quoted)")
        for user in set(USERS.values()):
            out.setdefault(base64.b64encode(f"{user}:{value}".encode()), f"{what} (Basic auth as {user})")
    return out


def scan(blob: bytes, where: str) -> list[str]:
    hits = [f"{where}: {what}" for needle, what in needles().items() if needle in blob]
    hits += [f"{where}: a Keystone token" for _ in FERNET.findall(blob)[:1]]
    return hits


@pytest.fixture(scope="module")
def labs():
    labs = (galera_lab.Lab(), rabbit_lab.Lab(), hosts_lab.Lab(), os_lab.Lab())
    for lab in labs:
        lab.up()
    yield labs
    for lab in labs:
        lab.reset()


class Sandbox:
    """A fresh HOME/XDG/TMPDIR/cwd for hatui (``out``) and the inputs holding secrets (``inputs``)."""

    def __init__(self, root: Path) -> None:
        self.inputs, self.out = root / "inputs", root / "out"
        self.inputs.mkdir()
        for d in ("home", "cache", "config", "state", "data", "tmp", "cwd"):
            (self.out / d).mkdir(parents=True)
        self.scanned: dict[str, int] = {}  # what -> bytes
        self.hits: list[str] = []
        self.tracebacks: list[str] = []

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "HATUI_"))}
        o = self.out
        env.update(HOME=str(o / "home"), XDG_CACHE_HOME=str(o / "cache"), XDG_CONFIG_HOME=str(o / "config"),
                   XDG_STATE_HOME=str(o / "state"), XDG_DATA_HOME=str(o / "data"), TMPDIR=str(o / "tmp"),
                   OS_CLIENT_CONFIG_FILE=str(self.inputs / "clouds.yaml"),
                   OS_CLIENT_SECURE_FILE=str(self.inputs / "secure.yaml"), **UNREFERENCED, **extra)
        return env

    def secret_file(self, name: str, value: str) -> Path:
        p = self.inputs / name
        p.write_text(value)
        p.chmod(0o600)
        return p

    def check(self, blob: bytes, where: str) -> None:
        self.scanned[where] = len(blob)
        self.hits += scan(blob, where)

    def run(self, name: str, args: list[str], env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "hatui", *args], capture_output=True, env=env,
                              cwd=self.out / "cwd", timeout=timeout)
        self.check(proc.stdout, f"{name} stdout")
        self.check(proc.stderr, f"{name} stderr")
        if b"Traceback" in proc.stderr:  # not this test's subject (secrets are scanned in it all the same)
            self.tracebacks.append(f"{name}: {proc.stderr.decode(errors='replace')[-600:]}")
        return proc

    def watch(self, name: str, config: Path, env: dict[str, str], seconds: float) -> bytes:
        proc = subprocess.Popen([sys.executable, "-m", "hatui", "watch", "--config", str(config)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=self.out / "cwd")
        time.sleep(seconds)
        proc.terminate()
        out, err = proc.communicate(timeout=15)
        self.check(out, f"{name} watch stdout")
        self.check(err, f"{name} watch stderr")
        return out

    def serve(self, name: str, config: Path, env: dict[str, str], seconds: float) -> bytes:
        """``hatui serve`` scraped as Prometheus would: /metrics (text and OpenMetrics) and /check."""
        import socket

        import httpx

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "hatui", "serve", "--config", str(config),
                                 "--listen", f"127.0.0.1:{port}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=self.out / "cwd")
        scraped = b""
        try:
            with httpx.Client(timeout=5, trust_env=False) as http:
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    try:
                        for path, accept in (("/metrics", ""), ("/metrics", "application/openmetrics-text"),
                                             ("/check", "")):
                            r = http.get(f"http://127.0.0.1:{port}{path}", headers={"Accept": accept} if accept else {})
                            self.check(r.content, f"{name} serve {path} {accept or 'text'}")
                            scraped += r.content
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.5)
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=15)
        self.check(out, f"{name} serve stdout")
        self.check(err, f"{name} serve stderr")
        return scraped

    def tui(self, name: str, config: Path, env: dict[str, str], seconds: float) -> None:
        """The live UI in a private tmux server (200x60): the screen, then each pane focused, captured; and the
        byte stream it drew."""
        sock = f"hatui-secrets-{os.getpid()}"
        tmux = ["tmux", "-L", sock, "-f", "/dev/null"]
        err = self.out / "tmp" / f"{name}-tui.stderr"
        # Textual draws on stderr: tee'd to a file, every frame drawn is scanned too (with the other files)
        cwd = self.out / "cwd"
        cmd = f"bash -c 'cd {cwd} && exec {sys.executable} -m hatui --config {config} 2> >(tee {err} >&2)'"
        subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "200", "-y", "60", cmd], env=env,
                       check=True, timeout=10)
        try:
            time.sleep(seconds)
            screens = []
            for key in ("", "f", "g", "r", "e", "s", "h"):
                if key:
                    subprocess.run([*tmux, "send-keys", "-t", "t", key], check=True, timeout=10)
                    time.sleep(0.7)
                cap = subprocess.run([*tmux, "capture-pane", "-p", "-e", "-J", "-t", "t"], capture_output=True,
                                     check=True, timeout=10).stdout
                screens.append(cap)
            text = b"\n".join(screens)
            self.check(text, f"{name} TUI screens")
            plain = ANSI.sub("", text.decode(errors="replace"))
            assert "lab-db" in plain or "db-1" in plain, plain[-2000:]  # the UI really drew the lab
        finally:
            subprocess.run([*tmux, "send-keys", "-t", "t", "q"], timeout=10)
            time.sleep(0.5)
            subprocess.run([*tmux, "kill-server"], timeout=10, capture_output=True)

    def scan_files(self) -> int:
        n = 0
        for p in self.out.rglob("*"):
            if p.is_file():
                data = p.read_bytes()
                if p.suffix == ".gz":
                    data += gzip.decompress(data)
                self.check(data, f"file {p.relative_to(self.out)}")
                n += 1
        return n


def _clouds(sandbox: Sandbox, auth_url: str, with_secure: bool, password: str) -> None:
    """clouds.yaml with two clouds: ``plain`` (password inline, the lab's style) and ``split`` (password in
    secure.yaml, $OS_CLIENT_SECURE_FILE; openstacksdk merges both)."""
    cloud = (f"    auth:\n      auth_url: {auth_url}\n      username: {os_lab.READER_USER}\n"
             f"      user_domain_name: Default\n      project_name: {os_lab.READER_PROJECT}\n"
             f"      project_domain_name: Default\n    region_name: {os_lab.REGION}\n    interface: public\n"
             f"    identity_api_version: 3\n")
    (sandbox.inputs / "clouds.yaml").write_text(
        "clouds:\n  plain:\n" + cloud.replace("      username:", f"      password: {password}\n      username:")
        + "  split:\n" + cloud)
    if with_secure:
        (sandbox.inputs / "secure.yaml").write_text(f"clouds:\n  split:\n    auth:\n      password: {password}\n")


def _config(sandbox: Sandbox, *, cloud: str, galera_extra: str = "", mq_extra: str = "", mq_port: int | None = None,
            bmc: dict | None = None, endpoints: str = "", pw: dict[str, str]) -> Path:
    galera_nodes = "".join(f'[[galera.nodes]]\nname = "db-{n}"\nhost = "{host}"\nport = {port}\n'
                           for n, (_, host, port) in enumerate(galera_lab.Lab().nodes(), start=1))
    mq_nodes = "".join(f'[[rabbitmq.nodes]]\nname = "mq-{i}"\nhost = "{host}"\n'
                       f'management_port = {mq_port or mgmt}\namqp_port = {amqp}\n'
                       for i, (_e, host, amqp, mgmt) in enumerate(rabbit_lab.Lab().nodes(), start=1))
    gfile = sandbox.secret_file("galera.pw", pw["galera"])
    cfile = sandbox.secret_file("canary.pw", pw["canary"])
    text = (f'[hatui]\ninterval = 0.5\ntimeout = 1.5\n'
            f'[galera]\nname = "lab-db"\nuser = "{galera_lab.MONITOR_USER}"\npassword_file = "{gfile}"\n'
            f'{galera_extra}{galera_nodes}'
            f'[rabbitmq]\nname = "lab-mq"\nuser = "{rabbit_lab.MONITOR_USER}"\npassword_env = "T_MQ_PW"\n{mq_extra}'
            f'[rabbitmq.canary]\nuser = "{rabbit_lab.CANARY_USER}"\npassword_file = "{cfile}"\ninterval = 1.0\n'
            f'{mq_nodes}'
            f'[openstack]\ncloud = "{cloud}"\nname = "lab"\ninterval = 1.0\ntimeout = 3\n{endpoints}'
            + hosts_toml(power_interval=0.5, bmc=bmc or {}))
    p = sandbox.inputs / f"hatui-{len(list(sandbox.inputs.glob('hatui-*.toml')))}.toml"
    p.write_text(text)
    return p


def test_no_secret_in_any_output_healthy_then_refused_everywhere(labs, tmp_path):
    sandbox = Sandbox(tmp_path)
    galera, rabbit, hosts, openstack = labs
    ks_vip = "http://127.0.0.1:15000/v3"

    # ---- 1. every password right: the healthy lab, every face
    _clouds(sandbox, ks_vip, with_secure=True, password=RIGHT["keystone"])
    good = _config(sandbox, cloud="split", pw=RIGHT)
    env = sandbox.env({"T_MQ_PW": RIGHT["mq"], "HATUI_LAB_BMC_PW": RIGHT["bmc"]})
    proc = sandbox.run("good check", ["check", "--json", "--config", str(good)], env)
    assert b'"keystone.unreachable' not in proc.stdout and b'"galera.unreachable' not in proc.stdout, proc.stdout
    rec = sandbox.out / "cwd" / "good.jsonl.gz"
    sandbox.run("good record", ["record", "-o", str(rec), "--duration", "4", "--config", str(good)], env)
    sandbox.run("good replay", ["replay", str(rec), "--events", "--speed", "50"], env)
    sandbox.watch("good", good, env, 4)
    assert b"hatui_target_up" in sandbox.serve("good", good, env, 4)
    sandbox.tui("good", good, env, 5)

    # ---- 2. every password wrong (and the plain clouds.yaml style), passwords in URLs, unreferenced env
    _clouds(sandbox, ks_vip, with_secure=False, password=WRONG["keystone"])
    bad = _config(sandbox, cloud="plain", pw={"galera": WRONG["galera"], "canary": WRONG["canary"]},
                  bmc={"hostA": {"password_env": "T_BMC_WRONG"}, "hostB": {"password_env": "T_BMC_WRONG"},
                       "hostC": {"password_env": "T_BMC_WRONG"}},
                  endpoints='[[openstack.endpoints]]\nname = "bad-url"\nurl = "http://127.0.0.1:18009/v3"\n')
    env = sandbox.env({"T_MQ_PW": WRONG["mq"], "T_BMC_WRONG": WRONG["bmc"]})
    proc = sandbox.run("wrong check", ["check", "--json", "--config", str(bad)], env)
    found = proc.stdout.decode()
    for fid in ("galera.unreachable:db-1", "rabbitmq.unreachable:mq-1", "rabbitmq-amqp.unreachable:mq-1",
                "keystone.unreachable:lab", "power.bmc_auth:hostA", "power.bmc_auth:hostB", "power.bmc_auth:hostC",
                "endpoint.down:bad-url"):
        assert f'"{fid}"' in found, (fid, found)
    sandbox.watch("wrong", bad, env, 4)
    assert b'kind="auth"' in sandbox.serve("wrong", bad, env, 4)  # the refusals counted, never their words
    sandbox.run("wrong record", ["record", "-o", str(sandbox.out / "cwd" / "wrong.jsonl"), "--duration", "3",
                                 "--config", str(bad)], env)
    sandbox.tui("wrong", bad, env, 5)

    # ---- 3. TLS failures: Galera and the management API asked for TLS from plain servers, Keystone over https
    # to a plain port, Redfish over https with no CA (self-signed: verification fails); right passwords
    _clouds(sandbox, "https://127.0.0.1:15000/v3", with_secure=True, password=RIGHT["keystone"])
    tls = _config(sandbox, cloud="split", pw=RIGHT, galera_extra="tls = true\n", mq_extra='scheme = "https"\n',
                  bmc={"hostB": {"ca_file": None}})
    env = sandbox.env({"T_MQ_PW": RIGHT["mq"], "HATUI_LAB_BMC_PW": RIGHT["bmc"]})
    proc = sandbox.run("tls check", ["check", "--json", "--config", str(tls)], env)
    found = proc.stdout.decode()
    for fid in ("galera.unreachable:db-1", "rabbitmq.unreachable:mq-1", "keystone.unreachable:lab",
                "power.unreachable:hostB"):
        assert f'"{fid}"' in found, (fid, found)

    # ---- 4. a password written inline in the config, and a password file that is missing: refused by name
    inline = sandbox.inputs / "inline.toml"
    inline.write_text(good.read_text().replace('password_env = "T_MQ_PW"', f'password = "{WRONG["inline"]}"'))
    proc = sandbox.run("inline config", ["check", "--config", str(inline)], env)
    assert proc.returncode == 3 and b"password" in proc.stderr, proc.stderr
    missing = sandbox.inputs / "missing.toml"
    missing.write_text(good.read_text().replace(str(sandbox.inputs / "galera.pw"), str(sandbox.inputs / "nope.pw")))
    proc = sandbox.run("missing password file", ["check", "--config", str(missing)], env)
    assert proc.returncode == 3, proc.stderr

    files = sandbox.scan_files()
    total = sum(sandbox.scanned.values())
    print(f"\nscanned {len(sandbox.scanned)} outputs ({files} files), {total} bytes, for {len(needles())} needles")
    for tb in sandbox.tracebacks:
        print(f"traceback (not a leak): {tb}")
    assert sandbox.hits == [], sandbox.hits
    assert shutil.which("tmux")


def test_credentials_written_into_a_configured_url_are_refused_never_shown(labs, tmp_path):
    """An operator pastes a URL with credentials (``http://stats:pw@lb:8404/;csv``, a BMC or endpoint URL):
    hatui refuses it (passwords are taken by reference only) and never repeats it. Found by this test:
    endpoint and HAProxy URLs were once accepted and shown verbatim in summaries, panes and recordings."""
    sandbox = Sandbox(tmp_path)
    _clouds(sandbox, "http://127.0.0.1:15000/v3", with_secure=True, password=RIGHT["keystone"])
    creds = f"{USERS['url']}:{WRONG['url']}@"
    # (a BMC URL with credentials is refused by the same check: "expected a URL without credentials")
    for name, table in (("endpoint", f'[[openstack.endpoints]]\nname = "with-creds"\n'
                                     f'url = "http://{creds}127.0.0.1:18009/v3"\n'),
                        ("haproxy", f'[[openstack.haproxy]]\nname = "lb"\n'
                                    f'url = "http://{creds}127.0.0.1:{os_lab.STATS_PORT}/;csv"\n')):
        config = _config(sandbox, cloud="split", pw=RIGHT, endpoints=table)
        env = sandbox.env({"T_MQ_PW": RIGHT["mq"], "HATUI_LAB_BMC_PW": RIGHT["bmc"]})
        for verb in (["check", "--json"], ["record", "-o", str(sandbox.out / "cwd" / f"{name}.jsonl"),
                                           "--duration", "3"]):
            proc = sandbox.run(f"url {name} {verb[0]}", [*verb, "--config", str(config)], env)
            assert proc.returncode != 0 and b"url: expected a URL without credentials" in proc.stderr, proc.stderr
        config.unlink()  # the config holds the credentials: only what hatui wrote is scanned
    sandbox.scan_files()
    assert sandbox.hits == [], sandbox.hits
