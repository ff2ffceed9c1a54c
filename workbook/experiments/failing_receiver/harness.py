"""Starting the failing receiver (app.py beside this file) with a sidecar of its own app ID.

with FailingReceiver(scheduler) as receiver:
    receiver.jobs.schedule(name, due_time="1s", data={"answer": 500})
    receiver.settle(name)                 # job gone from the scheduler, fence arrived
    receiver.deliveries(name)             # [{"at": ..., "status": 500, ...}, ...]
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import httpx

# Notebook 04 prints the app's _do_work; re-exported so that import keeps working.
from workbook.experiments.failing_receiver.app import _do_work  # noqa: F401
from workbook.runtime.apps import AppWithSidecar, unique_name
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.waiting import wait_for_count, wait_until

APP_MODULE = "workbook.experiments.failing_receiver.app"


def gaps(deliveries: list[dict]) -> list[float]:
    """Seconds between one delivery and the next."""
    return [b["at"] - a["at"] for a, b in itertools.pairwise(deliveries)]


class FailingReceiver(AppWithSidecar):
    """The failing app plus its own daprd (a fresh app ID), and the waits that go with it."""

    def __init__(
        self, scheduler: Scheduler, *, app_id: str | None = None, log_dir: Path | None = None
    ):
        super().__init__(
            scheduler,
            app_id or unique_name("failing-receiver"),
            [sys.executable, "-m", APP_MODULE],
            log_dir=log_dir,
        )
        self.http = httpx.Client(base_url=self.app_url, timeout=10)

    def healthy(self) -> bool:
        return self.app.alive() and self.sidecar.process is not None and self.sidecar.healthy()

    def deliveries(self, name: str) -> list[dict]:
        """Every delivery of job `name` so far, oldest first."""
        return self.http.get("/deliveries", params={"name": name}).json()

    def work_runs(self, name: str) -> int:
        return self.http.get("/work", params={"name": name}).json()["runs"]

    def release(self, name: str, status: int = 200) -> None:
        """Let the hanging handlers of job `name` answer `status` (now and from now on)."""
        self.http.post("/release", params={"name": name, "status": status})

    def wait_for_deliveries(self, name: str, count: int, timeout: float = 30) -> list[dict]:
        return wait_for_count(
            lambda: self.deliveries(name), count, timeout, f"deliveries of job {name!r}"
        )

    def wait_gone(self, name: str, timeout: float = 30) -> float:
        """Wait until the scheduler no longer holds job `name` (GET -> DAPR_SCHEDULER_GET_JOB);
        return the time it was first seen gone."""
        wait_until(
            lambda: not self.jobs.exists(name),
            timeout=timeout,
            what=f"job {name!r} to be gone from the scheduler",
        )
        return time.time()

    def fence(self, due: str = "1500ms", timeout: float = 30) -> str:
        """Schedule a job that answers 200 and wait for its trigger: everything the sidecar had
        to deliver before it has had time to arrive. Returns the fence job's name."""
        name = unique_name("fence")
        self.jobs.schedule(name, due_time=due, data={"answer": 200})
        self.wait_for_deliveries(name, 1, timeout=timeout)
        self.wait_gone(name, timeout=timeout)
        return name

    def settle(self, *names: str, timeout: float = 60, fence_due: str = "1500ms") -> list[dict]:
        """Wait until no more deliveries of these jobs can come: each is gone from the
        scheduler, then a fence job due later has arrived. Returns all their deliveries."""
        for name in names:
            self.wait_gone(name, timeout=timeout)
        self.fence(fence_due, timeout=timeout)
        return [d for name in names for d in self.deliveries(name)]

    def stop(self) -> None:
        self.http.close()
        super().stop()
