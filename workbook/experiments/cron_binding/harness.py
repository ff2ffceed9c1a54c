"""The daily clean-up done two ways: a cron input binding (a component in YAML) and a job.

- `write_cron_component(folder, name, schedule)` writes a `bindings.cron` component file into
  a resources folder that daprd loads with --resources-path.
- `CleanupReplica` is one replica of the clean-up app (app.py beside this file) with its own
  daprd; start two with the same app ID to see who fires where.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from workbook.runtime.apps import AppWithSidecar
from workbook.runtime.processes import free_port
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.waiting import wait_for_count

APP_MODULE = "workbook.experiments.cron_binding.app"
COMPONENT = """\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: bindings.cron
  version: v1
  metadata:
  - name: schedule
    value: "{schedule}"
"""


def write_cron_component(folder: Path, name: str, schedule: str) -> Path:
    """Write (or rewrite) the cron binding `name` into the resources folder; return the file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(COMPONENT.format(name=name, schedule=schedule))
    return path


class CleanupReplica(AppWithSidecar):
    """One instance of the clean-up app with its sidecar; replicas share the app ID."""

    def __init__(
        self,
        scheduler: Scheduler,
        app_id: str,
        *,
        replica: str,
        resources_path: Path,
        log_dir: Path | None = None,
    ):
        port = free_port()
        super().__init__(
            scheduler,
            app_id,
            [sys.executable, "-m", APP_MODULE, "--port", str(port), "--replica", replica],
            app_port=port,
            label=f"{app_id}-{replica}",
            log_dir=log_dir,
            resources_path=resources_path,
        )
        self.replica = replica
        self.sidecar_started_at: float | None = None

    def start_sidecar(self, timeout: float = 30) -> None:
        self.sidecar_started_at = time.time()
        super().start_sidecar(timeout)

    def received(
        self, kind: str | None = None, name: str | None = None, method: str = "POST"
    ) -> list[dict]:
        """Requests the app got (binding events and job triggers), oldest first."""
        got = httpx.get(f"{self.app_url}/received", timeout=5).json()
        return [
            r
            for r in got
            if (kind is None or r["kind"] == kind)
            and (name is None or r["name"] == name)
            and r["method"] == method
        ]

    def wait_for(
        self, kind: str, name: str, *, count: int = 1, timeout: float = 10, after: float = 0
    ) -> list[dict]:
        """Wait until `count` requests of this kind and name arrived after time `after`."""
        return wait_for_count(
            lambda: [r for r in self.received(kind, name) if r["received_at"] > after],
            count,
            timeout,
            f"{kind} call(s) of {name!r} at replica {self.replica}",
        )


def received_by_all(replicas: list[CleanupReplica], kind: str, name: str) -> list[dict]:
    """Every replica's POSTs of one kind and name, merged and sorted by arrival."""
    merged = [r for rep in replicas for r in rep.received(kind, name)]
    return sorted(merged, key=lambda r: r["received_at"])
