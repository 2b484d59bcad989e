"""sushy-emulator with a chassis' power supplies and thermal readings the lab can change (the hosts lab's
Redfish BMCs; run as ``python redfish_facility.py --config <sushy config>``, as sushy-emulator is).

sushy-tools 2.2.0's fake driver serves ``/redfish/v1/Chassis/<id>/Thermal`` from a fixed template and no
power supplies at all. This layer, inside the same Flask app (so sushy's basic auth, TLS and everything
else stay as they are), answers GETs of

  /redfish/v1/Chassis/<id>/Thermal                              (Thermal.v1_7_1)
  /redfish/v1/Chassis/<id>/PowerSubsystem                       (PowerSubsystem.v1_1_0)
  /redfish/v1/Chassis/<id>/PowerSubsystem/PowerSupplies         (PowerSupplyCollection)
  /redfish/v1/Chassis/<id>/PowerSubsystem/PowerSupplies/<Bay>   (PowerSupply.v1_5_0)

from ``<SUSHY_EMULATOR_STATE_DIR>/facility.json`` (written by tests/lab/hosts.py), read on every request, and
adds the ``PowerSubsystem`` link to the chassis. The bodies are shaped as the DMTF mockup
``public-rackmount1`` (DMTF/Redfish-Mockup-Server: Chassis/1U/Thermal, Chassis/1U/PowerSubsystem,
PowerSubsystem/PowerSupplies/Bay1: Status, LineInputStatus, Location.PartLocation.ServiceLabel, and
Links.Outlet to the PDU outlet the supply is plugged into), trimmed of what hatui does not read.
Without the state file every request goes to sushy unchanged.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import flask
from sushy_tools.emulator import main as emulator

app = emulator.app
_PATH = re.compile(r"^/redfish/v1/Chassis/([^/]+)/(Thermal|PowerSubsystem)(/PowerSupplies(?:/([^/]+))?)?/?$")
_CHASSIS = re.compile(r"^/redfish/v1/Chassis/([^/]+)/?$")
COPYRIGHT = "Copyright 2014-2022 DMTF. For the full DMTF copyright policy, see http://www.dmtf.org/about/policies/copyright."


def _state() -> dict[str, Any] | None:
    try:
        return json.loads((Path(app.config["SUSHY_EMULATOR_STATE_DIR"]) / "facility.json").read_text())
    except (OSError, ValueError, KeyError):
        return None


def _health(value: float, warn: float, crit: float, upper: bool) -> str:
    if (value >= crit) if upper else (value <= crit):
        return "Critical"
    if (value >= warn) if upper else (value <= warn):
        return "Warning"
    return "OK"


def thermal(chassis: str, st: dict[str, Any]) -> dict[str, Any]:
    base = f"/redfish/v1/Chassis/{chassis}/Thermal"
    inlet = st["inlet"]
    temps = [
        {"@odata.id": f"{base}#/Temperatures/0", "MemberId": "0", "Name": "CPU1 Temp", "SensorNumber": 5,
         "Status": {"State": "Enabled", "Health": "OK"}, "ReadingCelsius": 41, "UpperThresholdNonCritical": 80,
         "UpperThresholdCritical": 90, "UpperThresholdFatal": 95, "PhysicalContext": "CPU"},
        {"@odata.id": f"{base}#/Temperatures/1", "MemberId": "1", "Name": "Chassis Intake Temp", "SensorNumber": 9,
         "Status": {"State": "Enabled", "Health": _health(inlet, st["inlet_unc"], st["inlet_ucr"], True)},
         "ReadingCelsius": inlet, "UpperThresholdNonCritical": st["inlet_unc"],
         "UpperThresholdCritical": st["inlet_ucr"], "UpperThresholdFatal": st["inlet_unr"],
         "PhysicalContext": "Intake"},
    ]
    fans = [{"@odata.id": f"{base}#/Fans/{i}", "MemberId": str(i), "Name": f"BaseBoard System Fan {i + 1}",
             "PhysicalContext": "Backplane",
             "Status": {"State": "Enabled", "Health": _health(rpm, st["fan_lnc"], st["fan_lcr"], False)},
             "Reading": rpm, "ReadingUnits": "RPM", "LowerThresholdNonCritical": st["fan_lnc"],
             "LowerThresholdCritical": st["fan_lcr"], "LowerThresholdFatal": 0, "MinReadingRange": 0,
             "MaxReadingRange": 10000}
            for i, rpm in enumerate(st["fans"])]
    return {"@odata.type": "#Thermal.v1_7_1.Thermal", "Id": "Thermal", "Name": "Thermal", "Temperatures": temps,
            "Fans": fans, "@odata.id": base, "@Redfish.Copyright": COPYRIGHT}


def supply(chassis: str, i: int, s: dict[str, Any]) -> dict[str, Any]:
    bay = f"Bay{i + 1}"
    outlet = f"/redfish/v1/PowerEquipment/RackPDUs/{s['feed']}/Outlets/{s['outlet']}"
    return {"@odata.type": "#PowerSupply.v1_5_0.PowerSupply", "Id": bay, "Name": f"Power Supply Bay {i + 1}",
            "Status": {"State": "Enabled", "Health": "OK" if s["ok"] else "Critical"},
            "LineInputStatus": "Normal" if s["ok"] else "NoInput",
            "Model": "RKS-440DC", "Manufacturer": "Contoso Power", "PowerCapacityWatts": 400,
            "Location": {"PartLocation": {"ServiceLabel": f"PSU {i + 1}", "LocationType": "Bay",
                                          "LocationOrdinalValue": i}},
            "Links": {"Outlet": {"@odata.id": outlet}},
            "@odata.id": f"/redfish/v1/Chassis/{chassis}/PowerSubsystem/PowerSupplies/{bay}",
            "@Redfish.Copyright": COPYRIGHT}


def power_subsystem(chassis: str, st: dict[str, Any]) -> dict[str, Any]:
    base = f"/redfish/v1/Chassis/{chassis}/PowerSubsystem"
    members = [{"@odata.id": f"{base}/PowerSupplies/Bay{i + 1}"} for i in range(len(st["supplies"]))]
    working = sum(1 for s in st["supplies"] if s["ok"])
    return {"@odata.type": "#PowerSubsystem.v1_1_0.PowerSubsystem", "Id": "PowerSubsystem",
            "Name": "Power Subsystem for Chassis", "CapacityWatts": 400 * len(members),
            "PowerSupplyRedundancy": [{"RedundancyType": "Failover", "MaxSupportedInGroup": len(members),
                                       "MinNeededInGroup": 1, "RedundancyGroup": members,
                                       "Status": {"State": "Enabled",
                                                  "Health": "OK" if working == len(members) else "Warning"}}],
            "PowerSupplies": {"@odata.id": f"{base}/PowerSupplies"},
            "Status": {"State": "Enabled", "Health": "OK" if working == len(members) else "Warning"},
            "@odata.id": base, "@Redfish.Copyright": COPYRIGHT}


def _not_found() -> flask.Response:
    body = {"error": {"code": "Base.1.0.GeneralError", "message": "No such resource"}}
    return flask.Response(json.dumps(body), status=404, mimetype="application/json")


@app.before_request
def facility() -> flask.Response | None:
    m = _PATH.match(flask.request.path)
    if flask.request.method != "GET" or m is None:
        return None
    st = _state()
    if st is None:
        return None
    chassis, what, supplies, bay = m.groups()
    if what == "Thermal":
        body = None if supplies else thermal(chassis, st)
    elif supplies is None:
        body = power_subsystem(chassis, st)
    elif bay is None:
        base = f"/redfish/v1/Chassis/{chassis}/PowerSubsystem/PowerSupplies"
        body = {"@odata.type": "#PowerSupplyCollection.PowerSupplyCollection", "Name": "Power Supply Collection",
                "Members@odata.count": len(st["supplies"]),
                "Members": [{"@odata.id": f"{base}/Bay{i + 1}"} for i in range(len(st["supplies"]))],
                "@odata.id": base, "@Redfish.Copyright": COPYRIGHT}
    else:
        n = int(bay[3:]) - 1 if re.fullmatch(r"Bay[0-9]+", bay) else -1
        body = supply(chassis, n, st["supplies"][n]) if 0 <= n < len(st["supplies"]) else None
    if body is None:
        return _not_found()
    return flask.Response(json.dumps(body, indent=4), mimetype="application/json")


@app.after_request
def chassis_link(response: flask.Response) -> flask.Response:
    m = _CHASSIS.match(flask.request.path)
    if flask.request.method == "GET" and m and response.status_code == 200 and _state() is not None:
        try:
            body = json.loads(response.get_data())
        except ValueError:
            return response
        body["PowerSubsystem"] = {"@odata.id": f"/redfish/v1/Chassis/{m.group(1)}/PowerSubsystem"}
        response.set_data(json.dumps(body, indent=4))
    return response


if __name__ == "__main__":
    sys.exit(emulator.main())
