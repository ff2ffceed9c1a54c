"""A gRPC app that receives job triggers through dapr-ext-grpc, and the helpers to run it.

The app (run as
`python -m workbook.experiments.grpc_receiver.harness --port P --record FILE JOB [JOB ...]`) is the
seeds' database-backup service: `@app.job_event(name)` handlers, one per job name, because
dapr-ext-grpc routes job events by exact name. Every call is written to a JSON-lines file:

- a "wire" record per OnJobEvent call, read by a gRPC server interceptor: the job name, the
  `Any`'s type URL and raw value bytes, and whether the handler succeeded;
- a "handler" record per handled event: what the SDK hands the handler (`JobEvent.data`).

`GrpcJobApp` starts the app with its own daprd (app protocol gRPC) and reads that file back;
`dapr_client(sidecar)` opens the Python SDK's DaprClient on a sidecar's gRPC port.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc

from workbook import config
from workbook.runtime.apps import unique_name
from workbook.runtime.processes import ManagedProcess, free_port, port_in_use
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_until

JOB_EVENT_METHODS = (
    "/dapr.proto.runtime.v1.AppCallback/OnJobEvent",
    "/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1",
)


# --- the app -------------------------------------------------------------------------------


class Recorder:
    """Appends one JSON object per line; flushed at once so readers see it immediately."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, record: dict) -> None:
        with self._lock, self.path.open("a") as out:
            out.write(json.dumps(record) + "\n")


class WireRecorder(grpc.ServerInterceptor):
    """Records each job event as it arrived on the wire, before the SDK unwraps it."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method not in JOB_EVENT_METHODS or not handler.unary_unary:
            return handler
        inner = handler.unary_unary

        def record_and_call(request, context):
            record = {
                "kind": "wire",
                "rpc": method.rsplit("/", 1)[1],
                "name": request.name,
                "received_at": time.time(),
                "type_url": request.data.type_url,
                "content_type": request.content_type,
                "method": request.method,
                "value_b64": base64.b64encode(request.data.value).decode(),
            }
            try:
                response = inner(request, context)
            except Exception as error:
                self.recorder.write(record | {"outcome": f"error: {error}"})
                raise
            self.recorder.write(record | {"outcome": "ok"})
            return response

        return grpc.unary_unary_rpc_method_handler(
            record_and_call,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def build_app(job_names: list[str], recorder: Recorder):
    """The dapr-ext-grpc App with one job_event handler per name."""
    from dapr.ext.grpc import App, JobEvent

    app = App(
        thread_pool=futures.ThreadPoolExecutor(max_workers=10),
        interceptors=[WireRecorder(recorder)],
    )

    def handle(event: JobEvent) -> None:
        arrived = time.time()
        text = event.data.decode(errors="replace")
        try:
            payload = json.loads(event.data)
        except ValueError:
            payload = None
        recorder.write(
            {
                "kind": "handler",
                "name": event.name,
                "received_at": arrived,
                "data_b64": base64.b64encode(event.data).decode(),
                "data_text": text,
                "json": payload,
            }
        )
        if isinstance(payload, dict) and isinstance(payload.get("metadata"), dict):
            meta = payload["metadata"]
            print(
                f"{payload.get('task')}: backing up {meta.get('DBName')} "
                f"to {meta.get('BackupLocation')}",
                flush=True,
            )
        else:
            print(f"job {event.name}: {len(event.data)} bytes of data", flush=True)

    for name in job_names:
        app.job_event(name)(handle)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="gRPC app receiving Dapr job events")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("jobs", nargs="+", help="job names to handle (exact names)")
    args = parser.parse_args(argv)
    app = build_app(args.jobs, Recorder(args.record))
    print(f"gRPC app listening on 127.0.0.1:{args.port} for jobs {args.jobs}", flush=True)
    app.run(args.port, listen_address="127.0.0.1")


# --- running it ----------------------------------------------------------------------------


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
                "workbook.experiments.grpc_receiver.harness",
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
        try:
            lines = self.record_path.read_text().splitlines()
        except FileNotFoundError:
            return []
        found = [json.loads(line) for line in lines if line.strip()]
        return [r for r in found if r["kind"] == kind and (name is None or r["name"] == name)]

    def received(self, name: str | None = None) -> list[dict]:
        """What the handlers got (JobEvent.data), oldest first."""
        return self.records("handler", name)

    def wire(self, name: str | None = None) -> list[dict]:
        """Every OnJobEvent call as it arrived (type URL, raw bytes, outcome), oldest first."""
        return self.records("wire", name)

    def wait_for_trigger(self, name: str, *, count: int = 1, timeout: float = 10) -> list[dict]:
        return wait_until(
            lambda: (got := self.received(name)) and len(got) >= count and got,
            timeout=timeout,
            what=f"{count} trigger(s) of job {name!r} (gRPC)",
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


if __name__ == "__main__":
    main()
