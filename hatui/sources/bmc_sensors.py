"""Power supplies, temperatures and fans from a host's BMC (the ``sensors`` target), read-only.

A second target per BMC beside ``power``, polled less often (``[hosts] sensors_interval``, 60 s by default:
a supply fails and a room warms over minutes, and a sensor read costs a BMC more than its power state).
Each read keeps the same limits as the power poll: its own connect and read timeout, one request in
flight, and the whole poll under its deadline.

- Redfish (``RedfishSensorsSource``): the system (found once, as the power source does), its first chassis
  (``Links.Chassis``), then the chassis' ``PowerSubsystem/PowerSupplies`` members (the current schema: each
  supply's ``Links.Outlet`` names the PDU outlet it is plugged into) or, without it, the legacy ``Power``
  resource; and ``Thermal`` (``Temperatures`` and ``Fans`` with their thresholds). 4-6 GETs a poll, on one
  kept connection; only the fields hatui reads are kept.
- IPMI (``IpmiSensorsSource``): one ipmitool session, ``-v exec`` of ``sdr type`` Temperature, Fan and
  Power Supply read from stdin (three commands, one login); USER privilege is enough. Only the lines of
  the SDR blocks hatui reads are kept.
"""
from __future__ import annotations

from typing import Any

from hatui.config.hosts import BmcConfig, HostEntry
from hatui.model import FailureKind
from hatui.schedule import TargetSpec
from hatui.secrets import redact
from hatui.sources.ipmi import IPMITOOL, IpmiPowerSource, ipmitool_retry_seconds
from hatui.sources.redfish import RedfishPowerSource, _link, bmc_failure

MAX_SUPPLIES = 16  # PowerSupplies members read at most (one GET each)
SUPPLY_FIELDS = ("Id", "MemberId", "Name", "Status", "LineInputStatus")
TEMPERATURE_FIELDS = ("MemberId", "Name", "Status", "ReadingCelsius", "UpperThresholdNonCritical",
                      "UpperThresholdCritical", "UpperThresholdFatal", "PhysicalContext")
FAN_FIELDS = ("MemberId", "Name", "FanName", "Status", "Reading", "ReadingUnits", "LowerThresholdNonCritical",
              "LowerThresholdCritical", "LowerThresholdFatal", "PhysicalContext")
# ipmitool sdr type: 0x01 temperature, 0x04 fan, 0x08 power supply (IPMI 2.0 table 42-3)
IPMI_COMMANDS = b"sdr type 0x01\nsdr type 0x04\nsdr type 0x08\n"
# the verbose SDR lines the parser reads (hatui.model.facility); the rest (event enables, ranges) is dropped
IPMI_KEEP = ("Sensor ID", "Entity ID", "Sensor Type", "Sensor Reading", "Status", "Upper ", "Lower ",
             "States Asserted")
MAX_STDOUT = 64 * 1024


def _status(raw: Any) -> Any:
    if isinstance(raw, dict):
        return {k: v for k, v in raw.items() if k in ("Health", "State")}
    return raw


def _kept(raw: dict, fields: tuple[str, ...]) -> dict:
    kept = {k: raw[k] for k in fields if k in raw}
    if "Status" in kept:
        kept["Status"] = _status(kept["Status"])
    return kept


def _supply(raw: dict) -> dict:
    kept = _kept(raw, SUPPLY_FIELDS)
    loc = raw.get("Location")
    if isinstance(loc, dict) and isinstance(loc.get("PartLocation"), dict) and "ServiceLabel" in loc["PartLocation"]:
        kept["Location"] = {"PartLocation": {"ServiceLabel": loc["PartLocation"]["ServiceLabel"]}}
    links = raw.get("Links")
    if isinstance(links, dict) and isinstance(links.get("Outlet"), dict):
        kept["Links"] = {"Outlet": {"@odata.id": links["Outlet"].get("@odata.id")}}
    return kept


