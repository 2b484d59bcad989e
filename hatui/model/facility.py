"""Facility as a host's BMC sees it: its power supplies (and the feed each draws from), its temperatures
and its fans, each with the BMC's own verdict and thresholds. Parsed once from the ``sensors`` source
(hatui/sources/bmc_sensors.py):

- Redfish: the system's chassis. Supplies from ``PowerSubsystem/PowerSupplies`` (PowerSupply v1: ``Status``,
  ``Location.PartLocation.ServiceLabel``, ``Links.Outlet``: the PDU outlet it is plugged into) or, on BMCs
  without it, the legacy ``Power`` resource's ``PowerSupplies``; ``Thermal``'s ``Temperatures`` (the
  ``UpperThreshold*`` values, ``PhysicalContext`` "Intake" for the inlet) and ``Fans`` (``LowerThreshold*``).
- IPMI: ``ipmitool -v`` ``sdr type`` Temperature, Fan and Power Supply (type 0x08): verbose SDR blocks with the
  reading, the BMC's status (ok, Upper Non-Critical, ...), thresholds, the entity (Air Inlet is entity 55)
  and, for a supply, its asserted states (Presence detected, Failure detected, Power Supply AC lost ...).

What the BMC does not report stays None (unknown), never healthy; nonsense raises ``FacilityGarbled``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hatui.model.observation import Garbled, Observation, finite


class FacilityGarbled(Garbled):
    """The answer is not what a BMC says about its supplies, temperatures and fans."""


OK, WARNING, CRITICAL = "ok", "warning", "critical"
LEVELS = (OK, WARNING, CRITICAL)


def worst(levels: Any) -> str:
    found = [x for x in levels if x in LEVELS]
    return max(found, key=LEVELS.index) if found else OK


@dataclass(frozen=True, slots=True)
class Supply:
    name: str                 # "PSU 1", "PS1 Status"
    level: str                # ok, warning (predictive failure, input out of range), critical (failed)
    working: bool             # delivers power now (a predictive failure still does)
    why: str = ""             # what the BMC says when not ok ("Failure detected", "Health Critical")
    feed: str | None = None   # the power feed (PDU) it draws from, where the BMC says (Redfish Links.Outlet)


@dataclass(frozen=True, slots=True)
class Temperature:
    name: str
    celsius: float | None     # None: the BMC has no reading now
    unc: float | None = None  # upper non-critical (warning), the BMC's own
    ucr: float | None = None  # upper critical
    unr: float | None = None  # upper non-recoverable (Redfish UpperThresholdFatal)
    inlet: bool = False       # the air coming in (Redfish PhysicalContext Intake, IPMI entity 55 Air Inlet)
    said: str = OK            # the BMC's own verdict (IPMI status, Redfish Health)

    @property
    def level(self) -> str:
        by_value = OK
        if self.celsius is not None:
            if any(t is not None and self.celsius >= t for t in (self.ucr, self.unr)):
                by_value = CRITICAL
            elif self.unc is not None and self.celsius >= self.unc:
                by_value = WARNING
        return worst((by_value, self.said))

    @property
    def limit(self) -> float | None:
        """The threshold it is past (the highest), else None."""
        if self.celsius is None:
            return None
        past = [t for t in (self.unc, self.ucr, self.unr) if t is not None and self.celsius >= t]
        return max(past) if past else None


@dataclass(frozen=True, slots=True)
class Fan:
    name: str
    reading: float | None     # RPM (or percent: ``units``); None: no reading
    units: str = "RPM"
    lnc: float | None = None  # lower non-critical
    lcr: float | None = None  # lower critical
    lnr: float | None = None  # lower non-recoverable (Redfish LowerThresholdFatal)
    said: str = OK            # the BMC's own verdict

    @property
    def level(self) -> str:
        by_value = OK
        if self.reading is not None:
            if any(t is not None and self.reading <= t for t in (self.lcr, self.lnr)):
                by_value = CRITICAL
            elif self.lnc is not None and self.reading <= self.lnc:
                by_value = WARNING
        return worst((by_value, self.said))


@dataclass(frozen=True, slots=True)
class Sensors:
    via: str                                        # "redfish" or "ipmi"
    supplies: tuple[Supply, ...] | None = None      # None: the BMC reports none (unknown, not healthy)
    temperatures: tuple[Temperature, ...] | None = None
    fans: tuple[Fan, ...] | None = None
    chassis: str = ""                               # Redfish: the chassis read

    @property
    def inlet(self) -> Temperature | None:
        return next((t for t in self.temperatures or () if t.inlet and t.celsius is not None), None)

    @property
    def working(self) -> tuple[Supply, ...]:
        return tuple(s for s in self.supplies or () if s.working)


# ---- Redfish --------------------------------------------------------------------------------------

# Redfish Status.Health -> level; Status.State values that mean "not delivering" / "not there".
_HEALTH = {"OK": OK, "Warning": WARNING, "Critical": CRITICAL}
_ABSENT = ("Absent",)
_NOT_WORKING = ("Disabled", "UnavailableOffline", "StandbyOffline", "Deferring", "Quiesced")
# A PDU outlet: .../PowerEquipment/<RackPDUs|FloorPDUs|...>/<pdu>/Outlets/<outlet> (DMTF Outlet schema)
_OUTLET = re.compile(r"/PowerEquipment/[A-Za-z]+/([^/]+)/Outlets/([^/]+)/?$")


def outlet_feed(uri: str | None) -> str | None:
    """The PDU (the power feed) an outlet link names, or None."""
    m = _OUTLET.search(uri or "")
    return m.group(1) if m else None


def _status(raw: Mapping[str, Any], what: str) -> tuple[str | None, str | None]:
    status = raw.get("Status")
    if status is None:
        return None, None
    if not isinstance(status, Mapping):
        raise FacilityGarbled(f"{what}: Status is not an object")
    health, state = status.get("Health"), status.get("State")
    if health is not None and health not in _HEALTH:
        raise FacilityGarbled(f"{what}: Health {str(health)[:20]!r} is not a Redfish health")
    if state is not None and not isinstance(state, str):
        raise FacilityGarbled(f"{what}: State is not a string")
    return health, state


def _number(raw: Mapping[str, Any], key: str, what: str) -> float | None:
    v = raw.get(key)
    if v is None:
        return None
    if not finite(v):
        raise FacilityGarbled(f"{what}: {key} {str(v)[:20]!r} is not a number")
    return float(v)


def _name(raw: Mapping[str, Any], i: int, *keys: str) -> str:
    for k in keys:
        if isinstance(raw.get(k), str) and raw[k].strip():
            return raw[k].strip()
    return f"#{i + 1}"


def _list(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]] | None:
    raw = data.get(key)
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(x, Mapping) for x in raw):
        raise FacilityGarbled(f"{key} is not a list of objects")
    return raw


def _redfish_supply(raw: Mapping[str, Any], i: int) -> Supply | None:
    label = raw.get("Location", {}).get("PartLocation", {}).get("ServiceLabel") \
        if isinstance(raw.get("Location"), Mapping) and isinstance(raw["Location"].get("PartLocation"), Mapping) \
        else None
    name = label if isinstance(label, str) and label.strip() else _name(raw, i, "Name", "Id", "MemberId")
    health, state = _status(raw, f"power supply {name}")
    if state in _ABSENT:
        return None
    links = raw.get("Links")
    outlet = links.get("Outlet") if isinstance(links, Mapping) else None
    feed = outlet_feed(outlet.get("@odata.id")) if isinstance(outlet, Mapping) and \
        isinstance(outlet.get("@odata.id"), str) else None
    line = raw.get("LineInputStatus")  # PowerSupply v1_? : Normal, NoInput, OutOfRange, ...
    if state in _NOT_WORKING:
        return Supply(name, CRITICAL, False, f"state {state}", feed)
    if line in ("NoInput", "LossOfInput"):
        return Supply(name, CRITICAL, False, "no input power", feed)
    level = _HEALTH.get(health or "OK", OK)
    if level == CRITICAL:
        return Supply(name, CRITICAL, False, "health Critical", feed)
    why = "health Warning" if level == WARNING else ""
    if line in ("OutOfRange",):
        level, why = WARNING, "input out of range"
    return Supply(name, level, True, why, feed)


def _redfish_temperature(raw: Mapping[str, Any], i: int) -> Temperature | None:
    name = _name(raw, i, "Name", "MemberId")
    health, state = _status(raw, f"temperature {name}")
    if state in _ABSENT + ("Disabled",):
        return None
    return Temperature(name, _number(raw, "ReadingCelsius", name), _number(raw, "UpperThresholdNonCritical", name),
                       _number(raw, "UpperThresholdCritical", name), _number(raw, "UpperThresholdFatal", name),
                       raw.get("PhysicalContext") == "Intake", _HEALTH.get(health or "OK", OK))


def _redfish_fan(raw: Mapping[str, Any], i: int) -> Fan | None:
    name = _name(raw, i, "Name", "FanName", "MemberId")
    health, state = _status(raw, f"fan {name}")
    if state in _ABSENT:
        return None
    units = str(raw["ReadingUnits"]) if isinstance(raw.get("ReadingUnits"), str) else "RPM"
    said = _HEALTH.get(health or "OK", OK)
    if state in _NOT_WORKING:
        said = CRITICAL
    return Fan(name, _number(raw, "Reading", name), units, _number(raw, "LowerThresholdNonCritical", name),
               _number(raw, "LowerThresholdCritical", name), _number(raw, "LowerThresholdFatal", name), said)


def _redfish(data: Mapping[str, Any]) -> Sensors:
    supplies = temps = fans = None
    raw = _list(data, "supplies")
    if raw is not None:
        supplies = tuple(s for i, r in enumerate(raw) if (s := _redfish_supply(r, i)) is not None)
    raw = _list(data, "temperatures")
    if raw is not None:
        temps = tuple(t for i, r in enumerate(raw) if (t := _redfish_temperature(r, i)) is not None)
    raw = _list(data, "fans")
    if raw is not None:
        fans = tuple(f for i, r in enumerate(raw) if (f := _redfish_fan(r, i)) is not None)
    return Sensors("redfish", supplies, temps, fans, str(data.get("chassis") or ""))


# ---- IPMI -----------------------------------------------------------------------------------------

# ipmitool's threshold status words (ipmitool -v sdr) -> level
_IPMI_STATUS = {"ok": OK, "Upper Non-Critical": WARNING, "Lower Non-Critical": WARNING,
                "Upper Critical": CRITICAL, "Lower Critical": CRITICAL, "Upper Non-Recoverable": CRITICAL,
                "Lower Non-Recoverable": CRITICAL}
# Power Supply (sensor type 0x08) states: (level, working) when asserted (IPMI 2.0 table 42-3)
_PSU_STATES = {"Failure detected": (CRITICAL, False), "Power Supply AC lost": (CRITICAL, False),
               "AC lost or out-of-range": (CRITICAL, False), "Predictive failure": (WARNING, True),
               "AC out-of-range, but present": (WARNING, True), "Config Error": (WARNING, True)}
_AIR_INLET = "55"  # IPMI entity ID 0x37
_READING = re.compile(r"^(-?[0-9.]+)\s*(?:\(\+/-\s*[0-9.]+\))?\s*(.*)$")


def _blocks(text: str) -> list[dict[str, Any]]:
    """ipmitool -v sdr's blocks: ``Key : value`` lines, ``[state]`` continuation lines under the last key."""
    blocks: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None
    last = ""
    for line in text.splitlines():
        if not line.strip():
            cur = None
            continue
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]") and cur is not None and last:
            cur.setdefault(last + "[]", []).append(stripped[1:-1])
            continue
        if ":" not in line:
            continue
        key, value = (p.strip() for p in line.split(":", 1))
        if key == "Sensor ID":
            cur = {}
            blocks.append(cur)
        if cur is None:
            continue
        cur[key] = value
        last = key
    return blocks


