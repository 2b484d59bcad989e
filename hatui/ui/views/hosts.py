"""The Hosts pane: one row per host (power, BMC, its supplies, inlet and fans, reachability, latency, fault
domains), and a headline
with the jump host's own links. Pure: Assessment -> PaneModel."""
from __future__ import annotations

from hatui.config import Config
from hatui.config.hosts import HostEntry, HostsSection
from hatui.model import FindingKind, TargetState
from hatui.model.facility import Sensors, worst
from hatui.model.hosts import (
    MissingSystem,
    PowerStatus,
    Probe,
    Reachability,
)
from hatui.monitor import Assessment
from hatui.ui.views.common import Cell, PaneModel, RowKey, age_cell, ms, not_configured, status_cell, worst_tone
from hatui.words import failure_cell, failure_words

FACILITY = "PSU·inlet·fans"  # shown when some BMC is read for its sensors ([hosts] sensors)
COLUMNS = ("", "host", "power", "BMC", FACILITY, "network", "latency", "runs", "domains")
WAITING: Cell = ("…", "dim")
# Cells are short (the pane may be half a screen wide); the findings pane has the full sentences.
OUTCOME_SHORT = {"open": "up", "silent": "silent", "refused": "refused", "timeout": "timeout",
                 "unreachable": "unreachable", "error": "not probed"}


def _power_cells(host: HostEntry, st: TargetState | None) -> tuple[Cell, Cell]:
    """(power, BMC) cells."""
    if host.bmc is None:
        return ("-", "dim"), ("-", "dim")
    kind = host.bmc.type + (" !TLS" if host.bmc.insecure else "")
    if st is None or st.latest is None:
        return WAITING, (kind, "dim")
    obs = st.latest
    if obs.failure is not None:
        return ("?", "unknown"), (failure_cell(obs.failure.kind), "critical")
    if st.garbled is not None:
        return ("?", "unknown"), ("garbled", "unknown")
    power = st.value
    if not st.fresh:
        return (f"? {power.power_state if isinstance(power, PowerStatus) else ''}".rstrip(), "stale"), \
            age_cell(st.age, st.fresh)
    if isinstance(power, MissingSystem):
        return ("?", "unknown"), ("no such system" if power.wanted else "which system?", "unknown")
    tone = "ok" if power.is_on else "critical" if power.is_off else "warning"
    word = {"On": "on", "Off": "OFF"}.get(power.power_state, power.words)
    bmc_tone = "warning" if host.bmc.insecure else "ok"
    health = f" {power.health}" if power.health not in (None, "OK") else ""
    return (word, tone), (f"{kind}{health}", "critical" if health else bmc_tone)




def _sensors_cell(host: HostEntry, section: HostsSection, st: TargetState | None) -> Cell:
    """``PSU 2/2 24°C fans 2/2``: the BMC's supplies, inlet temperature and fans (the rules' facts)."""
    if not section.reads_sensors(host):
        return "-", "dim"
    if st is None or st.latest is None:
        return WAITING
    if st.latest.failure is not None:
        return f"? {failure_cell(st.latest.failure.kind)}", "unknown"
    if st.garbled is not None:
        return "? garbled", "unknown"
    if not st.fresh:
        return "? stale", "stale"
    s: Sensors = st.value
    parts, levels = [], []
    if s.supplies is not None:
        ok = len(s.working)
        bad = any(x.level != "ok" for x in s.supplies)
        parts.append(f"PSU {ok}/{len(s.supplies)}" + (" ✗" if bad else ""))
        levels.append("ok" if not bad else "spof" if ok == 1 and len(s.supplies) > 1 else
                      worst(x.level for x in s.supplies))
    inlet = s.inlet
    if inlet is not None and inlet.celsius is not None:
        parts.append(f"{inlet.celsius:g}°C" + ("!" if inlet.level != "ok" else ""))
        levels.append(inlet.level)
    if s.fans:
        ok_fans = sum(f.level == "ok" for f in s.fans)
        parts.append(f"fans {ok_fans}/{len(s.fans)}" + (" ✗" if ok_fans < len(s.fans) else ""))
        levels.append(worst(f.level for f in s.fans))
    if not parts:
        return "? none reported", "unknown"
    tone = "critical" if "critical" in levels else "warning" if "warning" in levels else \
        "spof" if "spof" in levels else "ok"
    return " ".join(parts), tone


def _network_cells(host: HostEntry, st: TargetState | None) -> tuple[Cell, Cell]:
    """(network, latency) cells."""
    if not host.addresses:
        return ("-", "dim"), ("", "")
    if st is None or st.latest is None:
        return WAITING, ("", "")
    obs = st.latest
    if not obs.ok:  # the prober itself failed (stuck past its budget)
        return ("?", "unknown"), ("", "")
    if st.garbled is not None:
        return ("garbled", "unknown"), ("", "")
    reach = st.value
    if not st.fresh:
        return ("? stale", "stale"), age_cell(st.age, st.fresh)
    return _reach_cell(reach), (ms(reach.latency) if reach.latency is not None else "-", "dim")


