"""job-scheduler: schedules droid maintenance jobs through the Jobs API, reads one back and
deletes one, then waits until the jobs have fired.

Run it with `workbook run -f .` (or `dapr run -f .` with the Dapr CLI), which starts
job-service and both sidecars. `python -m job_scheduler` works too if job-service's sidecar is up.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import httpx

from jobs_client import DaprError, JobsClient

# Jobs fire at the app whose sidecar scheduled them. job-service must receive the triggers,
# so this app schedules through job-service's sidecar, not through its own. On Kubernetes that
# sidecar is in another pod: JOB_SERVICE_DAPR_URL names it (k8s/apps/job-scheduler.yaml).
SIDECAR = os.environ.get("JOB_SERVICE_DAPR_URL") or (
    f"http://127.0.0.1:{os.environ.get('JOB_SERVICE_DAPR_HTTP_PORT', '6280')}"
)
API_TOKEN = os.environ.get("DAPR_API_TOKEN")  # only if the sidecar was started with one

R2D2 = {"droid": "R2-D2", "task": "Oil Change"}
C3PO = {"droid": "C-3PO", "task": "Limb Calibration"}
BB8 = {"droid": "BB-8", "task": "Gyro Alignment"}
# C-3PO is due 5 s after it is scheduled (the older quickstart used 30 s): long enough to read
# it back and show a delete first, short enough that nobody waits for nothing.
C3PO_DUE = os.environ.get("C3PO_DUE", "5s")
WAIT_LIMIT_S = 60


def say(line: str) -> None:
    print(line, flush=True)


def wait_for_sidecar(timeout: float = WAIT_LIMIT_S) -> None:
    """Poll the sidecar's health endpoint until it answers 204."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{SIDECAR}/v1.0/healthz", timeout=1).status_code == 204:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"job-service's sidecar at {SIDECAR} did not become healthy in {timeout} s")
        time.sleep(0.1)


def wait_until_fired(jobs: JobsClient, name: str, timeout: float = WAIT_LIMIT_S) -> None:
    """A one-shot job is deleted once its trigger is delivered: wait until it is gone."""
    deadline = time.monotonic() + timeout
    while jobs.exists(name):
        if time.monotonic() > deadline:
            sys.exit(f"job {name} did not fire within {timeout} s")
        time.sleep(0.1)


# Jobs this run has scheduled and that have neither fired nor been deleted yet.
pending: set[str] = set()


def schedule(jobs: JobsClient, name: str, due: str, data: dict) -> None:
    # Counted as pending before the call: stopped while the call is on the wire, the job may
    # exist already. (Deleting a job that does not exist answers 204, so nothing is lost.)
    pending.add(name)
    jobs.schedule(name, due_time=due, data=data)
    say(f"Job Scheduled: {name}")


def storyline(jobs: JobsClient) -> None:
    schedule(jobs, "R2-D2", "2s", R2D2)
    wait_until_fired(jobs, "R2-D2")
    pending.discard("R2-D2")
    say("Job R2-D2 fired; the scheduler removed it")

    schedule(jobs, "C-3PO", C3PO_DUE, C3PO)
    details = jobs.http.get("C-3PO")  # the raw JSON the sidecar returns
    say(f"Job details: {details.text}")

    schedule(jobs, "BB-8", "60s", BB8)
    jobs.delete("BB-8")
    pending.discard("BB-8")
    say("Job Deleted: BB-8")
    try:
        jobs.get("BB-8")
        say("Job BB-8 is still there (unexpected)")
    except DaprError as error:
        say(
            f"Job BB-8 after delete: {error.plain_words()} (HTTP {error.status} {error.error_code})"
        )

    wait_until_fired(jobs, "C-3PO")
    pending.discard("C-3PO")
    say("Job C-3PO fired; the scheduler removed it")


def delete_left_by_earlier_run(jobs: JobsClient) -> None:
    """A job an interrupted run left would answer 409 when scheduled again: delete it first."""
    for name in ("R2-D2", "C-3PO", "BB-8"):
        if jobs.exists(name):
            jobs.delete(name)
            say(f"Deleted job {name}, left by an earlier run")


def clean_up_on_the_way_out() -> None:
    """Stopped early: delete what is still scheduled, or say plainly which job is left.

    `dapr run -f` (and `workbook run`) stops each sidecar before its app, and this app
    schedules through job-service's sidecar, which may already be gone."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)  # a second signal must not cut the clean-up short
    with JobsClient(SIDECAR, api_token=API_TOKEN, timeout=2) as jobs:
        for name in sorted(pending):
            try:
                jobs.delete(name)
                say(f"Deleted job {name} on the way out")
            except httpx.TransportError:
                say(f"Left job {name} on the scheduler: its sidecar was already stopped")
            except DaprError as error:
                say(f"Left job {name} on the scheduler: {error}")
    pending.clear()


def main() -> int:
    # Stopped by `workbook stop`, `dapr stop` or Ctrl-C: exit through `finally`, cleaning up.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    wait_for_sidecar()
    try:
        with JobsClient(SIDECAR, api_token=API_TOKEN) as jobs:
            delete_left_by_earlier_run(jobs)
            storyline(jobs)
    except DaprError as error:
        say(f"Error: {error}")
        return 1
    except httpx.TransportError as error:
        say(f"job-service's sidecar at {SIDECAR} went away ({error}): stopping")
        return 1
    finally:
        if pending:
            clean_up_on_the_way_out()
    say("All droid jobs done.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
