"""Every parser on mutated real answers: it gives its typed value or raises Garbled, nothing else.

The bases are the lab's captures (tests/fixtures/), turned into observation data the way the sources do;
the source-side readers of raw answers (wsrep rows, management JSON, token documents, os-services and
agents, the HAProxy CSV, version documents, ipmitool output, ICMP packets) are fuzzed on the raw answers:
they give data or raise the source's classified SourceError, and what they give parses or is Garbled.
"""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from hatui.model import Garbled
from hatui.model.endpoints import EndpointRound, parse_endpoint_round
from hatui.model.galera import GaleraStatus, parse_wsrep_status
from hatui.model.haproxy import HaproxyBackend, parse_haproxy_stats
from hatui.model.hosts import (
    MissingSystem,
    NicStatus,
    PowerStatus,
    Reachability,
    parse_links,
    parse_power,
    parse_probes,
)
from hatui.model.keystone import TokenInfo, parse_token
from hatui.model.rabbitmq import (
    CanaryResult,
    HealthCheck,
    ManagementView,
    parse_canary,
    parse_health_check,
    parse_management,
)
from hatui.model.services import ServiceRow, parse_neutron_agents, parse_nova_services
from hatui.sources.base import SourceError
from tests import fixtures_hosts, fixtures_openstack, fixtures_rabbit
from tests.fixtures_galera import FIXTURES as GALERA_FIXTURES
from tests.unit.fuzz_strategies import fuzz, mutated, mutated_text, plain

FIXTURES = Path(__file__).parents[1] / "fixtures"


def parsed_or_garbled(parse, *args, typed):
    """``parse(*args)``: its typed value, or None when it says Garbled. Any other exception fails the test."""
    try:
        value = parse(*args)
    except Garbled as exc:
        assert str(exc), "a Garbled error must say what was wrong"
        return None
    assert isinstance(value, typed), value
    return value


def source_data(call):
    """A source-side reader: its data (JSON-able), or None when it raises its classified SourceError."""
    try:
        data = call()
    except SourceError as exc:
        assert exc.kind  # classified (its words may be the server's own, even empty)
        return None
    assert isinstance(data, dict)
    return data


# ---- Galera ---------------------------------------------------------------------------------------

def _galera_bases() -> list[dict]:
    out = []
    for f in sorted(GALERA_FIXTURES.glob("*/node*.json")):
        raw = json.loads(f.read_text())
        if "error" not in raw:
            out.append({"status": raw, "variables": {"wsrep_node_name": f.stem, "wsrep_cluster_name": "lab",
                                                     "version": "10.11.6-MariaDB-0+deb12u1"}})
    return out


GALERA = _galera_bases()


@fuzz(500)
@given(st.sampled_from(GALERA).flatmap(mutated))
def test_fuzz_galera_status(data):
    parsed_or_garbled(parse_wsrep_status, data, typed=GaleraStatus)


class _Cursor:
    def __init__(self, rows):
        self.rows = rows

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, query):
        pass

    def fetchall(self):
        return self.rows


class _Connection:
    def __init__(self, rows):
        self.rows = rows

    def cursor(self):
        return _Cursor(self.rows)


@fuzz(200)
@given(st.sampled_from(GALERA).flatmap(lambda b: mutated(b["status"])), st.booleans())
def test_fuzz_galera_status_rows(status, as_bytes):
    """The rows of SHOW GLOBAL STATUS (bytes or str, as pymysql gives them) through the source's own reading."""
    from hatui.schedule import target_specs
    from hatui.sources.galera import GaleraNodeSource
    from tests.fixtures_galera import CONFIG

    section = CONFIG.section("galera")
    src = GaleraNodeSource(target_specs(CONFIG)[0], section, section.nodes[0])
    rows = list(status.items()) if isinstance(status, dict) else [("wsrep_cluster_status", status)]
    rows = [(k.encode("utf-8", "surrogatepass") if as_bytes else k,
             v.encode("utf-8", "surrogatepass") if as_bytes and isinstance(v, str) else v) for k, v in rows]
    src._conn = _Connection(rows)
    data = src._query()
    parsed_or_garbled(parse_wsrep_status, data, typed=GaleraStatus)


# ---- RabbitMQ ---------------------------------------------------------------------------------------

