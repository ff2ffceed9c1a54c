"""Running the gRPC backup app (app.py beside this file) with its own daprd, and the SDK client.

`GrpcJobApp` starts the app with its own daprd (app protocol gRPC) and reads back what the
app's trigger store mirrored to a JSON-lines file; `dapr_client(sidecar)` opens the Python
SDK's DaprClient on a sidecar's gRPC port.
"""

from __future__ import annotations

import sys
from pathlib import Path

from workbook import config
from workbook.experiments._shared.trigger_store import read_mirror

# Notebook 06 prints the app's build_app; re-exported so that import keeps working.
from workbook.experiments.grpc_receiver.app import build_app  # noqa: F401
from workbook.runtime.apps import unique_name
from workbook.runtime.processes import ManagedProcess, free_port, port_in_use
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_for_count, wait_until

APP_MODULE = "workbook.experiments.grpc_receiver.app"


def dapr_client(sidecar: Sidecar):
    """The Python SDK's DaprClient on this sidecar's gRPC port.

    DaprClient(address=...) is not enough on its own: its constructor first polls the HTTP
    health endpoint of the sidecar named by the SDK settings (DAPR_HTTP_ENDPOINT, or
    DAPR_HTTP_PORT, default 3500) for up to DAPR_HEALTH_TIMEOUT (60 s). Point it at ours.
    """
    from dapr.clients import DaprClient
    from dapr.conf import settings

    settings.DAPR_HTTP_ENDPOINT = sidecar.http_url
    return DaprClient(address=sidecar.grpc_address)


class GrpcJobApp:
    """The gRPC backup app plus its daprd (--app-protocol grpc), for notebooks and tests."""

    def __init__(
        self,
        scheduler: Scheduler,
        job_names: list[str],
        *,
        app_id: str | None = None,
        log_dir: Path | None = None,
    ):
        self.app_id = app_id or unique_name("backup-grpc")
        self.job_names = list(job_names)
        self.app_port = free_port()
        log_dir = Path(log_dir or config.STATE_DIR / "logs")
        self.record_path = log_dir / f"{self.app_id}-received.jsonl"
        self.record_path.unlink(missing_ok=True)
        self.sidecar = Sidecar(
            self.app_id,
            scheduler_address=scheduler.address,
            app_port=self.app_port,
            app_protocol="grpc",
            log_path=log_dir / f"{self.app_id}-daprd.log",
        )
        self.app = ManagedProcess(
            self.app_id,
            [
                sys.executable,
                "-m",
                APP_MODULE,
                "--port",
                str(self.app_port),
                "--record",
                str(self.record_path),
                *self.job_names,
            ],
            log_path=log_dir / f"{self.app_id}-app.log",
            env=self.sidecar.app_env(),
            cwd=config.ROOT,
        )

    def start(self, timeout: float = 30) -> GrpcJobApp:
        if not self.app.alive():
            self.app.start()
            self.app.wait_for_log("listening", timeout=timeout)
            wait_until(
                lambda: port_in_use(self.app_port),
                timeout=timeout,
                what=f"the gRPC app on port {self.app_port}",
            )
        if not self.sidecar.process:
            self.sidecar.start(timeout=timeout)
        return self

    def client(self):
        """A DaprClient on this app's sidecar: jobs scheduled through it belong to this app."""
        return dapr_client(self.sidecar)

    def records(self, kind: str, name: str | None = None) -> list[dict]:
        found = read_mirror(self.record_path)
        return [r for r in found if r["kind"] == kind and (name is None or r["name"] == name)]

    def received(self, name: str | None = None) -> list[dict]:
        """What the handlers got (JobEvent.data), oldest first."""
        return self.records("handler", name)

    def wire(self, name: str | None = None) -> list[dict]:
        """Every OnJobEvent call as it arrived (type URL, raw bytes, outcome), oldest first."""
        return self.records("wire", name)

    def wait_for_trigger(self, name: str, *, count: int = 1, timeout: float = 10) -> list[dict]:
        return wait_for_count(
            lambda: self.received(name), count, timeout, f"trigger(s) of job {name!r} (gRPC)"
        )

    def delete_jobs(self, also: tuple[str, ...] = ()) -> None:
        """Delete this app's jobs, and the `also` ones scheduled through its sidecar (deleting
        a missing job is fine: the answer is OK for it too)."""
        if not self.sidecar.healthy():
            return
        with self.client() as client:
            for name in [*self.job_names, *also]:
                client.delete_job(name)

    def stop(self, also_delete: tuple[str, ...] = ()) -> None:
        """Delete the jobs (see delete_jobs), then stop the sidecar and the app."""
        self.delete_jobs(also_delete)
        self.sidecar.stop()
        self.app.stop()

    def __enter__(self) -> GrpcJobApp:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
