"""Hosts sources without the lab: ipmitool's answers (lab captures) and its hard kill, Redfish over a mock
transport serving the lab's captured answers, and TCP/ICMP probes on loopback."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from hatui.config.hosts import BmcConfig, HostEntry, HostsSection
from hatui.feed.live import LiveFeed
from hatui.model import FailureKind
from hatui.model.hosts import MissingSystem, parse_power
from hatui.schedule import TargetSpec
from hatui.secrets import Secret
from hatui.sources.base import SourceError
from hatui.sources.ipmi import IpmiPowerSource, classify_ipmitool, ipmitool_retry_seconds
from hatui.sources.network import NetworkSource, Prober
from hatui.sources.probe import tcp_probe
from hatui.sources.redfish import RedfishPowerSource
from tests.fixtures_hosts import FIXTURES, ipmitool_capture

SPEC = TargetSpec("power", "hostX", 30.0, 2.0, 64.0)


# ---- IPMI ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("capture, kind, words", [
    ("wrong_password", FailureKind.AUTH, "BMC: credentials refused (wrong password)"),
    ("unknown_user", FailureKind.AUTH, "BMC: credentials refused (unknown user)"),
    ("no_bmc", FailureKind.TIMEOUT, "BMC: no answer within 3 s (UDP 127.0.0.1:9009)"),
    ("frozen", FailureKind.TIMEOUT, "BMC: no answer within 3 s (UDP 127.0.0.1:9009)"),
])
def test_ipmitool_failures_are_told_apart(capture, kind, words):
    raw = ipmitool_capture(capture)
    assert raw["rc"] != 0
    failure = classify_ipmitool(raw["rc"], raw["stderr"], "127.0.0.1:9009", 3.0)
    assert (failure.kind, failure.message) == (kind, words)


def test_ipmitool_power_line_parses():
    raw = ipmitool_capture("on")
    assert parse_power({"via": "ipmi", "stdout": raw["stdout"]}).is_on


@pytest.mark.parametrize("timeout, n", [(1.0, 1), (3.0, 1), (5.0, 2), (10.0, 4), (30.0, 12)])
def test_ipmitool_gives_up_inside_the_deadline(timeout, n):
    """About 2 x N s against a silent BMC (lab: N=1 2.06 s, 2 4.08 s, 3 6.06 s)."""
    assert ipmitool_retry_seconds(timeout) == n and 2 * n <= max(2.0, timeout)


def ipmi_source(timeout: float = 1.0, password: str = "s3cret-bmc-pw") -> IpmiPowerSource:
    bmc = BmcConfig(type="ipmi", host="127.0.0.1", port=9009, user="hatui", password_env="X",
                    password=Secret(password, "test"))
    spec = TargetSpec("power", "hostX", 30.0, timeout, 64.0)
    return IpmiPowerSource(spec, HostEntry(name="hostX", bmc=bmc), bmc)


def fake_ipmitool(tmp_path: Path, body: str, monkeypatch) -> Path:
    """An ``ipmitool`` first on PATH running ``body`` (sh); it records its argv and environment."""
    exe = tmp_path / "ipmitool"
    exe.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/argv\nenv > {tmp_path}/env\n{body}\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    return exe


def test_ipmitool_answer_and_the_password_never_on_the_command_line(tmp_path, monkeypatch):
    fake_ipmitool(tmp_path, "echo 'Chassis Power is off'", monkeypatch)
    data = asyncio.run(ipmi_source().poll())
    assert data == {"via": "ipmi", "stdout": "Chassis Power is off"}
    argv = (tmp_path / "argv").read_text()
    assert "s3cret-bmc-pw" not in argv and "-E" in argv.split() and "-L USER" in argv
    assert "IPMI_PASSWORD=s3cret-bmc-pw" in (tmp_path / "env").read_text()


def _alive(marker: str) -> list[int]:
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = Path(f"/proc/{d}/cmdline").read_bytes()
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            if marker.encode() in cmd and stat.rsplit(") ", 1)[1][0] != "Z":
                found.append(int(d))
    return found


def test_a_hung_ipmitool_is_killed_with_its_children_at_the_deadline(tmp_path, monkeypatch):
    """An ipmitool that never returns (and a child of its own): the poll ends at the deadline and no
    process is left behind."""
    marker = f"hatui-test-hang-{os.getpid()}"
    loop = f"sh -c 'while :; do sleep 1; done; : {marker}'"  # the marker rides in the command line
    fake_ipmitool(tmp_path, f"{loop} &\nexec {loop}", monkeypatch)
    src = ipmi_source(timeout=1.0)
    t0 = time.monotonic()
    with pytest.raises(SourceError) as err:
        asyncio.run(src.poll())
    assert 0.9 < time.monotonic() - t0 < 4.0
    assert err.value.kind == FailureKind.TIMEOUT
    assert str(err.value) == "BMC: no answer within 1 s (UDP 127.0.0.1:9009; ipmitool stopped)"
    deadline = time.monotonic() + 3
    while _alive(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive(marker) == []


def test_a_cancelled_poll_kills_ipmitool_too(tmp_path, monkeypatch):
    marker = f"hatui-test-cancel-{os.getpid()}"
    fake_ipmitool(tmp_path, f"exec sh -c 'while :; do sleep 1; done; : {marker}'", monkeypatch)
    src = ipmi_source(timeout=30.0)

    async def go():
        task = asyncio.create_task(src.poll())
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    time.sleep(0.2)
    assert _alive(marker) == []


def test_ipmitool_missing_is_said_plainly(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SourceError) as err:
        asyncio.run(ipmi_source().poll())
    assert "ipmitool is not installed" in str(err.value)


# ---- Redfish ------------------------------------------------------------------------------------------

def capture(name: str) -> dict:
    return json.loads((FIXTURES / f"redfish_{name}.json").read_text())


SYSTEM = "/redfish/v1/Systems/11111111-0000-4000-8000-000000000001"


def redfish(routes: dict[str, dict], system: str | None = None, seen: list | None = None) -> RedfishPowerSource:
    """A Redfish source whose BMC answers ``routes`` (path -> captured answer); other paths 404."""
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request.url.path)
        raw = routes.get(request.url.path, capture("404"))
        return httpx.Response(raw["status"], json=raw["body"], headers=raw.get("headers", {}))

    bmc = BmcConfig(type="redfish", url="http://bmc.test", system=system, user="hatui-bmc",
                    password=Secret("pw-for-tests", "test"))
    return RedfishPowerSource(SPEC, HostEntry(name="hostX", bmc=bmc), bmc, transport=httpx.MockTransport(handler))


LAB_BMC = {"/redfish/v1/": capture("service_root"), "/redfish/v1/Systems": capture("systems"),
           SYSTEM: capture("system_on")}


def poll(src: RedfishPowerSource, times: int = 1):
    async def go():
        try:
            return [await src.poll() for _ in range(times)]
        finally:
            await src.aclose()
    return asyncio.run(go())


def test_redfish_finds_the_only_system_then_reads_it_with_one_request():
    seen: list[str] = []
    first, second = poll(redfish(LAB_BMC, seen=seen), times=2)
    assert first == second
    assert first["system"]["PowerState"] == "On" and set(first["system"]) <= {"Id", "Name", "UUID", "PowerState",
                                                                            "Status"}
    assert seen == ["/redfish/v1/", "/redfish/v1/Systems", SYSTEM, SYSTEM]


def test_redfish_system_by_name_or_id():
    (by_name,) = poll(redfish(LAB_BMC, system="hostA"))
    (by_id,) = poll(redfish(LAB_BMC, system="11111111-0000-4000-8000-000000000001"))
    assert by_name["system"]["Name"] == by_id["system"]["Name"] == "hostA"


def test_redfish_answers_but_no_such_system_is_data_not_a_failure():
    (data,) = poll(redfish(LAB_BMC, system="ctrl-9"))
    missing = parse_power(data)
    assert isinstance(missing, MissingSystem) and missing.members == (SYSTEM,)


def test_redfish_401_is_credentials_refused():
    src = redfish({**LAB_BMC, "/redfish/v1/Systems": capture("401_wrong_password")})
    with pytest.raises(SourceError) as err:
        poll(src)
    f = src.classify(err.value)
    assert (f.kind, f.message) == (FailureKind.AUTH, "BMC: credentials refused (HTTP 401 for user 'hatui-bmc')")


def test_redfish_system_gone_is_looked_up_again():
    routes = dict(LAB_BMC)
    seen: list[str] = []
    src = redfish(routes, seen=seen)

    async def go():
        try:
            await src.poll()
            moved = "/redfish/v1/Systems/new-board"
            routes["/redfish/v1/Systems"] = {"status": 200, "body": {"Members": [{"@odata.id": moved}]}}
            routes[moved] = routes.pop(SYSTEM)
            return await src.poll()
        finally:
            await src.aclose()

    assert asyncio.run(go())["system"]["PowerState"] == "On"
    assert seen[-3:] == ["/redfish/v1/", "/redfish/v1/Systems", "/redfish/v1/Systems/new-board"]


@pytest.mark.parametrize("exc, kind, words", [
    (httpx.ReadTimeout("timed out"), FailureKind.TIMEOUT, "BMC: no answer within 2 s (http://bmc.test)"),
    (httpx.ConnectError("x", request=None), FailureKind.ERROR, None),
])
def test_redfish_transport_failures(exc, kind, words):
    f = redfish({}).classify(exc)
    assert f.kind == kind and f.message.startswith("BMC: ")
    if words:
        assert f.message == words


def test_redfish_refused_is_connection_refused():
    """A real refused connect on loopback (a port nobody listens on), classified."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    bmc = BmcConfig(type="redfish", url=f"http://127.0.0.1:{port}", user="u")
    src = RedfishPowerSource(SPEC, HostEntry(name="hostX", bmc=bmc), bmc)
    with pytest.raises(httpx.ConnectError) as err:
        poll(src)
    f = src.classify(err.value)
    assert (f.kind, f.message) == (FailureKind.REFUSED, f"BMC: connection refused (http://127.0.0.1:{port})")


