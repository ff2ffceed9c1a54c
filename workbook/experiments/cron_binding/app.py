"""The daily clean-up done two ways: a cron input binding (a component in YAML) and a job.

- `write_cron_component(folder, name, schedule)` writes a `bindings.cron` component file into
  a resources folder that daprd loads with --resources-path.
- The clean-up app (run as
  `python -m workbook.experiments.cron_binding.harness --port P --replica R`) answers both: the
  binding calls `POST /<binding name>` (after an `OPTIONS` probe at start-up), a job calls
  `POST /job/<job name>`. It keeps every request for `GET /received`.
- `CleanupReplica` is one replica of that app with its own daprd; start two with the same app
  ID to see who fires where.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response

from workbook.runtime.apps import AppWithSidecar
from workbook.runtime.processes import free_port
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.waiting import wait_until

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


# --- the clean-up app ----------------------------------------------------------------------

app = FastAPI(title="cleanup-app")
_lock = threading.Lock()
_received: list[dict] = []


def _replica() -> str:
    return app.state.replica if hasattr(app.state, "replica") else "?"


async def _remember(kind: str, name: str, request: Request) -> Response:
    record = {
        "kind": kind,
        "name": name,
        "method": request.method,
        "received_at": time.time(),
        "replica": _replica(),
        "body": (await request.body()).decode(errors="replace"),
        "headers": dict(request.headers),
    }
    with _lock:
        _received.append(record)
    if kind == "binding" and request.method == "POST":
        print(f"[{_replica()}] cron binding {name}: cleaning up completed todos", flush=True)
    elif kind == "job":
        print(f"[{_replica()}] job {name}: cleaning up completed todos", flush=True)
    return Response(status_code=200)


@app.post("/job/{name}")
async def job_trigger(name: str, request: Request) -> Response:
    return await _remember("job", name, request)


@app.get("/received")
def received() -> list[dict]:
    with _lock:
        return list(_received)


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok", "replica": _replica()}


@app.api_route("/{binding}", methods=["POST", "OPTIONS"])
async def binding_event(binding: str, request: Request) -> Response:
    """The cron binding's route is the component's name; OPTIONS is daprd's start-up probe."""
    return await _remember("binding", binding, request)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="clean-up app: cron binding and job triggers")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--replica", default="r1")
    args = parser.parse_args(argv)
    app.state.replica = args.replica
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


# --- one replica: the app plus its daprd ---------------------------------------------------


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
            [
                sys.executable,
                "-m",
                "workbook.experiments.cron_binding.harness",
                "--port",
                str(port),
                "--replica",
                replica,
            ],
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

        def enough():
            got = [r for r in self.received(kind, name) if r["received_at"] > after]
            return got if len(got) >= count else None

        return wait_until(
            enough,
            timeout=timeout,
            what=f"{count} {kind} call(s) of {name!r} at replica {self.replica}",
        )


def received_by_all(replicas: list[CleanupReplica], kind: str, name: str) -> list[dict]:
    """Every replica's POSTs of one kind and name, merged and sorted by arrival."""
    merged = [r for rep in replicas for r in rep.received(kind, name)]
    return sorted(merged, key=lambda r: r["received_at"])


if __name__ == "__main__":
    main()
