"""``hatui init`` as an operator runs it, against local stand-ins (a management API and a stats page that
answer, a Keystone and a MariaDB that refuse): it writes what it could read, says what it could not, never
shows a password, and never overwrites a file unasked. The lab test (tests/integration/cloud/test_init.py)
runs it against the real cloud."""
from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hatui.config import parse
from hatui.faces.init_discovery import split_address

REPO = Path(__file__).resolve().parents[2]
SECRETS = {"HATUI_GALERA_PASSWORD": "db-secret-1234", "HATUI_RABBIT_PASSWORD": "mq-secret-5678"}
CLOUD_SECRET = "cloud-secret-9012"
CSV = ("# pxname,svname,type,status,act,bck,lastchg,check_status,check_code,last_chk,addr\n"
       "api,FRONTEND,0,OPEN,,,,,,,\napi,mq-a,2,UP,1,0,5,L7OK,200,,127.0.0.1:8774\n"
       "api,web-9,2,UP,1,0,5,L7OK,200,,127.0.0.9:8774\napi,BACKEND,1,UP,1,0,5,,,,\n")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stand_in():
    """A RabbitMQ management API and an HAProxy stats page on one loopback port; records the auth it got."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            seen.append(self.headers.get("Authorization", ""))
            if self.path.startswith("/api/nodes"):
                body = json.dumps([{"name": "rabbit@mq-a", "running": True}, {"name": "rabbit@mq-b", "running": True}])
            elif self.path.startswith("/api/overview"):
                body = json.dumps({"node": "rabbit@mq-a", "listeners": [
                    {"node": "rabbit@mq-b", "protocol": "amqp", "ip_address": "127.0.0.2", "port": 5672},
                    {"node": "rabbit@mq-a", "protocol": "amqp", "ip_address": "::", "port": 5672}]})
            elif self.path == "/;csv":
                body = CSV
            else:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def clouds(tmp_path) -> Path:
    p = tmp_path / "clouds.yaml"
    p.write_text(f"clouds:\n  c1:\n    auth:\n      auth_url: http://127.0.0.1:{_closed_port()}/v3\n"
                 f"      username: u\n      password: {CLOUD_SECRET}\n      project_name: p\n"
                 "      user_domain_name: Default\n      project_domain_name: Default\n")
    return p


def _init(tmp_path, clouds, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO),
           "OS_CLIENT_CONFIG_FILE": str(clouds), **SECRETS}
    return subprocess.run([sys.executable, "-m", "hatui", "init", *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=tmp_path)


def test_writes_what_it_read_says_what_it_could_not_and_shows_no_secret(tmp_path, clouds, stand_in):
    where, seen = stand_in
    db = f"127.0.0.1:{_closed_port()}"
    proc = _init(tmp_path, clouds, "--cloud", "c1", "--db-host", db, "--mq-url", f"http://{where}",
                 "--haproxy-url", f"http://{where}/;csv", "--timeout", "1", "-o", "-")
    assert proc.returncode == 1, proc.stderr  # written, but Keystone and Galera refused
    for secret in (*SECRETS.values(), CLOUD_SECRET):
        assert secret not in proc.stdout and secret not in proc.stderr
    # the management API got the password from its variable (basic auth), nobody else saw it
    token = base64.b64encode(("hatui:" + SECRETS["HATUI_RABBIT_PASSWORD"]).encode()).decode()
    assert f"Basic {token}" in seen
    said = proc.stderr
    assert f"not read: galera {db}: connection refused" in said and "not read: openstack keystone:" in said
    doc = tomllib.loads(proc.stdout)
    parse(doc, "init.toml", resolve_secrets=False)
    # a node given that did not answer is still written (named by the host at its address), and said so
    assert doc["galera"]["nodes"] == [{"name": "mq-a", "host": "127.0.0.1", "port": int(db.split(":")[1])}]
    assert "did not answer: connection refused" in proc.stdout
    assert doc["galera"]["password_env"] == "HATUI_GALERA_PASSWORD"
    assert [(n["name"], n["host"]) for n in doc["rabbitmq"]["nodes"]] == [("mq-a", "127.0.0.1"), ("mq-b", "127.0.0.2")]
    hosts = {h["name"]: h.get("addresses") for h in doc["hosts"]["host"]}
    assert hosts == {"mq-a": ["127.0.0.1"], "mq-b": ["127.0.0.2"]}  # web-9 is no host's name: not a host
    assert doc["openstack"]["haproxy"] == [{"name": "lb", "url": f"http://{where}/;csv"}]
    lines = proc.stdout[proc.stdout.index("[hosts]"):].splitlines()
    table = lines[lines.index('name = "mq-a"') - 1]  # what runs there, said on its table's line
    assert table.startswith("[[hosts.host]]") and all(w in table for w in ("rabbit@mq-a", "Galera", "server of lb"))


def test_never_overwrites_unasked(tmp_path, clouds):
    out = tmp_path / "hatui.toml"
    out.write_text("# mine\n")
    proc = _init(tmp_path, clouds, "--cloud", "c1", "--timeout", "0.5")
    assert proc.returncode == 2 and "exists" in proc.stderr and out.read_text() == "# mine\n"
    proc = _init(tmp_path, clouds, "--cloud", "c1", "--timeout", "0.5", "--force")
    assert proc.returncode == 1 and "keystone" in proc.stderr
    parse(tomllib.loads(out.read_text()), str(out), resolve_secrets=False)
    assert 'cloud = "c1"' in out.read_text()


@pytest.mark.parametrize("args, said", [
    ((), "name the cloud"),
    (("--cloud", "c1", "--db-host", "10.0.0.1:x"), "--db-host"),
    (("--cloud", "c1", "--mq-url", "ftp://10.0.0.1"), "--mq-url"),
    (("--cloud", "c1", "--mq-url", "http://u:pw@10.0.0.1:15672"), "without credentials"),
    (("--cloud", "nope"), "openstack.cloud: expected a cloud defined in clouds.yaml"),
])
def test_wrong_arguments_write_nothing(tmp_path, clouds, args, said):
    proc = _init(tmp_path, clouds, *args)
    assert proc.returncode == 2 and said in proc.stderr and not (tmp_path / "hatui.toml").exists()
    assert "pw@" not in proc.stderr


@pytest.mark.parametrize("text, want", [
    ("10.0.0.1", ("10.0.0.1", 3306)), ("10.0.0.1:3307", ("10.0.0.1", 3307)), ("[fd00::1]:3306", ("fd00::1", 3306)),
    ("fd00::1", ("fd00::1", 3306)), ("db-1.example.com", ("db-1.example.com", 3306)), ("AUTO", None), ("", None),
    (" 10.0.0.2:3306 ", ("10.0.0.2", 3306)), ("10.0.0.1:0", None), ("10.0.0.1:99999", None), ("[fd00::1", None),
])
def test_addresses_as_galera_lists_them(text, want):
    assert split_address(text, 3306) == want
