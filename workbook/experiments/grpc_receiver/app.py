"""A gRPC app that receives job triggers through dapr-ext-grpc: the database-backup service.

Run as `python -m workbook.experiments.grpc_receiver.app --port P --record FILE JOB [JOB ...]`.
`@app.job_event(name)` handlers, one per job name, because dapr-ext-grpc routes job events by
exact name. Every call goes into the experiments' trigger store (bounded, see
workbook.experiments._shared.trigger_store), mirrored to the JSON-lines FILE for the harness:

- a "wire" record per OnJobEvent call, read by a gRPC server interceptor: the job name, the
  `Any`'s type URL and raw value bytes, and whether the handler succeeded;
- a "handler" record per handled event: what the SDK hands the handler (`JobEvent.data`).

The app records whatever data arrives: data that is not JSON (or nests deeper than 32
levels, or has a 5,000-digit number) is recorded with "json": null and its reason. A call the
app cannot take (a job name without a handler) is answered with its gRPC status and one log
line, never a traceback.
"""

from __future__ import annotations

import argparse
import base64
import time
from concurrent import futures
from pathlib import Path

import grpc

from workbook.experiments._shared.safe_input import (
    MAX_BODY_BYTES,
    BadBody,
    parse_json,
    printable_output,
)
from workbook.experiments._shared.trigger_store import TriggerStore

JOB_EVENT_METHODS = (
    "/dapr.proto.runtime.v1.AppCallback/OnJobEvent",
    "/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1",
)


def kept_bytes(data: bytes) -> str:
    """The first MAX_BODY_BYTES bytes of some data, base64-encoded (the size is kept apart)."""
    return base64.b64encode(data[:MAX_BODY_BYTES]).decode()


class WireRecorder(grpc.ServerInterceptor):
    """Records each job event as it arrived on the wire, before the SDK unwraps it."""

    def __init__(self, store: TriggerStore):
        self.store = store

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
                "value_b64": kept_bytes(request.data.value),
                "value_bytes": len(request.data.value),
            }
            try:
                response = inner(request, context)
            except Exception as error:
                self.store.add(record | {"outcome": f"error: {error}"})
                code = context.code() or grpc.StatusCode.UNKNOWN
                print(f"job {request.name!r}: {code.name}: {error}", flush=True)
                context.abort(code, str(error))  # a status, without gRPC's traceback
            self.store.add(record | {"outcome": "ok"})
            return response

        return grpc.unary_unary_rpc_method_handler(
            record_and_call,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def build_app(job_names: list[str], store: TriggerStore):
    """The dapr-ext-grpc App with one job_event handler per name."""
    from dapr.ext.grpc import App, JobEvent

    app = App(
        thread_pool=futures.ThreadPoolExecutor(max_workers=10),
        interceptors=[WireRecorder(store)],
    )

    def handle(event: JobEvent) -> None:
        arrived = time.time()
        try:
            payload, problem = parse_json(event.data), None
        except BadBody as error:
            payload, problem = None, str(error)
        store.add(
            {
                "kind": "handler",
                "name": event.name,
                "received_at": arrived,
                "data_b64": kept_bytes(event.data),
                "data_bytes": len(event.data),
                "data_text": event.data[:MAX_BODY_BYTES].decode(errors="replace"),
                "json": payload,
                "json_problem": problem,
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
    printable_output()
    app = build_app(args.jobs, TriggerStore(mirror=args.record))
    print(f"gRPC app listening on 127.0.0.1:{args.port} for jobs {args.jobs}", flush=True)
    app.run(args.port, listen_address="127.0.0.1")


if __name__ == "__main__":
    main()
