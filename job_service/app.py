"""job-service: receives job triggers from its Dapr sidecar and says what each droid must do.

Dapr calls `POST /job/<name>` with the job's data as the body when a job falls due. Only the
status code matters to Dapr: a 2xx means delivered; most other codes are retried by the job's
failure policy. Delivery is at least once, and Dapr sends no trigger id: a redelivery looks
exactly like the next tick of a recurring job. So the data may carry a "run" key; a trigger
whose (job name, run) was already handled is a repeat, logged and skipped. Without a "run",
every delivery is carried out (droid maintenance is safe to repeat).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import threading
import time
from collections import OrderedDict

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from .payload import MAX_BODY_BYTES, InvalidPayload, parse_payload
from .trigger_log import TriggerLog, body_fields, shareable_headers

log = logging.getLogger("job_service")
app = FastAPI(title="job-service")

# Status for a trigger that can never be processed. Dapr retries every answer except a 2xx
# and 404 (see notebooks/04), so a malformed job is retried as its failure policy says and
# then given up: each attempt is logged, nothing crashes, and the failure stays visible.
REJECTED = 422
BODY_TIMEOUT_VARIABLE = "BODY_TIMEOUT_SECONDS"  # another time limit (the unit tests use 2.5 s)


def _body_seconds(default: float = 5.0) -> float:
    text = os.environ.get(BODY_TIMEOUT_VARIABLE, "")
    try:
        seconds = float(text) if text else default
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise SystemExit(f"{BODY_TIMEOUT_VARIABLE}={text!r} is not a number of seconds above 0")
    return seconds


BODY_SECONDS = _body_seconds()  # a body must arrive within this time (daprd sends it at once)
REMEMBERED = 10_000  # job names counted and (job, run) pairs remembered; the oldest go first

_lock = threading.Lock()
triggers = TriggerLog()  # the last triggers, for GET /received (tests and notebooks read it)
_deliveries: OrderedDict[str, int] = OrderedDict()  # job name -> deliveries so far
_done_runs: OrderedDict[tuple[str, str], None] = OrderedDict()  # (job, run) carried out


def say(line: str) -> None:
    print(line, flush=True)


@app.post("/job/{name:path}")
async def trigger(name: str, request: Request) -> Response:
    arrived = time.time()
    token = os.environ.get("APP_API_TOKEN")
    if token and not hmac.compare_digest(request.headers.get("dapr-api-token", ""), token):
        log.warning("refused trigger %r: missing or wrong dapr-api-token", name)
        return JSONResponse({"error": "missing or wrong dapr-api-token"}, status_code=401)

    if not name.strip():
        say("Rejected job request '': empty job name")
        return JSONResponse({"error": "empty job name"}, status_code=REJECTED)
    try:
        body = await asyncio.wait_for(_read_limited(request), timeout=BODY_SECONDS)
    except TimeoutError:
        say(f"Rejected job request {name!r}: body did not arrive within {BODY_SECONDS:g} s")
        return JSONResponse({"error": "body did not arrive in time"}, status_code=408)
    except ClientDisconnect:
        say(f"Rejected job request {name!r}: the client went away before sending its body")
        return Response(status_code=400)
    headers, withheld = shareable_headers(dict(request.headers))
    record = {
        "name": name,
        "received_at": arrived,
        "method": request.method,
        "path": request.url.path,
        **body_fields(body),
        "headers": headers,
        "withheld_headers": withheld,
    }
    try:
        job = parse_payload(body)
    except InvalidPayload as reason:
        say(f"Rejected job request {name!r}: {reason}")
        return _remember(record, REJECTED, JSONResponse({"error": str(reason)}, REJECTED))

    with _lock:
        delivery = _deliveries[name] = _deliveries.pop(name, 0) + 1
        repeat = job.run is not None and (name, job.run) in _done_runs
        if job.run is not None:
            _done_runs[(name, job.run)] = None
        for remembered in (_deliveries, _done_runs):
            while len(remembered) > REMEMBERED:
                remembered.popitem(last=False)
    if repeat:
        say(f"Repeated delivery of job {name} run {job.run} (already done: {job.droid})")
    else:
        say("Received job request...")
        say(f"Starting droid: {job.droid}")
        say(f"Executing maintenance job: {job.task}")
    record |= {
        "droid": job.droid,
        "task": job.task,
        "run": job.run,
        "delivery": delivery,
        "repeat": repeat,
    }
    return _remember(record, 200, Response(status_code=200))


async def _read_limited(request: Request) -> bytes:
    """The body, or its first MAX_BODY_BYTES + 1 bytes (enough to reject it as too large)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            break
    return b"".join(chunks)


def _remember(record: dict, status: int, response: Response) -> Response:
    record["status"] = status
    triggers.add(record)
    return response


@app.get("/received")
def received(name: str | None = None) -> list[dict]:
    """The last triggers received (optionally of one job), oldest first, without credentials.
    At most trigger_log.KEEP are kept; GET /received/summary says how many were dropped."""
    return triggers.records(name)


@app.get("/received/summary")
def received_summary() -> dict:
    return triggers.summary()


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}
