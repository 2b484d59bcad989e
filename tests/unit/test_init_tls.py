"""``hatui init``'s TLS: Galera read as the config it writes asks (``--db-tls``, ``--db-ca-file``,
``--db-insecure`` are ``[galera]``'s ``tls``, ``ca_file``, ``insecure``), against a loopback MariaDB stand-in
that speaks TLS and then refuses the login; and RabbitMQ read through the management source's own client,
deadlines and words."""
from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import socket
import ssl
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hatui.config import load, parse
from hatui.faces.init import add_arguments, request_from
from hatui.faces.init_discovery import CloudFacts, Facts, GaleraFacts, Request, Tls, read_rabbit
from hatui.faces.init_plan import plan
from hatui.faces.init_render import render
from hatui.sources.galera import galera_sources
from hatui.sources.rabbitmq import management_url
from tests.unit.test_init_cli import SECRETS, _init, clouds  # noqa: F401 - clouds is a fixture

# MySQL protocol: the capabilities the stand-in offers (LONG_PASSWORD, PROTOCOL_41, SSL, SECURE_CONNECTION,
# PLUGIN_AUTH) and the error it ends every login with
CAPABILITIES = 1 | 512 | 2048 | 32768 | (1 << 19)
ACCESS_DENIED = b"\xff" + (1045).to_bytes(2, "little") + b"#28000Access denied for user 'hatui'@'127.0.0.1'"