def _reach_cell(r: Reachability) -> Cell:
    up = r.answering  # the model's facts, as the rules read them (hosts.link_down, hosts.service_down)
    if not up:
        ways = {OUTCOME_SHORT[r.failure(a)] for a in r.addresses}
        return "DOWN " + "/".join(sorted(ways)), "critical"
    bad = r.services_down
    links = f"{len(up)}/{len(r.addresses)} links" if len(r.addresses) > 1 else "up"
    if len(up) < len(r.addresses):
        return links + (f"; {_short(bad[0])}" if bad else ""), "spof" if len(up) == 1 else "warning"
    if bad:
        return _short(bad[0]), "warning"
    return links, "ok"


def _short(p: Probe) -> str:
    return f"{p.probe} {OUTCOME_SHORT[p.outcome]}"


def _jump_cells(section: HostsSection, a: Assessment) -> list[Cell]:
    if not section.interfaces:
        return []
    st = a.snapshot.get("local", section.jump_host)
    head: list[Cell] = [(f"{section.jump_host}: ", "")]
    if st is None or st.latest is None:
        return head + [WAITING]
    if not st.latest.ok or not st.fresh:
        return head + [(f"links unknown ({failure_words(st.latest.failure) if not st.latest.ok else 'stale'})",
                        "unknown")]
    if st.garbled is not None:
        return head + [(f"garbled: {st.garbled}", "unknown")]
    nics = st.value
    cells = head
    for i, n in enumerate(nics):
        text = f"{n.name} {'up' if n.up else 'DOWN'}"
        tone = "ok" if n.up else "critical"
        if n.bond is not None and n.up:
            text += f" ({len(n.bond.up_slaves)}/{len(n.bond.slaves)} links)"
            tone = "ok" if not n.bond.down_slaves else "spof" if len(n.bond.up_slaves) == 1 else "warning"
        cells += [("  " if i else "", ""), (text, tone)]
    return cells


def _count_cell(good: int, bad: int, of: int, what: str) -> Cell:
    unknown = of - good - bad
    text = f"{good}/{of} {what}" + (f" ({unknown} unknown)" if unknown else "")
    return text, "critical" if bad else "unknown" if unknown else "ok"


def hosts_pane(a: Assessment, config: Config) -> PaneModel:
    section: HostsSection | None = config.section("hosts")
    if section is None:
        return not_configured("Hosts", "hosts")
    rows: list[tuple[Cell, ...]] = []
    powered = reachable = power_off = unreachable = 0
    # The jump host cannot see the network (its own link down, or no host answers at all): what the
    # probes say of each host is not about the host, so it is shown as unknown.
    state = a.cloud.hosts
    blind = state is not None and (state.uplink_down or bool(state.nobody_answers()))
    for host in section.hosts:
        power, bmc = _power_cells(host, a.snapshot.get("power", host.name))
        net, latency = _network_cells(host, a.snapshot.get("network", host.name))
        facility = _sensors_cell(host, section, a.snapshot.get("sensors", host.name))
        word = status_cell(a.of_subject("hosts", host.name))
        if blind and host.addresses:
            net, latency = ("? jump host blind", "unknown"), ("", "")
            word = word if word[1] != "ok" else ("? UNKN", "unknown")
        powered += power[1] == "ok"
        power_off += power[1] == "critical"
        reachable += net[1] in ("ok", "warning", "spof")
        unreachable += net[1] == "critical"
        domains = "·".join(v for _k, v in host.domains) or "-"
        rows.append((word, (host.name, ""), power, bmc, facility, net, latency, _runs(a, host.name), (domains, "dim")))
    n = len(section.hosts)
    with_bmc = sum(1 for h in section.hosts if h.bmc is not None)
    with_net = sum(1 for h in section.hosts if h.addresses)
    # what is not known (a BMC or a probe without an answer) is counted as unknown, not as off or down
    headline: list[Cell] = [(f"{n} hosts: ", ""),
                            _count_cell(powered, power_off, with_bmc, "powered on"), ("  ", ""),
                            _count_cell(reachable, unreachable, with_net, "reachable")]
    jump = _jump_cells(section, a)
    if jump:
        headline += [("  │  ", "dim"), *jump]
    columns: tuple[str, ...] = COLUMNS
    if not any(section.reads_sensors(h) for h in section.hosts):  # no BMC read for sensors: no such column
        at = COLUMNS.index(FACILITY)
        columns = COLUMNS[:at] + COLUMNS[at + 1:]
        rows = [row[:at] + row[at + 1:] for row in rows]
    findings = a.of_area("hosts")
    tone = worst_tone(findings)
    if tone == "ok" and any(f.kind == FindingKind.SPOF for f in findings):
        tone = "spof"
    return PaneModel("Hosts", tuple(headline), columns, tuple(rows), tone=tone, narrow_drop=("runs", FACILITY),
                     wrap=("runs",), keys=tuple(RowKey("hosts", host.name) for host in section.hosts))


# short names for what runs on a host (the redundancy pane has the services' own words)
SHORT_SERVICE = {"database": "db", "message queue": "mq"}


def _runs(a: Assessment, host: str) -> Cell:
    """What the model places on the host, as ``db mq nova-conductor ...`` (down ones marked)."""
    top = a.cloud.topology
    placed = top.on(host) if top is not None else ()
    if not placed:
        return "-", "dim"
    names = []
    for i in placed:
        word = SHORT_SERVICE.get(i.service, i.service.removeprefix("backend ").removeprefix("load balancer "))
        names.append(word if i.up else f"{word}✗")
    return " ".join(dict.fromkeys(names)), "dim"
