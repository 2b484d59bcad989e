"""Power through an IPMI BMC: ``ipmitool -I lanplus ... chassis power status``, one process at a time.

Why ipmitool and not pyghmi: pyghmi 1.6.19 worked against the lab's ipmi_sim, but its timeout is fixed
inside the library (~5 s against a frozen BMC, lab) and its sessions live in a process-wide cache with
its own I/O thread (with str credentials a second Command to one BMC hangs for ever: lab note). A child
process can always be killed: hatui runs ipmitool in its own process group with a hard deadline
(``timeout``) and kills the group past it, so a frozen BMC can never leave processes behind, and the feed
never starts the next poll of a BMC before the last one ended, so there is never more than one per BMC.

- ``-N n -R 1``: ipmitool's own retry budget, about 2 n s against a silent BMC (lab: n=1 2.06 s, n=2
  4.08 s, n=3 6.06 s), set to end well inside the hard deadline; ``-R 0`` means ipmitool's default (20 s).
- ``-L USER``: chassis power status needs the User privilege only (least privilege).
- ``-E``: the password is passed in the environment, never on the command line (``ps`` shows argv).
- ``-v``: without it a wrong password, an unknown user and a silent BMC all print the same line.

If hatui itself is killed (SIGTERM without cleanup, SIGKILL, OOM) while ipmitool waits, its own session
would outlive it: ipmitool is started through ``setpriv --pdeathsig KILL`` (util-linux, essential on
Debian), so the kernel kills it when hatui goes.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from functools import cache
from typing import Any

from hatui.config.hosts import BmcConfig, HostEntry
from hatui.model import Failure, FailureKind
from hatui.schedule import TargetSpec
from hatui.secrets import redact
from hatui.sources.base import AsyncSource, SourceError
from hatui.sources.redfish import bmc_failure

IPMITOOL = "ipmitool"
KILL_WAIT = 2.0  # s to reap a killed ipmitool (SIGKILL cannot be ignored: this is only a bound)

# ipmitool -v stderr lines -> (kind, detail): first match wins. Captures: tests/fixtures/hosts/verbose/.
STDERR_KINDS = (
    ("RAKP 2 HMAC is invalid", FailureKind.AUTH, "(wrong password)"),
    ("unauthorized name", FailureKind.AUTH, "(unknown user)"),
    ("Set Session Privilege Level", FailureKind.FORBIDDEN, "(the account may not open a USER session)"),
    ("Unable to Get Channel Cipher Suites", FailureKind.ERROR, "cipher suite not offered: set bmc.cipher_suite"),
    ("Get Auth Capabilities error", FailureKind.TIMEOUT, "(UDP {where})"),
    ("No response from remote controller", FailureKind.TIMEOUT, "(UDP {where})"),
    ("Address lookup for", FailureKind.UNREACHABLE, "(cannot resolve {where})"),
)


@cache
def _setpriv() -> str | None:
    path = shutil.which("setpriv")
    if path is None:
        return None
    try:
        helps = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return path if "--pdeathsig" in helps else None


def dies_with_hatui(argv: list[str]) -> list[str]:
    """``argv`` run so that the kernel kills it if hatui dies first (where setpriv can do it)."""
    setpriv = _setpriv()
    return [setpriv, "--pdeathsig", "KILL", "--", *argv] if setpriv else argv


def ipmitool_retry_seconds(timeout: float) -> int:
    """ipmitool's -N: a silent BMC costs about 2 x N s with -R 1; keep that within ~80 % of the deadline."""
    return max(1, int(timeout * 0.8 / 2))


def classify_ipmitool(rc: int, stderr: str, where: str, timeout: float) -> Failure:
    """What a failed ``ipmitool -v ... chassis power status`` means, from its exit code and stderr."""
    for needle, kind, detail in STDERR_KINDS:
        if needle in stderr:
            return Failure(kind, redact(str(bmc_failure(kind, detail.format(where=where), timeout))))
    last = next((line for line in reversed(stderr.splitlines()) if line.strip()), f"exit code {rc}")
    return Failure(FailureKind.ERROR, redact(f"BMC: ipmitool: {last.strip()[:160]}"))


