"""What the `workbook run` tests share: starting a run, what it started, the jobs it left."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from jobs_client import JobsClient
from workbook.config import ROOT
from workbook.runtime import ledger
from workbook.runtime.controlplane import ControlPlane
from workbook.runtime.ports import port_in_use
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_until

QUICKSTART_PORTS = (6200, 6280, 6281, 6380, 6381)
DROID_JOBS = ["R2-D2", "C-3PO", "BB-8"]


def workbook_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", **extra}


def start_run(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.Popen:
    """`workbook run ...` in its own session (as from a terminal), output merged and piped."""
    return subprocess.Popen(
        ["workbook", "run", *args],
        cwd=cwd,
        env=env or workbook_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def read_until(process: subprocess.Popen, text: str, timeout: float = 60) -> list[str]:
    """Lines of the run's output up to the first one containing `text`. Without it, the run is
    ended and reaped before the test fails (no process, pipe or Popen left to a later test)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        seen.append(line)
        if text in line:
            return seen
        if time.monotonic() >= deadline:
            end_run(process)
            raise AssertionError(f"no {text!r} in {timeout} s:\n{''.join(seen)}")
    end_run(process)
    raise AssertionError(f"the run ended before {text!r}:\n{''.join(seen)}")


def end_run(process: subprocess.Popen) -> None:
    """SIGKILL the run's process group if the run still runs (then the group is certainly ours:
    start_run gave it a session of its own), read the rest of its output and reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)


def started_by(pid: int) -> list[ledger.Entry]:
    """The ledger's entries for processes that `pid` started and that still run."""
    return [e for e in ledger.entries() if e.started_by.pid == pid and ledger.running(e)]


def wait_all_gone(entries: list[ledger.Entry], timeout: float = 30) -> None:
    wait_until(
        lambda: not [e for e in entries if ledger.running(e)],
        timeout=timeout,
        what="every process of the run to end",
    )


def assert_ports_free(ports=QUICKSTART_PORTS) -> None:
    busy = [port for port in ports if port_in_use(port)]
    assert busy == [], f"ports still open: {busy}"


def remove_jobs(app_id: str, names: list[str]) -> list[str]:
    """Delete these jobs of `app_id` (through a sidecar of that app ID); return which existed."""
    with (
        ControlPlane() as plane,
        Sidecar(app_id, scheduler_address=plane.scheduler_address) as car,
        JobsClient(car.http_url) as client,
    ):
        found = [name for name in names if client.exists(name)]
        for name in found:
            client.delete(name)
        assert [name for name in names if client.exists(name)] == []
        return found