# ---- network probes ------------------------------------------------------------------------------------

def test_tcp_probe_open_refused_and_silent_on_loopback():
    async def go():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)  # accepts, never speaks
        port = server.sockets[0].getsockname()[1]
        try:
            open_ = await tcp_probe("127.0.0.1", port, 0.5)
            silent = await tcp_probe("127.0.0.1", port, 0.3, banner=True)
        finally:
            server.close()
        refused = await tcp_probe("127.0.0.1", port, 0.5)
        return open_, silent, refused

    open_, silent, refused = asyncio.run(go())
    assert open_["outcome"] == "open" and open_["latency"] < 0.2
    assert silent["outcome"] == "silent" and silent["detail"] == "no banner within 0.3 s"
    assert refused["outcome"] == "refused"


def test_the_feed_closes_the_shared_raw_icmp_socket():
    """NetworkSource is an AsyncSource, closed with aclose(): a sync close() of its own was never called."""
    closed = []

    class Raw:
        def close(self) -> None:
            closed.append(True)

    prober = Prober(4, ping=False)
    prober._raw = Raw()  # type: ignore[assignment]
    section = HostsSection(host=[HostEntry(name="hostX", addresses=["127.0.0.1"])])
    src = NetworkSource(TargetSpec("network", "hostX", 5.0, 1.0, 15.0), section.host[0], section, prober)
    asyncio.run(LiveFeed([src]).aclose())
    assert closed == [True]