class IpmiPowerSource(AsyncSource):
    def __init__(self, spec: TargetSpec, host: HostEntry, bmc: BmcConfig) -> None:
        super().__init__(spec)
        self.host, self.bmc = host, bmc
        self._proc: asyncio.subprocess.Process | None = None
        _setpriv()  # looked up now, before the event loop runs: never a blocking call inside a poll

    def argv(self) -> list[str]:
        b = self.bmc
        return [IPMITOOL, "-I", "lanplus", "-C", str(b.cipher_suite), "-L", "USER",
                "-N", str(ipmitool_retry_seconds(self.spec.timeout)), "-R", "1", "-v",
                "-H", str(b.host), "-p", str(b.ipmi_port), "-U", b.user, "-E", "chassis", "power", "status"]

    def _env(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C",
                "IPMI_PASSWORD": self.bmc.password.reveal() if self.bmc.password else ""}

    async def run_ipmitool(self, commands: bytes | None = None) -> str:
        """ipmitool with ``argv()`` (``commands`` on its stdin, for ``exec /dev/stdin``): its stdout, or a
        SourceError; it never outlives the poll's timeout (its process group is killed)."""
        if self._proc is not None:  # cannot happen through the feed (one poll per target); never start a 2nd
            raise bmc_failure(FailureKind.TIMEOUT, "(the previous ipmitool is still running)", self.spec.timeout)
        env = self._env()
        if shutil.which(IPMITOOL, path=env["PATH"]) is None:
            raise SourceError(FailureKind.ERROR, "ipmitool is not installed (Debian: apt install ipmitool)")
        proc = await asyncio.create_subprocess_exec(
            *dies_with_hatui(self.argv()), stdin=subprocess.DEVNULL if commands is None else subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)  # killed whole
        self._proc = proc
        try:
            async with asyncio.timeout(self.spec.timeout):
                out, err = await proc.communicate(commands)
        except TimeoutError:
            raise bmc_failure(FailureKind.TIMEOUT, f"(UDP {self.bmc.where}; ipmitool stopped)",
                              self.spec.timeout) from None
        finally:
            await self._reap(proc)
        stdout, stderr = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        if proc.returncode != 0:
            failure = classify_ipmitool(proc.returncode or 0, stderr, self.bmc.where, self.spec.timeout)
            raise SourceError(failure.kind, failure.message)
        return stdout

    async def poll(self) -> dict[str, Any]:
        stdout = await self.run_ipmitool()
        # Only the answer's power line is kept (stdout has nothing else; -v chatter goes to stderr).
        lines = [line for line in stdout.splitlines() if "Chassis Power" in line]
        return {"via": "ipmi", "stdout": "\n".join(lines) if lines else redact(stdout.strip()[:200])}

    async def _reap(self, proc: asyncio.subprocess.Process) -> None:
        """Kill the process group if ipmitool is still running (timeout or cancellation), then wait for it."""
        try:
            if proc.returncode is None:
                _kill_group(proc.pid)
                try:
                    async with asyncio.timeout(KILL_WAIT):
                        await proc.wait()
                except TimeoutError:
                    pass
        finally:
            self._proc = None

    def classify(self, exc: BaseException) -> Failure:
        if isinstance(exc, SourceError):
            return Failure(exc.kind, redact(str(exc)))
        return Failure(FailureKind.ERROR, redact(f"BMC: {type(exc).__name__}: {exc}"))

    def failure(self, exc: BaseException) -> Failure:
        return self.classify(exc)  # keeps the "BMC: " wording (the base class rewrites timeouts)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            _kill_group(proc.pid)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # start_new_session: the group id is ipmitool's pid
    except (ProcessLookupError, PermissionError):
        pass