RABBIT_MANAGEMENT = [plain(fixtures_rabbit.api_data(s, n)) for s in fixtures_rabbit.STATES for n in (1, 2, 3)
                     if fixtures_rabbit.management_observation(s, n).ok]
RABBIT_MANAGEMENT += [plain(o.data) for s in ("mem_alarm", "quorum_critical") for o in fixtures_rabbit.recorded(s)
                      if o.source == "rabbitmq" and o.ok][:12]
CANARY = [plain(o.data) for s in ("mem_alarm", "node_killed") for o in fixtures_rabbit.recorded(s)
          if o.source == "rabbitmq-amqp" and o.ok]
CANARY = list({json.dumps(c, sort_keys=True): c for c in CANARY}.values())
HEALTH_BODIES = [json.loads(f.read_text())["body"] for f in sorted((FIXTURES / "rabbit").glob("*/health_*.json"))
                 if "body" in json.loads(f.read_text())]
HEALTH_BODIES = list({json.dumps(b, sort_keys=True): b for b in HEALTH_BODIES}.values())


@fuzz(600)
@given(st.sampled_from(RABBIT_MANAGEMENT).flatmap(mutated))
def test_fuzz_rabbit_management(data):
    parsed_or_garbled(parse_management, data, typed=ManagementView)


@fuzz(200)
@given(st.sampled_from(HEALTH_BODIES).flatmap(mutated))
def test_fuzz_rabbit_health_check(body):
    parsed_or_garbled(parse_health_check, body, typed=HealthCheck)


def _raw_answers(state: str, n: int) -> dict:
    """What node n's endpoints answered in ``state`` (bodies and errors), /api/nodes cut to NODE_FIELDS."""
    from hatui.model.rabbitmq import NODE_FIELDS

    got = {}
    for key, stem in fixtures_rabbit.ENDPOINT_FILES.items():
        raw = json.loads((fixtures_rabbit.FIXTURES / state / f"{stem}.node{n}.json").read_text())
        if key == "nodes" and isinstance(raw.get("body"), list):
            raw["body"] = [{k: v for k, v in node.items() if k in NODE_FIELDS} for node in raw["body"]]
        got[key] = raw
    return got


RAW_RABBIT = [_raw_answers(s, n) for s in ("healthy", "mem_alarm", "partitioned", "node_killed") for n in (1, 2, 3)]


@fuzz(250)
@given(st.sampled_from(RAW_RABBIT).flatmap(mutated))
def test_fuzz_rabbit_management_source_answer(raw):
    """The management API's JSON bodies, mutated, through the source's own judgement and trimming."""
    if not isinstance(raw, dict):
        return
    src = fixtures_rabbit.source(1)
    got = {}
    for key, answer in raw.items():
        if isinstance(answer, dict) and ("body" in answer or "error" in answer):
            try:
                got[str(key)] = fixtures_rabbit._answer(answer)
            except (KeyError, TypeError, AttributeError, ValueError):
                got[str(key)] = answer  # a mutated capture record, not an answer: passed on as a body
        else:
            got[str(key)] = answer
    if not got:
        return
    data = source_data(lambda: src.answer(got))
    if data is not None:
        json.dumps(data)  # recordings hold it
        parsed_or_garbled(parse_management, data, typed=ManagementView)


@fuzz(300)
@given(st.sampled_from(CANARY).flatmap(mutated))
def test_fuzz_amqp_canary(data):
    parsed_or_garbled(parse_canary, data, typed=CanaryResult)


CONNECTIONS = [fixtures_rabbit.connections_capture()["body"]]


@fuzz(200)
@given(st.sampled_from(CONNECTIONS).flatmap(mutated))
def test_fuzz_rabbit_connection_list(body):
    """The connection list, mutated, through the source's summary and the parser."""
    from hatui.model import Observation
    from hatui.model.rabbitmq_clients import RpcClients, clients_of, summarise

    links = parsed_or_garbled(summarise, body, typed=list)
    if links is not None:
        json.dumps(links)  # recordings hold it
        obs = Observation("rabbitmq-clients", "mq", 1.0, 0.01, data={"asked": "mq-1", "links": links})
        assert parsed_or_garbled(clients_of, obs, typed=RpcClients) is not None  # its own summary reads back