# ------------------------------------------------------------------ stand-ins
@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, its own CA (so --db-ca-file FILE verifies it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    crt = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
           .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
           .not_valid_after(now + dt.timedelta(days=2))
           .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                          critical=False)
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
           .sign(key, hashes.SHA256()))
    where = tmp_path_factory.mktemp("tls")
    ca, pem = where / "db-ca.pem", where / "db-key.pem"
    ca.write_bytes(crt.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return ca, pem


def _greeting() -> bytes:
    """A MariaDB handshake (protocol 10) offering TLS."""
    salt = b"abcdefghijklmnopqrst"
    return (b"\x0a" + b"5.5.5-10.11.6-MariaDB\0" + (7).to_bytes(4, "little") + salt[:8] + b"\0"
            + (CAPABILITIES & 0xFFFF).to_bytes(2, "little") + bytes([33]) + (2).to_bytes(2, "little")
            + (CAPABILITIES >> 16).to_bytes(2, "little") + bytes([21]) + b"\0" * 10 + salt[8:] + b"\0"
            + b"mysql_native_password\0")


def _recv(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n and (chunk := conn.recv(n - len(data))):
        data += chunk
    return data


def _read_packet(conn: socket.socket) -> bytes:
    header = _recv(conn, 4)
    return _recv(conn, int.from_bytes(header[:3], "little")) if len(header) == 4 else b""


def _send_packet(conn: socket.socket, seq: int, payload: bytes) -> None:
    conn.sendall(len(payload).to_bytes(3, "little") + bytes([seq]) + payload)


class MariaDbStandIn:
    """Greets, upgrades to TLS when the client asks (its certificate: ``cert``), reads the login and refuses
    it (1045). ``logins`` says how each client came in: "tls" (a TLS login) or "plain"."""

    def __init__(self, cert: tuple[Path, Path]) -> None:
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(*cert)
        self.logins: list[str] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return  # closed
            with conn:
                conn.settimeout(5)
                try:
                    self._one(conn)
                except (OSError, ssl.SSLError):
                    pass  # the client refused our certificate, or went away: no login

    def _one(self, conn: socket.socket) -> None:
        _send_packet(conn, 0, _greeting())
        first = _read_packet(conn)
        if len(first) == 32 and int.from_bytes(first[:4], "little") & 2048:  # the SSL request
            with self.ctx.wrap_socket(conn, server_side=True) as tls:
                _read_packet(tls)
                self.logins.append("tls")
                _send_packet(tls, 3, ACCESS_DENIED)
            return
        self.logins.append("plain")
        _send_packet(conn, 2, ACCESS_DENIED)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def mariadb(cert):
    db = MariaDbStandIn(cert)
    yield db
    db.close()


# ------------------------------------------------------------------ the flags
def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_arguments(p)
    return p.parse_args(["--cloud", "c1", *argv])


def test_the_flags_are_the_galera_keys(cert):
    ca = cert[0]
    assert request_from(_args("--db-host", "10.0.0.1")).db_tls == Tls()
    assert request_from(_args("--db-host", "10.0.0.1", "--db-tls")).db_tls == Tls(tls=True)
    assert request_from(_args("--db-host", "10.0.0.1", "--db-insecure")).db_tls == Tls(insecure=True)
    assert request_from(_args("--db-host", "10.0.0.1", "--db-ca-file", str(ca))).db_tls == Tls(ca_file=str(ca))


def test_a_relative_ca_file_is_written_absolute(cert, monkeypatch):
    """The config is read from wherever hatui runs, not from where init ran."""
    monkeypatch.chdir(cert[0].parent)
    req = request_from(_args("--db-host", "10.0.0.1", "--db-ca-file", cert[0].name))
    assert req.db_tls.ca_file == str(cert[0]) and os.path.isabs(req.db_tls.ca_file)


@pytest.mark.parametrize("tls", [Tls(tls=True), Tls(ca_file="/etc/ssl/db-ca.pem"), Tls(insecure=True),
                                 Tls(tls=True, ca_file="/etc/ssl/db-ca.pem")])
def test_the_written_config_loads_into_the_same_tls(tls):
    req = Request(cloud="c1", db_hosts=(("10.0.0.11", 3306),), db_tls=tls)
    facts = Facts(request=req, cloud=CloudFacts(name="c1"), galera=GaleraFacts(addresses=[("10.0.0.11", 3306)]))
    section = parse(tomllib.loads(render(plan(facts), now=0)), "init.toml", resolve_secrets=False).galera
    assert section is not None
    assert (section.tls, section.ca_file, section.insecure) == (tls.tls, tls.ca_file, tls.insecure)


def test_without_tls_flags_tls_is_a_blank_to_fill_in():
    req = Request(cloud="c1", db_hosts=(("10.0.0.11", 3306),))
    facts = Facts(request=req, cloud=CloudFacts(name="c1"), galera=GaleraFacts(addresses=[("10.0.0.11", 3306)]))
    text = render(plan(facts), now=0)
    assert "# tls = true" in text and "--db-ca-file" in text
    assert not {"tls", "ca_file", "insecure"} & set(tomllib.loads(text)["galera"])


# ------------------------------------------------------------------ init against a TLS MariaDB
def test_the_ca_file_verifies_the_nodes_and_the_written_config_checks_the_same_way(tmp_path, clouds, mariadb,  # noqa: F811
                                                                                    cert, monkeypatch):
    out = tmp_path / "hatui.toml"
    proc = _init(tmp_path, clouds, "--cloud", "c1", "--db-host", f"127.0.0.1:{mariadb.port}",
                 "--db-ca-file", str(cert[0]), "--timeout", "2", "-o", str(out))
    assert proc.returncode == 1, proc.stderr  # written; Keystone is down and the login refused
    assert f"not read: galera 127.0.0.1:{mariadb.port}: access denied (1045)" in proc.stderr
    assert mariadb.logins == ["tls"]  # the certificate verified against the CA given, then the login
    assert SECRETS["HATUI_GALERA_PASSWORD"] not in proc.stderr + out.read_text()
    assert "NOT VERIFIED" not in proc.stderr

    # the file, loaded by hatui's loader, asks for the same TLS, and its Galera source gets in the same way
    for k, v in {**SECRETS, "OS_CLIENT_CONFIG_FILE": str(clouds)}.items():
        monkeypatch.setenv(k, v)
    config = load(str(out))
    assert config.galera is not None
    assert (config.galera.tls, config.galera.ca_file, config.galera.insecure) == (False, str(cert[0]), False)
    (source,) = galera_sources(config)
    with pytest.raises(Exception) as refused:
        source.poll()
    assert source.failure(refused.value).message == "access denied (1045)" and mariadb.logins == ["tls", "tls"]


def test_tls_is_verified_unless_turned_off(tmp_path, clouds, mariadb):  # noqa: F811
    db = f"127.0.0.1:{mariadb.port}"
    proc = _init(tmp_path, clouds, "--cloud", "c1", "--db-host", db, "--db-tls", "--timeout", "2", "-o", "-")
    assert proc.returncode == 1 and f"not read: galera {db}: TLS: " in proc.stderr
    assert "certificate verify failed" in proc.stderr and mariadb.logins == []  # a self-signed certificate
    assert tomllib.loads(proc.stdout)["galera"]["tls"] is True

    proc = _init(tmp_path, clouds, "--cloud", "c1", "--db-host", db, "--db-insecure", "--timeout", "2", "-o", "-")
    assert proc.returncode == 1 and f"not read: galera {db}: access denied (1045)" in proc.stderr
    assert mariadb.logins == ["tls"]  # in, over TLS, without verification: and said so
    assert "--db-insecure: Galera's certificates were not verified" in proc.stderr and "TLS NOT VERIFIED" in proc.stderr
    assert tomllib.loads(proc.stdout)["galera"]["insecure"] is True
    assert "TLS NOT VERIFIED" in proc.stdout  # and in the file, next to the key


@pytest.mark.parametrize("args, said", [
    (("--db-ca-file", "/nonexistent/db-ca.pem"), "--db-ca-file /nonexistent/db-ca.pem: No such file or directory"),
    (("--db-ca-file", "."), "--db-ca-file .: Is a directory"),
    (("--db-ca-file", "{garbage}"), "not a CA bundle (no PEM certificate in it)"),
    (("--db-ca-file", "{ca}", "--db-insecure"), "--db-insecure turns verification off"),
])
def test_a_wrong_ca_file_is_named_by_its_flag_and_writes_nothing(tmp_path, clouds, cert, args, said):  # noqa: F811
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    args = tuple(a.format(garbage=garbage, ca=cert[0]) for a in args)
    proc = _init(tmp_path, clouds, "--cloud", "c1", "--db-host", "127.0.0.1", *args)
    assert proc.returncode == 2 and said.format(garbage=garbage) in proc.stderr, proc.stderr
    assert not (tmp_path / "hatui.toml").exists() and "Traceback" not in proc.stderr


@pytest.mark.parametrize("flag", [("--db-tls",), ("--db-insecure",)])
def test_tls_flags_without_a_node_are_refused(tmp_path, clouds, flag):  # noqa: F811
    proc = _init(tmp_path, clouds, "--cloud", "c1", *flag)
    assert proc.returncode == 2 and f"{flag[0]}: no --db-host" in proc.stderr


# ------------------------------------------------------------------ RabbitMQ through the management source
@pytest.fixture
def management_api():
    """A management API that refuses /api/nodes to this account (403) and never answers /api/overview."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path.startswith("/api/nodes"):
                self.send_error(403)
            else:
                release.wait(10)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()


def test_rabbit_failures_read_as_the_monitor_words_them(management_api, monkeypatch):
    monkeypatch.setenv("HATUI_RABBIT_PASSWORD", SECRETS["HATUI_RABBIT_PASSWORD"])
    facts = read_rabbit(Request(cloud="c1", mq_urls=(management_api,), timeout=0.2))
    # the management source's words for a 403 (init once said it its own way), /api/nodes' failure first
    assert facts.errors == {management_api: "management API: /api/nodes not allowed (403)"}


def test_rabbit_timeouts_are_the_monitor_s(monkeypatch):
    """A node that accepts and never answers: init waits as a poll waits for a cluster-wide endpoint."""
    monkeypatch.setenv("HATUI_RABBIT_PASSWORD", SECRETS["HATUI_RABBIT_PASSWORD"])
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody reads
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        facts = read_rabbit(Request(cloud="c1", mq_urls=(url,), timeout=0.2))
    assert facts.errors == {url: "management API: no answer within 1 s"} and not facts.nodes


def test_an_ipv6_management_api_is_bracketed():
    assert management_url("https", "fd00::1", 15672) == "https://[fd00::1]:15672"
    assert management_url("http", "10.0.0.1", 15672) == "http://10.0.0.1:15672"
