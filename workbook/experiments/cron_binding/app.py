"""The clean-up app: answers a cron input binding and a job, and keeps what it got.

Run as `python -m workbook.experiments.cron_binding.app --port P --replica R`:

- the binding calls `POST /<binding name>` (after an `OPTIONS` probe at start-up);
- a job calls `POST /job/<job name>`;
- `GET /received` lists the last requests (workbook.experiments._shared.trigger_store: at most
  2,000, credential headers withheld); a body over 64 KB is refused with 413, one that does not
  arrive within 5 s with 408, each with one log line.
"""

from __future__ import annotations

import argparse
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from workbook.experiments._shared.safe_input import BadBody, printable_output, read_limited
from workbook.experiments._shared.trigger_store import TriggerStore, body_fields

app = FastAPI(title="cleanup-app")
received_requests = TriggerStore()


def _replica() -> str:
    return app.state.replica if hasattr(app.state, "replica") else "?"


async def _remember(kind: str, name: str, request: Request) -> Response:
    arrived = time.time()
    try:
        body = await read_limited(request.stream())
    except BadBody as error:
        print(f"[{_replica()}] refused {kind} {name!r}: {error}", flush=True)
        return JSONResponse({"error": str(error)}, status_code=error.status)
    except ClientDisconnect:
        print(f"[{_replica()}] {kind} {name!r}: the client went away before its body", flush=True)
        return Response(status_code=400)
    received_requests.add(
        {
            "kind": kind,
            "name": name,
            "method": request.method,
            "received_at": arrived,
            "replica": _replica(),
            "headers": request.headers.items(),
        }
        | body_fields(body)
    )
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
    return received_requests.records()


@app.get("/received/summary")
def received_summary() -> dict:
    return received_requests.summary()


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
    printable_output()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