QUEUE_LISTS = [(json.loads((fixtures_rabbit.QUEUES / state / "queues.json").read_text())["body"],
                json.loads((fixtures_rabbit.QUEUES / state / "streams.json").read_text())["body"])
               for state in ("healthy", "node3_app_stopped", "mirror_unsynced")]


@fuzz(300)
@given(st.sampled_from(QUEUE_LISTS).flatmap(lambda b: st.tuples(mutated(b[0]), mutated(b[1]) | st.none())),
       st.integers(-1, 10) | st.none())
def test_fuzz_rabbit_queue_list(lists, total):
    """The queue list (and the streams' stats-mode list), mutated, through the source's summary and the
    parser: the summary reads back, and what it says of each group holds."""
    from hatui.model import Observation
    from hatui.model.rabbitmq_queues import QueueCopies, queues_of, summarise

    data = parsed_or_garbled(summarise, *lists, typed=dict)
    if data is not None:
        json.dumps(data)  # recordings hold it
        obs = Observation("rabbitmq-queues", "mq", 1.0, 0.01, data={"asked": "mq-1", "total": total, **data})
        q = parsed_or_garbled(queues_of, obs, typed=QueueCopies)
        if q is not None and (total is None or total >= 0):
            assert sum(g.count for g in q.groups) + q.unknown <= q.listed
            assert all(set(g.holders) <= set(g.members) and g.needed >= 1 for g in q.groups)


# ---- OpenStack --------------------------------------------------------------------------------------

TOKENS = [fixtures_openstack.capture(n)["body"] for n in (
    "token_catalog_reader.json", "token_catalog_system_reader.json", "keystone_auth_catalog_reader.json")
    if isinstance(fixtures_openstack.capture(n).get("body"), dict)]


@fuzz(350)
@given(st.sampled_from(TOKENS).flatmap(mutated))
def test_fuzz_keystone_token_document(body):
    from hatui.sources.keystone import token_data

    data = source_data(lambda: token_data(fixtures_openstack.AUTH_URL, body))
    if data is not None:
        json.dumps(data)
        parsed_or_garbled(parse_token, data, typed=TokenInfo)


TOKEN_DATA = [plain(fixtures_openstack.keystone_obs(n).data) for n in ("token_catalog_reader.json",
                                                                       "token_catalog_system_reader.json")]


@fuzz(350)
@given(st.sampled_from(TOKEN_DATA).flatmap(mutated))
def test_fuzz_keystone_token(data):
    parsed_or_garbled(parse_token, data, typed=TokenInfo)


@fuzz(150)
@given(st.sampled_from(TOKEN_DATA).flatmap(lambda d: mutated(d["catalog"])))
def test_fuzz_catalog_groups(catalog):
    """The endpoint source groups the kept catalog's URLs (the keystone source kept it after trimming)."""
    from hatui.sources.endpoints import catalog_groups
    from hatui.sources.keystone import trim_catalog

    try:
        trimmed = trim_catalog(catalog)
    except SourceError:
        return  # not a catalog: the keystone source reports the token as garbled
    assert trim_catalog(trimmed) == trimmed  # the on-disk cache is read back through it
    groups = catalog_groups(trimmed)
    assert all(isinstance(g["url"], str) and isinstance(g["service"], str) for g in groups)


VERSION_DOCS = [json.dumps(json.loads(f.read_text())["body"]) for f in sorted((FIXTURES / "openstack" / "versions")
                                                                             .glob("*.json"))]


@fuzz(200)
@given(st.sampled_from(VERSION_DOCS).flatmap(mutated_text) | st.sampled_from(VERSION_DOCS).map(json.loads)
       .flatmap(mutated).map(lambda d: json.dumps(d)))
def test_fuzz_version_documents(text):
    from hatui.sources.endpoints import version_ids

    ids = version_ids(text.encode("utf-8", "surrogatepass"))
    assert ids is None or all(isinstance(i, str) for i in ids)


ROUNDS = [plain(fixtures_openstack.endpoints_obs().data),
          plain(fixtures_openstack.endpoints_obs({"http://127.0.0.1:8774/v2.1": fixtures_openstack.failed_answer(
              "timeout", "no answer within 2 s")}).data)]


@fuzz(500)
@given(st.sampled_from(ROUNDS).flatmap(mutated))
def test_fuzz_endpoint_round(data):
    parsed_or_garbled(parse_endpoint_round, data, typed=EndpointRound)


