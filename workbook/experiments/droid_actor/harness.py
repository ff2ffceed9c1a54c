"""The droid actor (app.py beside this file) with its sidecar, placement and a state store.

Actors need three things a Jobs-only sidecar does not: placement (which sidecar hosts which
actor), an actor state store (a state component with `actorStateStore: "true"`), and an app
that answers GET /dapr/config with its actor types. Reminders then live in the scheduler,
beside the jobs; timers live only in the sidecar that hosts the actor.

    plane = ControlPlane.isolated().start()            # scheduler + placement
    droid = DroidActor(plane, resources_path=write_actor_store(folder)).start()
    droid.reminder_url("R2-D2", "oil")                   # the sidecar's reminder endpoint
    droid.wait_for("reminder", "oil", count=2)           # what the app received
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from workbook.experiments.droid_actor.app import ACTOR_TYPE
from workbook.runtime.apps import AppWithSidecar, unique_name
from workbook.runtime.controlplane import ControlPlane
from workbook.runtime.processes import free_port
from workbook.runtime.waiting import wait_for_count

APP_MODULE = "workbook.experiments.droid_actor.app"
STORE = """\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: state.in-memory
  version: v1
  metadata:
  - name: actorStateStore
    value: "true"
"""


def write_actor_store(folder: Path, name: str = "actorstore") -> Path:
    """A resources folder holding an in-memory actor state store; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(STORE.format(name=name))
    return folder


class DroidActor(AppWithSidecar):
    """The actor app and its daprd, connected to a ControlPlane's scheduler and placement."""

    actor_type = ACTOR_TYPE

    def __init__(
        self,
        plane: ControlPlane,
        *,
        resources_path: Path,
        app_id: str | None = None,
        log_dir: Path | None = None,
        **sidecar_options,
    ):
        port = free_port()
        super().__init__(
            plane,
            app_id or unique_name("droid-actor"),
            [sys.executable, "-m", APP_MODULE],
            app_port=port,
            log_dir=log_dir,
            resources_path=resources_path,
            **sidecar_options,
        )

    def actor_url(self, actor_id: str) -> str:
        return f"{self.sidecar.http_url}/v1.0/actors/{self.actor_type}/{actor_id}"

    def reminder_url(self, actor_id: str, name: str) -> str:
        return f"{self.actor_url(actor_id)}/reminders/{name}"

    def timer_url(self, actor_id: str, name: str) -> str:
        return f"{self.actor_url(actor_id)}/timers/{name}"

    def received(self, kind: str | None = None, name: str | None = None) -> list[dict]:
        """What the app got (reminders, timers, method calls), oldest first."""
        params = {k: v for k, v in (("kind", kind), ("name", name)) if v is not None}
        return httpx.get(f"{self.app_url}/received", params=params, timeout=5).json()

    def wait_for(self, kind: str, name: str, *, count: int = 1, timeout: float = 15) -> list:
        """Wait until the app has received `count` calls of this kind and name."""
        return wait_for_count(
            lambda: self.received(kind, name), count, timeout, f"{kind} {name!r} deliveries"
        )

    def fail_next(self, name: str, times: int) -> None:
        """Make the next `times` deliveries of reminder or timer `name` answer 500."""
        httpx.post(f"{self.app_url}/fail/{name}", params={"times": times}, timeout=5)