def test_icmp_echo_to_loopback_answers():
    async def go():
        prober = Prober(4, ping=True)
        return prober.icmp_mode, await prober.icmp("127.0.0.1", 1.0)

    mode, result = asyncio.run(go())
    assert mode in ("unprivileged", "raw", "ping")
    assert result["outcome"] == "open", result


def test_ipmitool_dies_with_hatui_even_on_sigkill(tmp_path, monkeypatch):
    """hatui SIGKILLed mid-poll (no cleanup can run): the kernel kills ipmitool with it (setpriv --pdeathsig)."""
    import signal
    import subprocess
    import sys

    marker = f"hatui-test-orphan-{os.getpid()}"
    fake_ipmitool(tmp_path, f"exec sh -c 'while :; do sleep 1; done; : {marker}'", monkeypatch)
    code = ("import asyncio; from tests.unit.test_hosts_sources import ipmi_source; "
            "asyncio.run(ipmi_source(timeout=60).poll())")
    hatui = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[2])
    try:
        deadline = time.monotonic() + 10
        while not _alive(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _alive(marker), "the fake ipmitool did not start"
    finally:
        hatui.send_signal(signal.SIGKILL)
        hatui.wait(10)
    deadline = time.monotonic() + 3
    while _alive(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive(marker) == []


def test_echo_request_checksum_and_the_parser_find_our_id_and_sequence():
    from hatui.sources.icmp import _checksum, echo_request, parse_icmp

    packet = echo_request(4, 0x1234, 7)
    assert _checksum(packet) == 0  # a valid ICMP checksum sums to zero
    ip = bytes([0x45]) + bytes(19)  # a 20-byte IPv4 header, as a raw socket hands it over
    reply = bytes([0, 0]) + packet[2:]
    assert parse_icmp(ip + reply, 4) == (0, 0, 0x1234, 7)
    # an ICMP port-unreachable quoting our request (its IP header, then its first 8 bytes)
    error = bytes([3, 3, 0, 0, 0, 0, 0, 0]) + ip + packet[:8]
    assert parse_icmp(ip + error, 4) == (3, 3, 0x1234, 7)
    assert parse_icmp(ip + packet, 4) is None  # our own request, seen on loopback