HAPROXY_CSV = [(FIXTURES / "openstack" / n).read_text() for n in ("haproxy_stats_all_up.csv",
                                                                   "haproxy_stats_keystone_backend_down.csv")]
# what the stats socket says instead of the CSV (HAProxy management guide): a refused level, an unknown command
HAPROXY_CSV += ["Permission denied\n\n", "Unknown command: 'show stat', but maybe one of the following:\n"
                "  help [<command>] : list matching or all commands\n  show stat [desc|json|no-maint|typed|up]*\n\n"]


@fuzz(350)
@given(st.sampled_from(HAPROXY_CSV).flatmap(mutated_text), st.sampled_from([None, fixtures_openstack.LAB_BACKENDS]))
def test_fuzz_haproxy_csv(text, only):
    from hatui.sources.haproxy import stat_rows

    data = stat_rows(text)
    json.dumps(data)
    parsed_or_garbled(parse_haproxy_stats, data, only, typed=tuple)


HAPROXY_ROWS = [plain(fixtures_openstack.haproxy_obs(n).data) for n in ("haproxy_stats_all_up.csv",
                                                                        "haproxy_stats_keystone_backend_down.csv")]


@fuzz(250)
@given(st.sampled_from(HAPROXY_ROWS).flatmap(mutated))
def test_fuzz_haproxy_rows(data):
    backends = parsed_or_garbled(parse_haproxy_stats, data, typed=tuple)
    assert backends is None or all(isinstance(b, HaproxyBackend) for b in backends)


NOVA = [fixtures_openstack.capture(n) for n in ("nova_os_services_all_up.json", "nova_os_services_all_up_v2.1.json",
                                                "nova_os_services_conductor_down.json")]
NEUTRON = [fixtures_openstack.capture(n) for n in ("neutron_agents_all_alive.json", "neutron_agents_one_dead.json")]


def _date(headers: dict) -> str | None:
    """The Date header as an HTTP client gives it: text (any text), or absent."""
    date = headers.get("Date")
    return None if date is None else str(date)


@fuzz(300)
@given(st.sampled_from(NOVA).flatmap(mutated))
def test_fuzz_nova_os_services(cap):
    from hatui.sources.services import nova_answer

    if not isinstance(cap, dict):
        return
    headers = cap.get("headers") if isinstance(cap.get("headers"), dict) else {}
    status = cap.get("status") if isinstance(cap.get("status"), int) else 200
    data = source_data(lambda: nova_answer(status, _date(headers), cap.get("body")))
    if data is not None:
        json.dumps(data)
        rows = parsed_or_garbled(parse_nova_services, data, 100.0, typed=tuple)
        assert rows is None or all(isinstance(r, ServiceRow) for r in rows)


@fuzz(300)
@given(st.sampled_from(NEUTRON).flatmap(mutated), st.sampled_from([None, ["admin"], ["reader"]]))
def test_fuzz_neutron_agents(cap, roles):
    from hatui.sources.services import neutron_answer

    if not isinstance(cap, dict):
        return
    headers = cap.get("headers") if isinstance(cap.get("headers"), dict) else {}
    status = cap.get("status") if isinstance(cap.get("status"), int) else 200
    data = source_data(lambda: neutron_answer(status, _date(headers), cap.get("body"), roles))
    if data is not None:
        json.dumps(data)
        rows = parsed_or_garbled(parse_neutron_agents, data, 100.0, typed=tuple)
        assert rows is None or all(isinstance(r, ServiceRow) for r in rows)


SERVICE_DATA = [("nova", plain(fixtures_openstack.nova_obs(n).data)) for n in (
    "nova_os_services_all_up.json", "nova_os_services_conductor_down.json")]
SERVICE_DATA += [("neutron", plain(fixtures_openstack.neutron_obs(n, ["admin"]).data)) for n in (
    "neutron_agents_all_alive.json", "neutron_agents_one_dead.json")]


@fuzz(350)
@given(st.sampled_from(SERVICE_DATA).flatmap(lambda b: st.tuples(st.just(b[0]), mutated(b[1]))))
def test_fuzz_service_rows(which_data):
    which, data = which_data
    parse = parse_nova_services if which == "nova" else parse_neutron_agents
    rows = parsed_or_garbled(parse, data, 100.0, typed=tuple)
    assert rows is None or all(isinstance(r, ServiceRow) for r in rows)