def _objects(value: Any, what: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise bmc_failure(FailureKind.GARBLED, f"{what} is not a list of objects")
    return value


class RedfishSensorsSource(RedfishPowerSource):
    """The Redfish BMC's chassis: supplies (PowerSubsystem or Power) and Thermal."""

    def __init__(self, spec: TargetSpec, host: HostEntry, bmc: BmcConfig, transport: Any = None) -> None:
        super().__init__(spec, host, bmc, transport)
        self._chassis_path: str | None = None

    async def _system(self) -> dict | None:
        if self._system_path is not None:
            system = await self._get(self._system_path)
            if system is not None:
                return system
            self._system_path = self._chassis_path = None
        found = await self._find(await self._members())
        if found is None:
            return None
        self._system_path, system = found
        return system

    async def _chassis(self) -> dict | None:
        if self._chassis_path is None:
            system = await self._system()
            if system is None:
                return None
            links = system.get("Links")
            chassis = links.get("Chassis") if isinstance(links, dict) else None
            paths = [p for p in (_link(c) for c in chassis) if p] if isinstance(chassis, list) else []
            if not paths:
                return {}
            self._chassis_path = paths[0]
        chassis = await self._get(self._chassis_path)
        if chassis is None:
            self._chassis_path = None  # gone (404): looked up again next time
            raise bmc_failure(FailureKind.NOT_FOUND, "the system's chassis is gone (looked up again next poll)")
        return chassis

    async def _poll(self) -> dict[str, Any]:
        chassis = await self._chassis()
        if chassis is None:
            return {"via": "redfish", "chassis": None}
        out: dict[str, Any] = {"via": "redfish", "chassis": str(chassis.get("Id") or "")}
        subsystem, power = _link(chassis.get("PowerSubsystem")), _link(chassis.get("Power"))
        if subsystem is not None:
            out["supplies"] = await self._subsystem_supplies(subsystem)
            out["power_schema"] = "PowerSubsystem"
        elif power is not None:
            body = await self._get(power)
            if body is not None and body.get("PowerSupplies") is not None:
                out["supplies"] = [_supply(s) for s in _objects(body.get("PowerSupplies"), "Power.PowerSupplies")]
                out["power_schema"] = "Power"
        thermal = _link(chassis.get("Thermal"))
        if thermal is not None:
            body = await self._get(thermal)
            if body is not None:
                if body.get("Temperatures") is not None:
                    out["temperatures"] = [_kept(t, TEMPERATURE_FIELDS)
                                           for t in _objects(body["Temperatures"], "Thermal.Temperatures")]
                if body.get("Fans") is not None:
                    out["fans"] = [_kept(f, FAN_FIELDS) for f in _objects(body["Fans"], "Thermal.Fans")]
        return out

    async def _subsystem_supplies(self, path: str) -> list[dict] | None:
        subsystem = await self._get(path)
        collection = _link(subsystem.get("PowerSupplies")) if subsystem is not None else None
        if collection is None:
            return None
        body = await self._get(collection)
        if body is None:
            return None
        members = [m for m in (_link(x) for x in _objects(body.get("Members"), "PowerSupplies.Members")) if m]
        supplies = []
        for member in members[:MAX_SUPPLIES]:
            supply = await self._get(member)
            if supply is not None:
                supplies.append(_supply(supply))
        return supplies


class IpmiSensorsSource(IpmiPowerSource):
    """One ipmitool session: the verbose SDR records of type temperature, fan and power supply."""

    def argv(self) -> list[str]:
        b = self.bmc
        return [IPMITOOL, "-I", "lanplus", "-C", str(b.cipher_suite), "-L", "USER",
                "-N", str(ipmitool_retry_seconds(self.spec.timeout)), "-R", "1", "-v",
                "-H", str(b.host), "-p", str(b.ipmi_port), "-U", b.user, "-E", "exec", "/dev/stdin"]

    async def poll(self) -> dict[str, Any]:
        stdout = await self.run_ipmitool(IPMI_COMMANDS)
        return {"via": "ipmi", "stdout": redact(_keep_lines(stdout[:MAX_STDOUT]))}


def _keep_lines(text: str) -> str:
    """The SDR block lines the parser reads, and the ``[state]`` lines under ``States Asserted``."""
    out, states = [], False
    for line in text.splitlines():
        s = line.strip()
        if not s:
            out.append("")
            states = False
        elif s.startswith("[") and states:
            out.append(line)
        elif s.startswith(IPMI_KEEP):
            out.append(line)
            states = s.startswith("States Asserted")
        else:
            states = False
    return "\n".join(out).strip("\n") + "\n" if out else ""
