"""A Dapr actor written against the actor HTTP protocol itself (what the SDKs wrap).

daprd asks the app which actor types it hosts, then calls it for methods, reminders, timers
and deactivation:

    GET    /dapr/config                                       {"entities": ["Droid"], ...}
    GET    /healthz                                           200 while the app is up
    PUT    /actors/<type>/<id>/method/<method>                an actor method call
    PUT    /actors/<type>/<id>/method/remind/<reminder>       a reminder fired
    PUT    /actors/<type>/<id>/method/timer/<timer>           a timer fired
    DELETE /actors/<type>/<id>                                the actor was deactivated

Every call is recorded (GET /received, oldest first). `POST /fail/<reminder>?times=N` makes the
next N deliveries of that reminder answer 500, to watch what daprd does with a failed one.
Run it as `python -m workbook.experiments.droid_actor.app` (APP_PORT); harness.py beside this
file starts it with a sidecar, placement and an actor state store.
"""

from __future__ import annotations

import os
import threading
import time

import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from workbook.experiments._shared.safe_input import BadBody, parse_json, read_limited
from workbook.experiments._shared.trigger_store import TriggerStore, body_fields

ACTOR_TYPE = os.environ.get("ACTOR_TYPE", "Droid")
app = FastAPI(title="droid-actor")
calls = TriggerStore()
_failures: dict[str, int] = {}  # reminder name -> deliveries still to answer 500
_lock = threading.Lock()


@app.get("/dapr/config")
def actor_config() -> dict:
    """What daprd reads at start-up: the actor types this app hosts, and their settings."""
    return {"entities": [ACTOR_TYPE], "actorIdleTimeout": "1h", "drainOngoingCallTimeout": "5s"}


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


async def _record(kind: str, actor_type: str, actor_id: str, name: str, request: Request) -> dict:
    arrived = time.time()
    try:
        raw = await read_limited(request.stream())
    except BadBody:
        raw = b""
    record = {"kind": kind, "type": actor_type, "id": actor_id, "name": name, "at": arrived}
    record |= body_fields(raw)
    try:
        record["json"] = parse_json(raw) if raw.strip() else None
    except BadBody:
        record["json"] = None
    print(f"{kind} {actor_type}/{actor_id} {name}", flush=True)
    return calls.add(record)


def _answer(name: str) -> Response:
    with _lock:
        left = _failures.get(name, 0)
        if left:
            _failures[name] = left - 1
            return JSONResponse({"error": f"{name} failed on purpose"}, status_code=500)
    return Response(status_code=200)


@app.put("/actors/{actor_type}/{actor_id}/method/remind/{name}")
async def reminder(actor_type: str, actor_id: str, name: str, request: Request) -> Response:
    await _record("reminder", actor_type, actor_id, name, request)
    return _answer(name)


@app.put("/actors/{actor_type}/{actor_id}/method/timer/{name}")
async def timer(actor_type: str, actor_id: str, name: str, request: Request) -> Response:
    await _record("timer", actor_type, actor_id, name, request)
    return _answer(name)


@app.put("/actors/{actor_type}/{actor_id}/method/{method}")
async def method(actor_type: str, actor_id: str, method: str, request: Request) -> Response:
    record = await _record("method", actor_type, actor_id, method, request)
    return JSONResponse({"droid": actor_id, "method": method, "got": record["json"]})


@app.delete("/actors/{actor_type}/{actor_id}")
async def deactivate(actor_type: str, actor_id: str, request: Request) -> Response:
    await _record("deactivate", actor_type, actor_id, "", request)
    return Response(status_code=200)


@app.get("/received")
def received(kind: str | None = None, name: str | None = None) -> list[dict]:
    match = {k: v for k, v in (("kind", kind), ("name", name)) if v is not None}
    return calls.records(**match)


@app.post("/fail/{name}")
def fail(name: str, times: int = Query(1, ge=0, le=100)) -> dict:
    with _lock:
        _failures[name] = times
    return {"name": name, "fails_next": times}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["APP_PORT"]), log_level="warning")
