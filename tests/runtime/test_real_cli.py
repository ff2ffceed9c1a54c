"""With the real Dapr CLI 1.18 on PATH: the README's route works as the learner runs it.

Skipped when no such CLI is installed (it cannot be installed on the machine that builds this
workbook; the package registry refuses its Go module). Checked by hand where it exists.
"""

from __future__ import annotations

import re
import subprocess
import time

import psutil
import pytest
from run_helpers import QUICKSTART_PORTS, assert_ports_free, workbook_env

from workbook.config import ROOT
from workbook.run.dapr_cli import supported_cli
from workbook.runtime.ports import port_in_use
from workbook.runtime.waiting import wait_until

DAPR = supported_cli()
pytestmark = pytest.mark.skipif(DAPR is None, reason="the Dapr CLI 1.18 is not installed")

ANSI = re.compile(r"\x1b\[[0-9;]*m")
STORYLINE = [
    "== APP - job-scheduler == Job Scheduled: R2-D2",
    "== APP - job-service == Starting droid: R2-D2",
    "== APP - job-service == Executing maintenance job: Oil Change",
    "== APP - job-scheduler == Job R2-D2 fired; the scheduler removed it",
    "== APP - job-scheduler == Job Scheduled: C-3PO",
    "== APP - job-scheduler == Job Deleted: BB-8",
    "== APP - job-service == Starting droid: C-3PO",
    "== APP - job-service == Executing maintenance job: Limb Calibration",
    "== APP - job-scheduler == Job C-3PO fired; the scheduler removed it",
    "== APP - job-scheduler == All droid jobs done.",
]
CONTROL_PLANE_PORTS = (50005, 50006)


def quickstart_processes() -> list[str]:
    """daprd of either droid app, or either app itself, still running anywhere."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmd = " ".join(process.info["cmdline"] or [])
        if ("daprd" in cmd and re.search(r"--app-id (job-service|job-scheduler)\b", cmd)) or (
            re.search(r"-m (job_service|job_scheduler)\b", cmd)
        ):
            found.append(f"{process.pid}: {cmd[:120]}")
    return found


def assert_nothing_left(control_plane_was_running: bool) -> None:
    wait_until(lambda: not quickstart_processes(), timeout=15, what="the droid apps to be gone")
    assert_ports_free(QUICKSTART_PORTS)
    if not control_plane_was_running:
        assert [port for port in CONTROL_PLANE_PORTS if port_in_use(port)] == []


def make(*targets: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", *targets], cwd=ROOT, env=workbook_env(), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def test_make_scheduler_then_dapr_run_tells_the_storyline_within_15_s():
    was_running = all(port_in_use(port) for port in CONTROL_PLANE_PORTS)
    assert make("scheduler").returncode == 0
    run = subprocess.Popen(
        [DAPR, "run", "-f", "."],
        cwd=ROOT,
        env=workbook_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    started = time.monotonic()
    lines: list[str] = []
    try:
        for raw in run.stdout:
            lines.append(ANSI.sub("", raw).rstrip("\n"))
            if lines[-1] == STORYLINE[-1] or time.monotonic() - started > 15:
                break
        elapsed = time.monotonic() - started
    finally:
        subprocess.run([DAPR, "stop", "-f", "."], cwd=ROOT, env=workbook_env(), timeout=60)
        run.communicate(timeout=60)
        stopped = make("stop")
    assert elapsed <= 15, "\n".join(lines)
    assert [line for line in lines if line in STORYLINE] == STORYLINE, "\n".join(lines)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert_nothing_left(was_running)


def test_make_run_uses_the_real_cli_and_ends_by_itself():
    was_running = all(port_in_use(port) for port in CONTROL_PLANE_PORTS)
    result = make("run")
    out = ANSI.sub("", result.stdout)
    assert result.returncode == 0, out + result.stderr
    lines = out.splitlines()
    assert any(
        line.startswith("[workbook] the Dapr CLI 1.18.") and "the quickstart runs under it" in line
        for line in lines
    ), out
    assert [line for line in lines if line in STORYLINE] == STORYLINE, out
    assert "[workbook] job-scheduler is done: dapr stop -f " + str(ROOT) in lines
    assert lines[-1] == "[workbook] everything stopped"
    assert_nothing_left(was_running)