def _ipmi_number(v: str | None, what: str) -> float | None:
    if v is None or v in ("na", "Unspecified", ""):
        return None
    try:
        x = float(v)
    except ValueError:
        raise FacilityGarbled(f"{what}: {v[:20]!r} is not a number") from None
    if not finite(x):
        raise FacilityGarbled(f"{what}: {v[:20]!r} is not a number")
    return x


def _ipmi_name(block: Mapping[str, Any]) -> str:
    return re.sub(r"\s*\(0x[0-9a-fA-F]+\)$", "", str(block.get("Sensor ID", ""))).strip() or "?"


def _ipmi_reading(block: Mapping[str, Any], name: str) -> tuple[float | None, str]:
    raw = block.get("Sensor Reading")
    if raw is None or raw.startswith(("No Reading", "Not Available", "Disabled")):
        return None, ""
    m = _READING.match(raw)
    if m is None:
        raise FacilityGarbled(f"{name}: reading {raw[:30]!r} is not a number")
    return _ipmi_number(m.group(1), name), m.group(2).strip()


def _ipmi_said(block: Mapping[str, Any], name: str) -> str:
    status = block.get("Status")
    if status is None or status in ("Not Available", "No Reading"):
        return OK
    if status not in _IPMI_STATUS:
        raise FacilityGarbled(f"{name}: status {status[:30]!r} is not an ipmitool threshold status")
    return _IPMI_STATUS[status]


