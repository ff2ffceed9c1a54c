"""What the notebooks use: one call sets up a scheduler and job_service with its sidecar, one
call tears down everything it started and deletes the jobs it named.

    import workbook.lessons.lab as lab
    wb = lab.start()              # idempotent: run the cell again and get the same set-up
    name = wb.name("r2d2")        # a unique job name, deleted at clean-up
    wb.jobs.schedule(name, due_time="1s", data={...})
    wb.wait_for_trigger(name)
    lab.cleanup()                 # the last cell of every notebook
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field

import httpx

from jobs_client import JobsClient
from workbook.runtime.apps import JobService, unique_name
from workbook.runtime.grpc_listing import GrpcJobs, ListingError
from workbook.runtime.processes import stop_all
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar


@dataclass
class Lab:
    scheduler: Scheduler
    service: JobService
    names: list[str] = field(default_factory=list)
    # What exercises and demonstrations started besides job_service (their own apps and
    # sidecars): clean-up calls each, newest first.
    closers: list = field(default_factory=list)

    @property
    def jobs(self):
        """The Jobs API client (jobs_client.JobsClient) of job_service's sidecar."""
        return self.service.jobs

    @property
    def api(self) -> httpx.Client:
        """Raw HTTP to the sidecar's Jobs API, to look at status codes and bodies."""
        return self.service.jobs.http

    @property
    def sidecar_url(self) -> str:
        return self.service.sidecar.http_url

    def name(self, prefix: str) -> str:
        """A job name unique to this run; clean-up deletes it."""
        self.names.append(unique_name(prefix))
        return self.names[-1]

    def on_cleanup(self, close) -> None:
        """Call `close()` at clean-up (for an app or sidecar a lesson started itself)."""
        self.closers.append(close)

    def wait_for_trigger(self, name: str, *, count: int = 1, timeout: float = 10) -> list[dict]:
        return self.service.wait_for_trigger(name, count=count, timeout=timeout)

    def received(self, name: str | None = None) -> list[dict]:
        return self.service.received(name)

    def healthy(self) -> bool:
        return self.service.app.alive() and self.service.sidecar.healthy()

    def sdk_client(self):
        """A Python SDK DaprClient (gRPC) connected to job_service's sidecar."""
        from workbook.experiments.grpc_receiver.harness import dapr_client

        return dapr_client(self.service.sidecar)


_current: Lab | None = None
# Set by the test harness to give each notebook run a scheduler of its own (a JSON object of
# Scheduler port names); a learner's lab uses the default ports, reusing a running scheduler.
SCHEDULER_PORTS_ENV = "WORKBOOK_SCHEDULER_PORTS"


def lab_scheduler() -> Scheduler:
    """The scheduler the lab talks to: the one named in WORKBOOK_SCHEDULER_PORTS, else the
    default one (`make lab` and `make scheduler` start it; a running one is reused)."""
    return Scheduler(**json.loads(os.environ.get(SCHEDULER_PORTS_ENV) or "{}"))


# What the last clean-up deleted: {"app_id": ..., "names": [...]}, for checks after a notebook.
last_cleanup: dict = {}


def start(app_id: str = "workbook-lab") -> Lab:
    """Scheduler (a running one is reused) and job_service with its sidecar; idempotent."""
    global _current
    if _current and _current.healthy():
        return _current
    if _current:
        cleanup()
    scheduler = lab_scheduler().start()
    service = JobService(scheduler, app_id=unique_name(app_id)).start()
    _current = Lab(scheduler, service)
    print(
        f"scheduler {'reused' if scheduler.reused else 'started'} at {scheduler.address}; "
        f"job_service '{service.app_id}' on port {service.app_port}, "
        f"its sidecar at {service.sidecar.http_url}"
    )
    return _current


def cleanup() -> None:
    """Delete the jobs of this lab's app ID, stop what it started; safe to call any time."""
    global _current, last_cleanup
    lab, _current = _current, None
    if lab:
        last_cleanup = {"app_id": lab.service.app_id, "names": list(lab.names)}
        for close in reversed(lab.closers):
            with contextlib.suppress(Exception):  # clean-up goes on whatever one of them did
                close()
        # Every job of the lab's app ID (unique to this lab), named through wb.name() or not:
        # one DeleteJobsByPrefix call; if that fails, the named jobs one by one over HTTP.
        try:
            with GrpcJobs(lab.service.sidecar.grpc_address, timeout=5) as grpc_jobs:
                grpc_jobs.delete_all()
        except ListingError:
            for name in lab.names:
                # If the sidecar is already gone the job stays; tests catch that (jobs_left()).
                with contextlib.suppress(httpx.HTTPError):
                    lab.jobs.delete(name)
        lab.service.stop()
        lab.scheduler.stop()
    stop_all()
    print(f"cleaned up: {len(lab.names) if lab else 0} job names deleted, processes stopped")


def jobs_left(app_id: str, names: list[str]) -> list[str]:
    """Which of these jobs of `app_id` the scheduler still holds (asked through a fresh sidecar
    with that app ID, since jobs belong to an app ID)."""
    scheduler = lab_scheduler().start()
    try:
        with (
            Sidecar(app_id, scheduler_address=scheduler.address) as sidecar,
            JobsClient(sidecar.http_url) as client,
        ):
            return [name for name in names if client.exists(name)]
    finally:
        scheduler.stop()


def show(response: httpx.Response) -> None:
    """Print an HTTP exchange the way a learner wants to read it."""
    request = response.request
    print(f"{request.method} {request.url.path} -> {response.status_code} {response.reason_phrase}")
    if response.content:
        try:
            print(json.dumps(response.json(), indent=2))
        except ValueError:
            print(response.text)
