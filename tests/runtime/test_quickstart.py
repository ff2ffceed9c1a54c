"""The droid quickstart exactly as `make run` runs it without the Dapr CLI: every line of the
storyline, in order; Ctrl-C stops everything and job-scheduler says plainly what it left."""

from __future__ import annotations

import json
import os
import signal
import subprocess

from run_helpers import (
    DROID_JOBS,
    assert_ports_free,
    read_until,
    remove_jobs,
    start_run,
    workbook_env,
)

from workbook.config import ROOT


def run_quickstart() -> subprocess.CompletedProcess:
    return subprocess.run(
        ["workbook", "quickstart", "--stand-in"],
        cwd=ROOT,
        env=workbook_env(),
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
    # The route, then the end in the CLI's order: per app, daprd first, then the app.
    runner = [line for line in lines if line.startswith("[workbook] ")]
    assert runner[0] == (
        "[workbook] no Dapr CLI 1.18 on PATH: workbook run -f . --exit-with job-scheduler "
        "(the stand-in)"
    )
    assert runner[-5:] == [
        "[workbook] Exited App successfully: job-scheduler",
        "[workbook] Exited Dapr successfully: job-service",
        "[workbook] Exited App successfully: job-service",
        "[workbook] Exited Dapr successfully: job-scheduler",
        "[workbook] everything stopped",
    ]
    assert_ports_free()


def test_ctrl_c_stops_everything_and_says_which_job_was_left():
    run = start_run("-f", ".")
    # Interrupted once BB-8 is deleted and before C-3PO (due 5 s later) fires: exactly one job
    # is pending. (Interrupted right after "Job Scheduled: C-3PO", BB-8 may be scheduled but
    # not yet deleted, and then two are left, correctly said.)
    seen = read_until(run, "Job BB-8 after delete: ")
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    rest, _ = run.communicate(timeout=60)
    out = "".join(seen) + rest
    assert run.returncode == 0, out
    lines = out.splitlines()
    stopping = lines.index(
        "[workbook] Received signal to stop Dapr and app processes. Shutting down."
    )
    # job-service's sidecar is stopped first (as `dapr run -f` does): C-3PO, scheduled through
    # it, cannot be deleted any more, and job-scheduler says so instead of failing silently.
    assert lines[stopping + 1 :].count("[workbook] Exited Dapr successfully: job-service") == 1
    # (Usually "its sidecar was already stopped"; the sidecar's error if it was mid-shutdown.)
    left = [line for line in lines if "== APP - job-scheduler == Left job " in line]
    assert [line.split(" on the scheduler: ")[0] for line in left] == [
        "== APP - job-scheduler == Left job C-3PO"
    ]
    assert "Traceback" not in out
    assert out.rstrip().endswith("[workbook] everything stopped")
    assert_ports_free()
    # What it said is what the scheduler holds; removed here so the next run starts clean.
    assert remove_jobs("job-service", DROID_JOBS) == ["C-3PO"]