# ---- Hosts ------------------------------------------------------------------------------------------

def _host_data(source: str) -> list[dict]:
    scenarios = sorted(p.stem for p in (FIXTURES / "hosts" / "observations").glob("*.json"))
    out = {}
    for name in scenarios:
        for o in fixtures_hosts.observations(name):
            if o.source == source and o.ok:
                out[json.dumps(plain(o.data), sort_keys=True)] = plain(o.data)
    return list(out.values())


POWER = _host_data("power")
REDFISH_SYSTEMS = [json.loads((FIXTURES / "hosts" / n).read_text())["body"] for n in (
    "redfish_system_on.json", "redfish_system_off.json", "redfish_system_by_name.json")]


@fuzz(350)
@given(st.sampled_from(POWER).flatmap(mutated))
def test_fuzz_power(data):
    parsed_or_garbled(parse_power, data, typed=PowerStatus | MissingSystem)


@fuzz(250)
@given(st.sampled_from(REDFISH_SYSTEMS).flatmap(mutated))
def test_fuzz_redfish_system(system):
    """A ComputerSystem resource as the BMC sent it, kept the way the source keeps it (only what is read)."""
    from hatui.sources.redfish import _keep, _link

    kept = _keep(system) if isinstance(system, dict) else system
    json.dumps(kept)
    _link(system)
    parsed_or_garbled(parse_power, {"via": "redfish", "system": kept}, typed=PowerStatus | MissingSystem)


IPMITOOL = [json.loads(f.read_text()) for f in sorted((FIXTURES / "hosts" / "verbose").glob("ipmitool_*.json"))]
IPMITOOL += [json.loads(f.read_text()) for f in sorted((FIXTURES / "hosts").glob("ipmitool_*.json"))]


@fuzz(250)
@given(st.sampled_from([c for c in IPMITOOL if isinstance(c.get("stdout"), str)]).flatmap(
    lambda c: mutated_text(c["stdout"] or "Chassis Power is on\n")))
def test_fuzz_ipmitool_stdout(stdout):
    """ipmitool's stdout, kept as the source keeps it (its power lines), read by the parser."""
    lines = [line for line in stdout.splitlines() if "Chassis Power" in line]
    kept = "\n".join(lines) if lines else stdout.strip()[:200]
    power = parsed_or_garbled(parse_power, {"via": "ipmi", "stdout": kept}, typed=PowerStatus)
    assert power is None or power.power_state in ("On", "Off")


@fuzz(150)
@given(st.sampled_from([c for c in IPMITOOL if isinstance(c.get("stderr"), str) and c["stderr"]]).flatmap(
    lambda c: mutated_text(c["stderr"])), st.integers(-255, 255))
def test_fuzz_ipmitool_stderr(stderr, rc):
    from hatui.model import Failure
    from hatui.sources.ipmi import classify_ipmitool

    failure = classify_ipmitool(rc, stderr, "127.0.0.1:9003", 3.0)
    assert isinstance(failure, Failure) and failure.message


PROBES = _host_data("network")
LINKS = _host_data("local")
LINKS.append({"interfaces": {"bond0": {"exists": True, "isup": True, "operstate": "up", "errin": 0, "errout": 1,
                                       "dropin": 2, "dropout": 0,
                                       "bond": {"mode": "active-backup", "slaves": {"eth0": "up", "eth1": "down"},
                                                "active": "eth0"}}}})


@fuzz(350)
@given(st.sampled_from(PROBES).flatmap(mutated))
def test_fuzz_network_probes(data):
    reach = parsed_or_garbled(parse_probes, data, typed=Reachability)
    if reach is not None:  # what the rules and the pane ask of it
        reach.reachable, reach.dead, reach.latency, [reach.failure(a) for a in reach.addresses]
        [p.words for p in reach.probes]


@fuzz(350)
@given(st.sampled_from(LINKS).flatmap(mutated))
def test_fuzz_local_links(data):
    nics = parsed_or_garbled(parse_links, data, typed=tuple)
    assert nics is None or all(isinstance(n, NicStatus) for n in nics)


ECHO_REPLY_V4 = bytes.fromhex("4500002c1c4600004001e07a7f0000017f000001") + bytes.fromhex("00003a3512340001") \
    + b"hatui-reachability-probe"