def _ipmi(data: Mapping[str, Any]) -> Sensors:
    text = data.get("stdout")
    if not isinstance(text, str):
        raise FacilityGarbled("no ipmitool output")
    if text.strip() and "Sensor ID" not in text:
        raise FacilityGarbled(f"ipmitool said {text.strip()[:60]!r}, not SDR records")
    supplies, temps, fans = [], [], []
    for b in _blocks(text):
        name = _ipmi_name(b)
        kind = str(b.get("Sensor Type (Threshold)") or b.get("Sensor Type (Discrete)") or "")
        if kind.startswith("Temperature"):
            reading, _units = _ipmi_reading(b, name)
            temps.append(Temperature(name, reading, _ipmi_number(b.get("Upper non-critical"), name),
                                     _ipmi_number(b.get("Upper critical"), name),
                                     _ipmi_number(b.get("Upper non-recoverable"), name),
                                     str(b.get("Entity ID", "")).split(".", 1)[0] == _AIR_INLET,
                                     _ipmi_said(b, name)))
        elif kind.startswith("Fan"):
            reading, units = _ipmi_reading(b, name)
            fans.append(Fan(name, reading, units or "RPM", _ipmi_number(b.get("Lower non-critical"), name),
                            _ipmi_number(b.get("Lower critical"), name),
                            _ipmi_number(b.get("Lower non-recoverable"), name), _ipmi_said(b, name)))
        elif kind.startswith("Power Supply"):
            states = [s for s in b.get("States Asserted[]", []) if s]
            if "States Asserted" not in b:
                continue  # no reading: the supply is not counted (no supply read at all stays unknown)
            if "Presence detected" not in states:
                continue  # an empty bay
            bad = [(s, _PSU_STATES[s]) for s in states if s in _PSU_STATES]
            level = worst(lv for _s, (lv, _w) in bad)
            working = all(w for _s, (_lv, w) in bad)
            supplies.append(Supply(name, level, working, ", ".join(s for s, _ in bad)))
    # what ipmitool listed nothing of stays unknown: a BMC without such sensors says nothing about them
    return Sensors("ipmi", tuple(supplies) or None, tuple(temps) or None, tuple(fans) or None)


def parse_sensors(data: Mapping[str, Any]) -> Sensors:
    via = data.get("via")
    if via == "redfish":
        return _redfish(data)
    if via == "ipmi":
        return _ipmi(data)
    raise FacilityGarbled(f"unknown BMC kind {str(via)[:20]!r}")


def sensors_of(obs: Observation, section: Any) -> Sensors:
    """The sensors source's parser (hatui.areas)."""
    return parse_sensors(obs.data)
