"""A trigger receiver that fails on purpose, to watch Dapr's failure policies at work.

Each job's data says how the app answers its triggers:

    {"answer": 500}                                   every delivery gets HTTP 500
    {"answer": 200, "body": {"status": "RETRY"}}      200 with that JSON body
    {"answer": "hang", "seconds": 15, "then": 200}    no answer until released or 15 s pass
    {"answer": 500, "work": "oil change"}             do the work, then answer 500
    {"answer": 500, "work": "...", "idempotent": true} do the work once; a repeat gets 200

A job without data is answered 200. Data that is no such order (not JSON, not an object, an
answer that is no HTTP status from 200 to 599...) is answered 422 with one log line: a bad
order is refused, never a crash. Every delivery is recorded with its arrival time
(GET /deliveries). Run it as `python -m workbook.experiments.failing_receiver.app` (APP_PORT);
workbook.experiments.failing_receiver.harness starts it with a sidecar.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from workbook.experiments._shared.safe_input import (
    BadBody,
    parse_json,
    printable_output,
    read_limited,
)
from workbook.experiments._shared.trigger_store import TriggerStore, body_fields

app = FastAPI(title="failing-receiver")
deliveries = TriggerStore()
_lock = threading.Lock()
_delivery_counts: dict[str, int] = {}  # job name -> deliveries so far
_work_done: dict[str, int] = {}  # job name -> how often its work really ran
_done_keys: set[str] = set()  # idempotency keys of work already done
_released: dict[str, int] = {}  # job name -> the status its hanging handlers answer now
_wakeups: dict[str, asyncio.Event] = {}

STATUSES = range(200, 600)  # what an order may ask the app to answer
MAX_HANG_SECONDS = 300.0


def refuse(name: str, record: dict, reason: str, status: int = 422) -> Response:
    print(f"refused trigger of job {name!r}: {reason}", flush=True)
    with deliveries.lock:
        record["status"], record["answered_at"] = status, time.time()
    return JSONResponse({"error": reason}, status_code=status)


@app.post("/job/{name:path}")
async def trigger(name: str, request: Request) -> Response:
    arrived = time.time()
    try:
        raw = await read_limited(request.stream())
    except BadBody as error:
        return refuse(name, _record(name, arrived, b""), str(error), error.status)
    except ClientDisconnect:
        print(f"trigger of job {name!r}: the client went away before its body", flush=True)
        return Response(status_code=400)
    record = _record(name, arrived, raw)
    try:
        spec = order(raw)
    except BadBody as error:
        return refuse(name, record, str(error))

    answer = spec.get("answer", 200)
    if "work" in spec:
        answer = _do_work(name, spec, answer)
    if answer == "hang":
        answer = await _hang(name, float(spec.get("seconds", 30)), spec.get("then", 200))

    with deliveries.lock:
        record["status"], record["answered_at"] = answer, time.time()
    if "body" in spec:
        return JSONResponse(spec["body"], status_code=answer)
    return Response(status_code=answer)


def _record(name: str, arrived: float, raw: bytes) -> dict:
    with _lock:
        delivery = _delivery_counts[name] = _delivery_counts.get(name, 0) + 1
    return deliveries.add(
        {"name": name, "at": arrived, "delivery": delivery, "status": None}
        | body_fields(raw)
        | {"answered_at": None}
    )


def order(raw: bytes) -> dict:
    """The job's data as an order (see the module's docstring), or BadBody saying why not."""
    if not raw.strip():
        return {}
    spec = parse_json(raw)
    if not isinstance(spec, dict):
        raise BadBody(f"the order must be a JSON object, got {type(spec).__name__}")
    for field, default in (("answer", 200), ("then", 200)):
        value = spec.get(field, default)
        hang = field == "answer" and value == "hang"
        if not hang and (type(value) is not int or value not in STATUSES):
            raise BadBody(f'"{field}" must be an HTTP status from 200 to 599 (or "hang")')
    seconds = spec.get("seconds", 30)
    if type(seconds) not in (int, float) or not 0 <= seconds <= MAX_HANG_SECONDS:
        raise BadBody(f'"seconds" must be a number from 0 to {MAX_HANG_SECONDS:g}')
    if "body" in spec:
        try:
            json.dumps(spec["body"], allow_nan=False)
        except ValueError:
            raise BadBody('"body" must be plain JSON (no NaN or Infinity)') from None
    return spec


def _do_work(name: str, spec: dict, answer):
    """The job's side effect. Naive: run it on every delivery. Idempotent: remember a key and
    acknowledge a repeat with 200 without running the work again."""
    key = f"{name}:{spec.get('id', '')}"
    with _lock:
        if spec.get("idempotent") and key in _done_keys:
            return 200  # already done: a repeat delivery, say "delivered" so retries stop
        _work_done[name] = _work_done.get(name, 0) + 1
        _done_keys.add(key)
    return answer


async def _hang(name: str, seconds: float, then):
    """Answer nothing until the job is released (POST /release) or `seconds` pass, so nothing
    hangs for ever. Once released, every later delivery of the job answers at once."""
    if name in _released:
        return _released[name]
    wakeup = _wakeups.setdefault(name, asyncio.Event())
    try:
        await asyncio.wait_for(wakeup.wait(), timeout=seconds)
        return _released[name]
    except TimeoutError:
        return then


@app.post("/release")
async def release(name: str, status: int = Query(200, ge=200, le=599)) -> dict:
    """Let the hanging handlers of job `name` answer `status`, now and from now on."""
    _released[name] = status
    _wakeups.setdefault(name, asyncio.Event()).set()
    return {"name": name, "released_with": status}


@app.get("/deliveries")
def list_deliveries(name: str | None = None) -> list[dict]:
    return deliveries.records(name=name) if name is not None else deliveries.records()


@app.get("/deliveries/summary")
def deliveries_summary() -> dict:
    return deliveries.summary()


@app.get("/work")
def work(name: str) -> dict:
    with _lock:
        return {"name": name, "runs": _work_done.get(name, 0)}


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


def main() -> None:
    import uvicorn

    printable_output()
    port = int(os.environ.get("APP_PORT", "6300"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