UNREACHABLE_V4 = bytes.fromhex("450000481c4700004001e05d7f0000017f000001") + bytes.fromhex("0303fcfc00000000") \
    + bytes.fromhex("4500002c1c4600004001e07a7f0000017f000001") + bytes.fromhex("08003a3512340001")


@fuzz(250)
@given(st.sampled_from([ECHO_REPLY_V4, UNREACHABLE_V4]).flatmap(
    lambda b: mutated_text(b.decode("latin-1")).map(lambda t: t.encode("latin-1", "replace"))) | st.binary(max_size=80),
       st.sampled_from([4, 6]))
def test_fuzz_icmp_packets(packet, version):
    """What a raw ICMP socket receives: anything at all, from any program on the machine."""
    from hatui.sources.icmp import parse_icmp

    got = parse_icmp(packet, version)
    assert got is None or (len(got) == 4 and all(isinstance(x, int) for x in got))


def test_every_fuzz_base_is_a_real_capture():
    """A renamed or moved capture must not silently empty a fuzz test's bases."""
    bases = [GALERA, RABBIT_MANAGEMENT, CANARY, HEALTH_BODIES, RAW_RABBIT, CONNECTIONS, TOKENS, TOKEN_DATA,
             VERSION_DOCS, ROUNDS, HAPROXY_CSV, HAPROXY_ROWS, NOVA, NEUTRON, SERVICE_DATA, POWER, REDFISH_SYSTEMS,
             IPMITOOL, PROBES, LINKS]
    assert all(bases)
    assert {d["via"] for d in POWER} == {"redfish", "ipmi"}


# iputils ping, as this machine's answered (rc 0), and its words for a REJECT and a dead host (rc 1)
PING_OUTPUT = [
    (0, "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.026 ms\n\n"
        "--- 127.0.0.1 ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n"
        "rtt min/avg/max/mdev = 0.026/0.026/0.026/0.000 ms\n"),
    (1, "PING 10.0.0.9 (10.0.0.9) 56(84) bytes of data.\nFrom 10.0.0.9 icmp_seq=1 Destination Port Unreachable\n\n"
        "--- 10.0.0.9 ping statistics ---\n1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n"),
    (1, "PING 10.0.0.8 (10.0.0.8) 56(84) bytes of data.\nFrom 10.0.0.1 icmp_seq=1 Destination Host Unreachable\n\n"
        "--- 10.0.0.8 ping statistics ---\n1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n"),
]


@fuzz(150)
@given(st.sampled_from(PING_OUTPUT).flatmap(lambda p: st.tuples(st.sampled_from([p[0], 0, 1, 2, None]),
                                                                mutated_text(p[1]))))
def test_fuzz_ping_output(rc_text):
    from hatui.sources.icmp import ping_outcome

    rc, text = rc_text
    result = ping_outcome("10.0.0.9", rc, text, 0.5)
    reach = parsed_or_garbled(parse_probes, {"probes": [result], "icmp": "ping"}, typed=Reachability)
    assert reach is not None and (reach.latency is None or reach.latency >= 0)


BOND_FILES = {"bond0/bonding/slaves": "eth0 eth1\n", "bond0/bonding/mode": "active-backup 1\n",
              "bond0/bonding/active_slave": "eth1\n", "eth0/bonding_slave/mii_status": "down\n",
              "eth1/bonding_slave/mii_status": "up\n", "eth0/operstate": "down\n", "eth1/operstate": "up\n"}


@fuzz(120)
@given(st.fixed_dictionaries({k: st.just(v) | mutated_text(v) for k, v in BOND_FILES.items()}))
def test_fuzz_bonding_sysfs(files):
    """/sys/class/net as the bonding driver lays it out (tests/unit/test_hosts_links.py), its files mutated."""
    import tempfile

    from hatui.sources.local import bond_state

    with tempfile.TemporaryDirectory() as d:
        for rel, text in files.items():
            path = Path(d) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
        bond = bond_state("bond0", Path(d))
    nic = {"exists": True, "isup": True, "operstate": "up", "errin": 0, "errout": 0, "dropin": 0, "dropout": 0}
    if bond is not None:
        json.dumps(bond)
        nic["bond"] = bond
    nics = parsed_or_garbled(parse_links, {"interfaces": {"bond0": nic}}, typed=tuple)
    assert nics is not None  # what the kernel's files say is always readable


