"""Regenerate tests/fixtures/hosts/ from the real hosts lab (~15 s: one Redfish power-off apply delay).

    cd /work/main && .venv/bin/python -m tests.lab.capture_hosts

Redfish files: ``{"status": <HTTP status>, "body": <JSON body, or text, or null when empty>}`` plus
``"headers"`` when one matters (Location of a redirect, WWW-Authenticate of a 401). All from hostA's plain
HTTP emulator (http://127.0.0.1:18001, system id 11111111-0000-4000-8000-000000000001), with the lab's
basic-auth credentials unless the file says otherwise.
ipmitool files: ``{"argv": [...], "rc": N, "stdout": "...", "stderr": "...", "seconds": S}``
(lanplus -C 3 -N 1 -R 1 against hostA's ipmi_sim on 127.0.0.1:9001 unless the file says otherwise).
Also rewrites tests/fixtures/hosts/README.md. Leaves the lab up, healthy and in its default state.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx

from .hosts import BMC_HOST, BMC_PASSWORD, BMC_USER, HOSTS, Lab

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"
HOST = HOSTS[0]

DESCRIPTIONS: dict[str, str] = {}


def save(name: str, data: dict, what: str) -> None:
    (OUT / name).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    DESCRIPTIONS[name] = what
    print(f"{name}: {what}")


def http(method: str, path: str, auth=(BMC_USER, BMC_PASSWORD), json_body=None, headers=()) -> dict:
    r = httpx.request(
        method, HOST.redfish_url + path, auth=auth, json=json_body, timeout=5, follow_redirects=False
    )
    try:
        body = r.json()
    except ValueError:
        body = r.text or None
    out = {"status": r.status_code, "body": body}
    kept = {h: r.headers[h] for h in headers if h in r.headers}
    if kept:
        out["headers"] = kept
    return out


def ipmitool(lab: Lab, *args: str, password: str = BMC_PASSWORD, port: int | None = None) -> dict:
    argv = ["ipmitool", "-I", "lanplus", "-C", "3", "-N", "1", "-R", "1", "-H", BMC_HOST,
            "-p", str(port or HOST.ipmi_port), "-U", BMC_USER, "-P", password, *args]  # fmt: skip
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return {"argv": argv, "rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr,
            "seconds": round(time.monotonic() - t0, 1)}  # fmt: skip


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    lab = Lab()
    lab.up()
    sp = HOST.system_path
    save("redfish_service_root.json", http("GET", "/redfish/v1/", auth=None),
         "GET /redfish/v1/ without credentials: 200 (the service root is anonymous)")  # fmt: skip
    save("redfish_systems.json", http("GET", "/redfish/v1/Systems"),
         "GET /redfish/v1/Systems: 200, a collection with 1 member (one emulator per host)")  # fmt: skip
    save("redfish_system_on.json", http("GET", sp), "GET the hostA system: 200, PowerState On")
    save("redfish_401.json", http("GET", "/redfish/v1/Systems", auth=None, headers=("www-authenticate",)),
         "GET /redfish/v1/Systems without credentials: 401")  # fmt: skip
    save("redfish_401_wrong_password.json",
         http("GET", sp, auth=(BMC_USER, "wrong-password"), headers=("www-authenticate",)),
         "GET the hostA system with a wrong password: 401")  # fmt: skip
    save("redfish_404.json", http("GET", "/redfish/v1/Systems/does-not-exist"),
         "GET /redfish/v1/Systems/does-not-exist: 404 with a Redfish error body")  # fmt: skip
    save("redfish_system_by_name.json", http("GET", "/redfish/v1/Systems/hostA", headers=("location",)),
         "GET /redfish/v1/Systems/hostA (the Name, not the Id): redirect to the Id")  # fmt: skip
    save("redfish_reset_bogus.json",
         http("POST", f"{sp}/Actions/ComputerSystem.Reset", json_body={"ResetType": "Bogus"}),
         "POST Reset with ResetType Bogus: 501 with a Redfish error body")  # fmt: skip
    save("redfish_reset_forceoff.json",
         http("POST", f"{sp}/Actions/ComputerSystem.Reset", json_body={"ResetType": "ForceOff"}),
         "POST Reset ForceOff: 204, no body (applied 0-11 s later)")  # fmt: skip
    pending = http("GET", sp)
    waited = lab.wait_power(HOST.name, False)
    print(f"  (PowerState right after the POST: {pending['body']['PowerState']}; Off after {waited:.1f} s)")
    save(
        "redfish_system_off.json",
        http("GET", sp),
        "GET the hostA system after ForceOff applied: PowerState Off",
    )

    save("ipmitool_power_status_on.json", ipmitool(lab, "chassis", "power", "status"),
         "chassis power status, powered on: rc 0")  # fmt: skip
    save("ipmitool_power_off.json", ipmitool(lab, "chassis", "power", "off"), "chassis power off: rc 0")
    save("ipmitool_power_status_off.json", ipmitool(lab, "chassis", "power", "status"),
         "chassis power status, powered off: rc 0")  # fmt: skip
    save("ipmitool_wrong_password.json",
         ipmitool(lab, "chassis", "power", "status", password="wrong-password"),
         "chassis power status with a wrong password: rc 1 at once")  # fmt: skip
    lab.freeze_bmc(HOST.name, "ipmi")
    try:
        save("ipmitool_frozen.json", ipmitool(lab, "chassis", "power", "status"),
             "chassis power status against a SIGSTOPped ipmi_sim: rc 1 after ~2 s (-N 1 -R 1)")  # fmt: skip
    finally:
        lab.thaw_bmc(HOST.name, "ipmi")
    save("ipmitool_no_bmc.json", ipmitool(lab, "chassis", "power", "status", port=9009),
         "chassis power status against 127.0.0.1:9009 where nothing listens: rc 1")  # fmt: skip
    lab.reset()

    lines = ["# Host fixtures (BMCs), captured from the real hosts lab", "",
             "Regenerate: `cd /work/main && .venv/bin/python -m tests.lab.capture_hosts` (needs root; "
             "starts the lab if needed). Formats: see tests/lab/capture_hosts.py. Redfish: hostA's emulator "
             "(sushy-tools fake driver) over plain HTTP; ipmitool: hostA's ipmi_sim.", ""]  # fmt: skip
    lines += [f"- `{name}`: {what}" for name, what in sorted(DESCRIPTIONS.items())]
    (OUT / "README.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
