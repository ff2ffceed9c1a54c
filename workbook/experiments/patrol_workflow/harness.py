"""The patrol workflow's worker (app.py beside this file) with its own sidecar.

A workflow needs what actors need (placement, an actor state store: the workflow engine runs
on internal actors) and a worker connected to the sidecar's gRPC port; it has no app port.

    patrol = PatrolWorkflow(plane, resources_path=write_actor_store(folder)).start()
    httpx.post(patrol.start_url("patrol-1"), json={"seconds": 2})
    patrol.wait_for_status("patrol-1", "COMPLETED")
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from workbook import config
from workbook.runtime.apps import unique_name
from workbook.runtime.controlplane import ControlPlane
from workbook.runtime.processes import ManagedProcess
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_until

APP_MODULE = "workbook.experiments.patrol_workflow.app"
WORKFLOW = "patrol"


class PatrolWorkflow:
    """A sidecar (connected to a ControlPlane) and the workflow worker that uses it."""

    def __init__(
        self,
        plane: ControlPlane,
        *,
        resources_path: Path,
        app_id: str | None = None,
        log_dir: Path | None = None,
    ):
        self.app_id = app_id or unique_name("patrol")
        log_dir = Path(log_dir or config.STATE_DIR / "logs")
        self.sidecar = Sidecar(
            self.app_id,
            scheduler_address=plane.scheduler_address,
            placement_address=plane.placement_address,
            resources_path=resources_path,
            log_path=log_dir / f"{self.app_id}-daprd.log",
        )
        self.worker = ManagedProcess(
            f"{self.app_id}-worker",
            [sys.executable, "-m", APP_MODULE],
            log_path=log_dir / f"{self.app_id}-worker.log",
            env=self.sidecar.app_env(),
            cwd=config.ROOT,
        )

    @property
    def api(self) -> str:
        return f"{self.sidecar.http_url}/v1.0/workflows/dapr"

    def start_url(self, instance: str) -> str:
        return f"{self.api}/{WORKFLOW}/start?instanceID={instance}"

    def status_url(self, instance: str) -> str:
        return f"{self.api}/{instance}"

    def status(self, instance: str) -> dict:
        return httpx.get(self.status_url(instance), timeout=10).json()

    def wait_for_status(self, instance: str, wanted: str, timeout: float = 30) -> dict:
        return wait_until(
            lambda: (got := self.status(instance)).get("runtimeStatus") == wanted and got,
            timeout=timeout,
            what=f"workflow {instance} to be {wanted}",
        )

    def start(self, timeout: float = 30) -> PatrolWorkflow:
        try:
            self.sidecar.start(timeout)
            self.worker.start()
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.worker.stop()
        self.sidecar.stop()

    def __enter__(self) -> PatrolWorkflow:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
