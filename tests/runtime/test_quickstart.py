"""The droid quickstart exactly as `make run` runs it: every line of the storyline, in order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from workbook.config import ROOT
from workbook.lessons.lab import jobs_left
from workbook.runtime.processes import port_in_use


def run_quickstart() -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        ["workbook", "run", "-f", ".", "--exit-with", "job-scheduler"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def app_lines(output: str, app_id: str) -> list[str]:
    prefix = f"== APP - {app_id} == "
    return [line.removeprefix(prefix) for line in output.splitlines() if line.startswith(prefix)]


def test_droid_storyline():
    result = run_quickstart()
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout

    service = app_lines(out, "job-service")
    assert service == [
        "Received job request...",
        "Starting droid: R2-D2",
        "Executing maintenance job: Oil Change",
        "Received job request...",
        "Starting droid: C-3PO",
        "Executing maintenance job: Limb Calibration",
    ]

    scheduler = app_lines(out, "job-scheduler")
    details = [line for line in scheduler if line.startswith("Job details: ")]
    assert [line for line in scheduler if not line.startswith("Job details: ")] == [
        "Job Scheduled: R2-D2",
        "Job R2-D2 fired; the scheduler removed it",
        "Job Scheduled: C-3PO",
        "Job Scheduled: BB-8",
        "Job Deleted: BB-8",
        "Job BB-8 after delete: no such job (it was never scheduled, was deleted, or has "
        "already fired its last time) (HTTP 500 DAPR_SCHEDULER_GET_JOB)",
        "Job C-3PO fired; the scheduler removed it",
        "All droid jobs done.",
    ]
    assert scheduler.index(details[0]) == scheduler.index("Job Scheduled: C-3PO") + 1
    assert json.loads(details[0].removeprefix("Job details: ")) == {
        "name": "C-3PO",
        "dueTime": "5s",
        "data": {
            "@type": "type.googleapis.com/google.protobuf.Value",
            "value": {"droid": "C-3PO", "task": "Limb Calibration"},
        },
        "failurePolicy": {"constant": {"interval": "1s", "maxRetries": 3}},
    }

    # Each trigger reaches job-service before job-scheduler sees the job gone.
    lines = out.splitlines()
    assert lines.index("== APP - job-service == Starting droid: R2-D2") < lines.index(
        "== APP - job-scheduler == Job R2-D2 fired; the scheduler removed it"
    )
    assert lines.index("== APP - job-service == Starting droid: C-3PO") < lines.index(
        "== APP - job-scheduler == Job C-3PO fired; the scheduler removed it"
    )

    assert out.rstrip().endswith("[workbook] everything stopped")
    for port in (6200, 6280, 6281, 6380, 6381):
        assert not port_in_use(port), f"port {port} still open after the run"


def test_ctrl_c_stops_everything_and_deletes_the_jobs():
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    run = subprocess.Popen(
        ["workbook", "run", "-f", "."],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    seen = []
    for line in run.stdout:  # wait for the storyline to be under way
        seen.append(line)
        if "Job Scheduled: C-3PO" in line:
            break
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    rest, _ = run.communicate(timeout=60)
    out = "".join(seen) + rest
    assert run.returncode == 0, out
    assert "[workbook] stopped job-scheduler" in out
    assert out.rstrip().endswith("[workbook] everything stopped")
    for port in (6200, 6280, 6281, 6380, 6381):
        assert not port_in_use(port), f"port {port} still open after Ctrl-C"
    # job-scheduler deleted its pending jobs on the way out (C-3PO was due in 5 s).
    assert jobs_left("job-service", ["R2-D2", "C-3PO", "BB-8"]) == []
