"""Small helpers shared by the lab modules: run a command, wait for a condition, probe a port."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# Everything the lab writes lives under one folder (short: unix socket paths are limited to 107 chars).
LAB_BASE = Path(os.environ.get("HATUI_LAB_BASE", "/tmp/hatui-lab"))


class LabError(RuntimeError):
    """A lab server could not be brought to the state a test needs."""


def run(cmd: Sequence[str], *, check: bool = True, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    """Run a command with a hard timeout; text output captured."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        # the last lines of both streams: tools print a deprecation warning first and the error last
        tail = "\n".join((proc.stderr.strip().splitlines() + proc.stdout.strip().splitlines())[-12:])
        raise LabError(f"{' '.join(cmd)} -> {proc.returncode}:\n{tail}")
    return proc


def wait_until(pred: Callable[[], object], timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll ``pred`` until it returns something truthy; raise LabError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = pred()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - a lab probe may fail while the server starts
            last_exc = exc
        time.sleep(interval)
    detail = f" (last error: {last_exc})" if last_exc else ""
    raise LabError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int | None) -> bool:
    """True when ``pid`` runs and is not a zombie."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
