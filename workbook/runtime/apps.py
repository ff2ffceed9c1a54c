"""job_service with its own sidecar, started from a test or a notebook."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import httpx

from jobs_client import JobsClient
from workbook import config
from workbook.runtime.processes import ManagedProcess, free_port
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_for_count, wait_for_http


def unique_name(prefix: str) -> str:
    """A job name no earlier run used, so runs never collide with leftovers."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class AppWithSidecar:
    """An HTTP app process and its own daprd. The app starts first (until its GET /healthz
    answers 200), then the sidecar, which finds the app on its port; stop() ends both.

    `scheduler` is a Scheduler (the sidecar then needs no placement) or a ControlPlane (the
    sidecar also connects to its placement, as under `dapr run`)."""

    def __init__(
        self,
        scheduler: Scheduler,
        app_id: str,
        command: list[str],
        *,
        app_port: int | None = None,
        label: str | None = None,
        log_dir: Path | None = None,
        **sidecar_options,
    ):
        self.app_id = app_id
        self.app_port = app_port or free_port()
        label = label or app_id  # replicas share an app ID, so their logs need own labels
        log_dir = Path(log_dir or config.STATE_DIR / "logs")
        sidecar_options.setdefault(
            "placement_address", getattr(scheduler, "placement_address", None)
        )
        self.sidecar = Sidecar(
            app_id,
            scheduler_address=scheduler.address,
            app_port=self.app_port,
            log_path=log_dir / f"{label}-daprd.log",
            **sidecar_options,
        )
        self.app = ManagedProcess(
            label,
            command,
            log_path=log_dir / f"{label}-app.log",
            env=self.sidecar.app_env(),
            cwd=config.ROOT,
        )
        self.jobs = JobsClient(self.sidecar.http_url, api_token=sidecar_options.get("api_token"))

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    def start(self, timeout: float = 30):
        try:
            if not self.app.alive():
                self.start_app(timeout)
            if not self.sidecar.process:
                self.start_sidecar(timeout)
        except Exception:
            self.stop()
            raise
        return self

    def start_app(self, timeout: float = 30) -> None:
        """(Re)start only the app process, e.g. after stop_app()."""
        self.app.start()
        wait_for_http(
            f"{self.app_url}/healthz",
            timeout=timeout,
            what=f"{self.app.name} on port {self.app_port}",
        )

    def stop_app(self) -> None:
        self.app.stop()

    def start_sidecar(self, timeout: float = 30) -> None:
        self.sidecar.start(timeout=timeout)

    def stop_sidecar(self) -> None:
        self.sidecar.stop()

    def stop(self) -> None:
        self.jobs.close()
        self.sidecar.stop()
        self.app.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class JobService(AppWithSidecar):
    """The droid app (uvicorn) plus its daprd; every trigger it gets is kept for inspection."""

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        app_id: str | None = None,
        app_port: int | None = None,
        http_port: int | None = None,
        api_token: str | None = None,
        app_api_token: str | None = None,
        log_dir: Path | None = None,
        sidecar_args: list[str] | None = None,
        label: str | None = None,
    ):
        super().__init__(
            scheduler,
            app_id or unique_name("job-service"),
            [sys.executable, "-m", "job_service"],
            app_port=app_port,
            label=label,
            log_dir=log_dir,
            http_port=http_port,
            api_token=api_token,
            app_api_token=app_api_token,
            extra_args=sidecar_args,
        )

    def received(self, name: str | None = None) -> list[dict]:
        """Triggers the app got so far (of one job if `name`), oldest first."""
        params = {"name": name} if name else {}
        return httpx.get(f"{self.app_url}/received", params=params, timeout=5).json()

    def wait_for_trigger(self, name: str, *, count: int = 1, timeout: float = 10) -> list[dict]:
        """Wait until job `name` has reached the app `count` times; return those triggers."""
        return wait_for_count(
            lambda: self.received(name), count, timeout, f"trigger(s) of job {name!r}"
        )
