"""The jump host's own links to the management network: psutil counters plus /sys/class/net state.

Per watched interface: whether it exists, IFF_UP (psutil) and the kernel's operstate (carrier), the
error and drop counters (psutil.net_io_counters), and for a bond its mode, slaves (each slave's MII
status) and active slave (/sys/class/net/<bond>/bonding/, Linux bonding driver documentation). Local
reads only, no network: a BlockingSource in its own thread like any other, so a stuck sysfs read could
not stall the event loop either.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import psutil

from hatui.config.hosts import HostsSection
from hatui.schedule import TargetSpec
from hatui.sources.base import BlockingSource

SYS_NET = Path("/sys/class/net")
COUNTERS = ("errin", "errout", "dropin", "dropout")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, ValueError):  # ValueError: a NUL in a name read from another file, bytes not UTF-8
        return None


def bond_state(name: str, sys_net: Path = SYS_NET) -> dict[str, Any] | None:
    """The bonding driver's view of ``name``, or None if it is not a bond."""
    bonding = sys_net / name / "bonding"
    slaves_text = _read(bonding / "slaves")
    if slaves_text is None:
        return None
    slaves = {}
    for slave in slaves_text.split():
        # mii_status is the bond's own link monitor; operstate is the fallback on old kernels
        slaves[slave] = (_read(sys_net / slave / "bonding_slave" / "mii_status")
                         or _read(sys_net / slave / "operstate") or "unknown")
    mode = (_read(bonding / "mode") or "").split(" ")[0]  # "active-backup 1" -> "active-backup"
    return {"mode": mode, "slaves": slaves, "active": _read(bonding / "active_slave") or None}


class LocalLinksSource(BlockingSource):
    def __init__(self, spec: TargetSpec, section: HostsSection) -> None:
        super().__init__(spec)
        self.interfaces = list(section.interfaces)

    def poll(self) -> dict[str, Any]:
        stats = psutil.net_if_stats()
        io = psutil.net_io_counters(pernic=True)
        out: dict[str, Any] = {}
        for name in self.interfaces:
            st, counters = stats.get(name), io.get(name)
            nic: dict[str, Any] = {"exists": st is not None, "isup": bool(st and st.isup),
                                   "operstate": _read(SYS_NET / name / "operstate") or ("" if st else "absent")}
            if counters is not None:
                nic.update({k: getattr(counters, k) for k in COUNTERS})
            bond = bond_state(name)
            if bond is not None:
                nic["bond"] = bond
            out[name] = nic
        return {"interfaces": out}
