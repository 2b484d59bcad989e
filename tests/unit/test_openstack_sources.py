"""The OpenStack sources' I/O against real local sockets: refused, hanging, wrong content, TLS, the HAProxy
socket, and Keystone unreachable or frozen. Every call must end within its own timeout."""
from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import time
from pathlib import Path

import pytest

from hatui.config import parse
from hatui.model import FailureKind
from hatui.model.haproxy import HaproxyGarbled, parse_haproxy_stats
from hatui.schedule import TargetSpec
from hatui.sources.endpoints import catalog_groups, probe
from hatui.sources.haproxy import HaproxySource, stat_rows
from hatui.sources.http import ssl_context
from tests.fixtures_openstack import FIXTURES, capture, token_data

T = 0.3  # seconds: every timeout in these tests


@pytest.fixture
def hanging_port():
    """A listener that accepts TCP and never answers (a SIGSTOPped server looks like this)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


@pytest.fixture
def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def _serve(body: bytes, ctype: bytes, ctx: ssl.SSLContext | None = None, status: bytes = b"200 OK"):
    async def handle(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype + b"\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()
    return await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)


async def test_refused_and_hanging_endpoints_end_within_their_timeout(closed_port, hanging_port):
    import httpx

    from hatui.sources.http import http_timeout

    async with httpx.AsyncClient(timeout=http_timeout(T)) as client:
        t0 = time.monotonic()
        refused, hung = await asyncio.gather(probe(client, f"http://127.0.0.1:{closed_port}/", T, True),
                                             probe(client, f"http://127.0.0.1:{hanging_port}/", T, True))
        took = time.monotonic() - t0
    assert refused["error"]["kind"] == "refused" and refused["status"] is None
    assert hung["error"] == {"kind": "timeout", "message": "connected, no answer within 0.3 s"}
    assert took < 3 * T


async def test_html_page_is_not_a_version_document():
    import httpx

    server = await _serve(b"<html>It works!</html>", b"text/html")
    port = server.sockets[0].getsockname()[1]
    async with server, httpx.AsyncClient(timeout=T) as client:
        out = await probe(client, f"http://127.0.0.1:{port}/", T, True)
    assert (out["status"], out["versions"], out["content_type"], out["tls"]) == (200, None, "text/html", None)


def _self_signed(tmp_path: Path, days: int) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address(
                "127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    crt, pem = tmp_path / "cert.pem", tmp_path / "key.pem"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return crt, pem


async def test_tls_days_left_verified_and_unverified_and_refused_unknown_ca(tmp_path):
    import httpx

    crt, key = _self_signed(tmp_path, days=20)
    sctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    sctx.load_cert_chain(crt, key)
    server = await _serve(b'{"version": {"id": "v3.14"}}', b"application/json", sctx)
    url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/v3"
    async with server:
        async with httpx.AsyncClient(verify=ssl_context(str(crt)), timeout=T) as c:
            ok = await probe(c, url, T, True)
        async with httpx.AsyncClient(verify=ssl_context(False), timeout=T) as c:
            insecure = await probe(c, url, T, False)
        async with httpx.AsyncClient(verify=ssl_context(True), timeout=T) as c:
            unknown_ca = await probe(c, url, T, True)
    assert ok["versions"] == ["v3.14"] and ok["tls"]["verified"] is True and 19 < ok["tls"]["days_left"] <= 20
    assert insecure["tls"]["verified"] is False and 19 < insecure["tls"]["days_left"] <= 20
    assert unknown_ca["error"]["kind"] == "tls" and "certificate verify failed" in unknown_ca["error"]["message"]


def _spec(source: str, name: str, timeout: float = T) -> TargetSpec:
    return TargetSpec(source, name, 1.0, timeout, 10.0)


def _haproxy_section(**entry):
    cfg = parse({"openstack": {"haproxy": [{"name": "lb", **entry}]}}, "t.toml", resolve_secrets=False)
    return cfg.section("openstack").haproxy[0]


async def test_haproxy_stats_socket_and_its_failures(tmp_path):
    csv = (FIXTURES / "haproxy_stats_all_up.csv").read_bytes()

    async def answer(reader, writer):
        assert await reader.readline() == b"show stat\n"
        writer.write(csv)
        await writer.drain()
        writer.close()

    path = tmp_path / "haproxy.sock"
    server = await asyncio.start_unix_server(answer, str(path))
    async with server:
        data = await HaproxySource(_spec("haproxy", "lb"), _haproxy_section(socket=str(path))).poll()
    names = {b.name: len(b.servers) for b in parse_haproxy_stats(data)}
    assert names == {"galera": 3, "keystone": 2, "nova_api": 2, "placement": 1, "glance_api": 1, "neutron_api": 1}

    silent = tmp_path / "silent.sock"
    held = []
    quiet = await asyncio.start_unix_server(lambda r, w: held.append(w), str(silent))
    src = HaproxySource(_spec("haproxy", "lb"), _haproxy_section(socket=str(silent)))
    async with quiet:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError) as exc:
            await src.poll()
        assert time.monotonic() - t0 < 3 * T
    assert src.failure(exc.value).message == "no answer within 0.3 s"
    missing = HaproxySource(_spec("haproxy", "lb"), _haproxy_section(socket=str(tmp_path / "nope.sock")))
    with pytest.raises(FileNotFoundError) as exc:
        await missing.poll()
    assert missing.classify(exc.value).kind == FailureKind.NOT_FOUND


def test_stats_page_without_csv_is_garbled():
    with pytest.raises(HaproxyGarbled, match="does the URL end in ;csv"):
        parse_haproxy_stats(stat_rows("<html><body>Statistics Report for HAProxy</body></html>"))


def test_catalog_urls_shared_by_interfaces_are_probed_once():
    catalog = token_data("http://127.0.0.1:15000/v3", capture("token_catalog_reader.json")["body"])["catalog"]
    groups = catalog_groups(catalog)
    assert [(g["service"], g["interfaces"]) for g in groups] == [
        (s, ["public", "internal", "admin"]) for s in ("compute", "identity", "image", "network", "placement")]


# ------------------------------------------------------------------ Keystone, through openstacksdk's loader
def _cloud_config(tmp_path, monkeypatch, auth_url: str, timeout: float = T):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(f"clouds:\n  t:\n    auth:\n      auth_url: {auth_url}\n      username: u\n"
                      "      password: pw-sekret\n      project_name: p\n      user_domain_name: Default\n"
                      "      project_domain_name: Default\n    region_name: RegionOne\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return parse({"openstack": {"cloud": "t", "timeout": timeout}}, "t.toml")


def _keystone(cfg):
    from hatui.sources.openstack import openstack_sources

    return openstack_sources(cfg)


def test_keystone_refused_names_keystone_and_the_catalog_state(tmp_path, monkeypatch, closed_port):
    cfg = _cloud_config(tmp_path, monkeypatch, f"http://127.0.0.1:{closed_port}/v3")
    keystone = _keystone(cfg)[0]
    with pytest.raises(Exception) as exc:
        keystone.poll()
    f = keystone.failure(exc.value)
    assert f.kind == FailureKind.REFUSED
    assert f.message == f"Keystone http://127.0.0.1:{closed_port}/v3: connection refused; no catalog yet"
    assert "pw-sekret" not in repr(cfg)


def test_frozen_keystone_times_out_on_the_client(tmp_path, monkeypatch, hanging_port):
    cfg = _cloud_config(tmp_path, monkeypatch, f"http://127.0.0.1:{hanging_port}/v3")
    keystone = _keystone(cfg)[0]
    t0 = time.monotonic()
    with pytest.raises(Exception) as exc:
        keystone.poll()
    took = time.monotonic() - t0
    assert took < 3 * T + 0.5  # discovery GET and login POST, each bounded by the timeout
    assert keystone.failure(exc.value).message.startswith(f"Keystone http://127.0.0.1:{hanging_port}/v3: "
                                                          f"no answer within 0.3 s")


async def test_endpoints_use_the_cached_catalog_when_keystone_never_answered(tmp_path, monkeypatch, closed_port):
    import json

    cfg = _cloud_config(tmp_path, monkeypatch, f"http://127.0.0.1:{closed_port}/v3")
    cache = tmp_path / "cache" / "hatui" / "catalog-t.json"
    cache.parent.mkdir(parents=True)
    catalog = [{"type": "compute", "name": "nova", "endpoints": [
        {"interface": "public", "region": "RegionOne", "url": f"http://127.0.0.1:{closed_port}/v2.1"}]}]
    cache.write_text(json.dumps({"saved_at": 1000.0, "catalog": catalog}))
    _keystone_src, endpoints, *_ = _keystone(cfg)
    t0 = time.monotonic()
    data = await endpoints.poll()
    assert time.monotonic() - t0 < 2 * T + 0.5  # waited at most one timeout for Keystone's first answer
    assert data["catalog"]["from"] == "cache" and data["catalog"]["at"] == 1000.0
    (ep,) = data["endpoints"]
    assert ep["service"] == "compute" and ep["error"]["kind"] == "refused"
    await endpoints.aclose()


def test_services_without_keystone_say_it_is_keystone(tmp_path, monkeypatch, closed_port):
    cfg = _cloud_config(tmp_path, monkeypatch, f"http://127.0.0.1:{closed_port}/v3")
    nova = next(s for s in _keystone(cfg) if s.spec.key == ("services", "nova"))
    with pytest.raises(Exception) as exc:
        nova.poll()
    f = nova.failure(exc.value)
    assert (f.kind, f.message) == (FailureKind.REFUSED, "no token from Keystone (connection refused)")


async def test_a_server_that_closes_without_answering():
    """Accepts, reads the request, closes: what HAProxy does to kept connections when the backend dies."""
    import httpx

    async def close(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(close, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, httpx.AsyncClient(timeout=T) as client:
        out = await probe(client, f"http://127.0.0.1:{port}/", T, True)
    assert out["error"] == {"kind": "refused", "message": "connection closed without an answer"}


def test_the_catalog_is_cached_without_secrets_and_read_back(tmp_path, monkeypatch, closed_port):
    from hatui.sources.keystone import CloudSession

    cfg = _cloud_config(tmp_path, monkeypatch, f"http://127.0.0.1:{closed_port}/v3")
    catalog = token_data("http://127.0.0.1:15000/v3", capture("token_catalog_reader.json")["body"])["catalog"]
    CloudSession(cfg.section("openstack")).keep_catalog(catalog, 1234.0)
    text = (tmp_path / "cache" / "hatui" / "catalog-t.json").read_text()
    assert "pw-sekret" not in text and "token" not in text
    again = CloudSession(cfg.section("openstack"))
    assert again.catalog() == (catalog, 1234.0, "cache")