def _redfish_capture(name: str) -> dict:
    return json.loads((FIXTURES / "hosts" / f"redfish_{name}.json").read_text())


REDFISH_SYSTEM_PATH = "/redfish/v1/Systems/11111111-0000-4000-8000-000000000001"
REDFISH_BMC = {"/redfish/v1/": _redfish_capture("service_root"), "/redfish/v1/Systems": _redfish_capture("systems"),
               REDFISH_SYSTEM_PATH: _redfish_capture("system_on")}


@fuzz(150)
@given(mutated(REDFISH_BMC), st.sampled_from([None, "hostA", "11111111-0000-4000-8000-000000000001"]))
def test_fuzz_redfish_bmc(routes, system):
    """The lab BMC's service root, Systems collection and system, mutated, through the Redfish source's walk."""
    import asyncio

    import httpx

    from hatui.config.hosts import BmcConfig, HostEntry
    from hatui.model import Failure
    from hatui.schedule import TargetSpec
    from hatui.sources.redfish import RedfishPowerSource

    def handler(request: httpx.Request) -> httpx.Response:
        raw = routes.get(request.url.path) if isinstance(routes, dict) else None
        if not isinstance(raw, dict):
            raw = {"status": 404, "body": {}}
        status = raw.get("status")
        status = status if isinstance(status, int) and not isinstance(status, bool) and 100 <= status < 600 else 200
        body = json.dumps(raw.get("body"), allow_nan=True, default=str).encode("utf-8", "surrogatepass")
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    bmc = BmcConfig(type="redfish", url="http://bmc.test", system=system, user="hatui-bmc")
    src = RedfishPowerSource(TargetSpec("power", "hostX", 1.0, 1.0, 4.0), HostEntry(name="hostX", bmc=bmc), bmc,
                             transport=httpx.MockTransport(handler))

    async def poll():
        try:
            return await src.poll()
        finally:
            await src.aclose()

    try:
        data = asyncio.run(poll())
    except SourceError as exc:
        assert isinstance(src.classify(exc), Failure)
        return
    json.dumps(data)
    parsed_or_garbled(parse_power, data, typed=PowerStatus | MissingSystem)


# ---- Hosts: supplies, temperatures, fans (the BMCs' sensors) ---------------------------------------------

SENSOR_DATA = list({json.dumps(o["data"], sort_keys=True): o["data"]
                    for f in sorted((FIXTURES / "hosts" / "sensors").glob("*.json"))
                    for o in json.loads(f.read_text())["observations"] if "data" in o}.values())


@fuzz(400)
@given(st.sampled_from(SENSOR_DATA).flatmap(mutated))
def test_fuzz_bmc_sensors(data):
    from hatui.model.facility import Sensors, parse_sensors

    s = parsed_or_garbled(parse_sensors, data, typed=Sensors)
    if s is not None:  # what the rules and the pane read of it never raises
        read = [(t.level, t.limit) for t in s.temperatures or ()] + [f.level for f in s.fans or ()]
        assert read is not None and isinstance(s.working, tuple) and (s.inlet is None or s.inlet.celsius is not None)


@fuzz(250)
@given(st.sampled_from([d for d in SENSOR_DATA if d.get("via") == "ipmi"]).flatmap(lambda d: mutated_text(d["stdout"])))
def test_fuzz_ipmitool_sdr_output(stdout):
    """ipmitool -v sdr output, kept as the source keeps it (the lines read), read by the parser."""
    from hatui.model.facility import Sensors, parse_sensors
    from hatui.sources.bmc_sensors import _keep_lines

    parsed_or_garbled(parse_sensors, {"via": "ipmi", "stdout": _keep_lines(stdout)}, typed=Sensors)


@fuzz(250)
@given(st.sampled_from([s for d in SENSOR_DATA if d.get("via") == "redfish" for s in d.get("supplies") or ()])
       .flatmap(mutated))
def test_fuzz_redfish_power_supply(supply):
    """A PowerSupply resource as a BMC may send it, kept the way the source keeps it, then parsed."""
    from hatui.model.facility import Sensors, parse_sensors
    from hatui.sources.bmc_sensors import _supply

    kept = _supply(supply) if isinstance(supply, dict) else supply
    json.dumps(kept)
    parsed_or_garbled(parse_sensors, {"via": "redfish", "supplies": [kept]}, typed=Sensors)
