"""A trigger receiver that fails on purpose, to watch Dapr's failure policies at work.

Each job's data says how the app answers its triggers:

    {"answer": 500}                                   every delivery gets HTTP 500
    {"answer": 200, "body": {"status": "RETRY"}}      200 with that JSON body
    {"answer": "hang", "seconds": 15, "then": 200}    no answer until released or 15 s pass
    {"answer": 500, "work": "oil change"}             do the work, then answer 500
    {"answer": 500, "work": "...", "idempotent": true} do the work once; a repeat gets 200

Every delivery is recorded with its arrival time (GET /deliveries). Run it as
`python -m workbook.experiments.failing_receiver.harness` (APP_PORT); from Python,
`FailingReceiver` starts it with a sidecar of its own app ID:

    with FailingReceiver(scheduler) as receiver:
        receiver.jobs.schedule(name, due_time="1s", data={"answer": 500})
        receiver.settle(name)                 # job gone from the scheduler, fence arrived
        receiver.deliveries(name)             # [{"at": ..., "status": 500, ...}, ...]
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import threading
import time
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from workbook.runtime.apps import AppWithSidecar, unique_name
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.waiting import wait_until

# --- the app ------------------------------------------------------------------------------

app = FastAPI(title="failing-receiver")
_lock = threading.Lock()
_deliveries: list[dict] = []
_work_done: dict[str, int] = {}  # job name -> how often its work really ran
_done_keys: set[str] = set()  # idempotency keys of work already done
_released: dict[str, int] = {}  # job name -> the status its hanging handlers answer now
_wakeups: dict[str, asyncio.Event] = {}


@app.post("/job/{name:path}")
async def trigger(name: str, request: Request) -> Response:
    arrived = time.time()
    raw = await request.body()
    try:
        data = await request.json()
    except ValueError:
        data = None
    spec = data if isinstance(data, dict) else {}
    with _lock:
        delivery = 1 + sum(1 for d in _deliveries if d["name"] == name)
        record = {
            "name": name,
            "at": arrived,
            "delivery": delivery,
            "body": raw.decode(errors="replace"),
            "status": None,
            "answered_at": None,
        }
        _deliveries.append(record)

    answer = spec.get("answer", 200)
    if "work" in spec:
        answer = _do_work(name, spec, answer)
    if answer == "hang":
        answer = await _hang(name, float(spec.get("seconds", 30)), spec.get("then", 200))

    record["status"], record["answered_at"] = int(answer), time.time()
    if "body" in spec:
        return JSONResponse(spec["body"], status_code=int(answer))
    return Response(status_code=int(answer))


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
async def release(name: str, status: int = 200) -> dict:
    """Let the hanging handlers of job `name` answer `status`, now and from now on."""
    _released[name] = status
    _wakeups.setdefault(name, asyncio.Event()).set()
    return {"name": name, "released_with": status}


@app.get("/deliveries")
def deliveries(name: str | None = None) -> list[dict]:
    with _lock:
        return [dict(d) for d in _deliveries if name is None or d["name"] == name]


@app.get("/work")
def work(name: str) -> dict:
    with _lock:
        return {"name": name, "runs": _work_done.get(name, 0)}


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


def main() -> None:
    import uvicorn

    port = int(os.environ.get("APP_PORT", "6300"))
    uvicorn.run(
        "workbook.experiments.failing_receiver.harness:app",
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )


def gaps(deliveries: list[dict]) -> list[float]:
    """Seconds between one delivery and the next."""
    return [b["at"] - a["at"] for a, b in itertools.pairwise(deliveries)]


# --- starting it, with its own sidecar -------------------------------------------------------


class FailingReceiver(AppWithSidecar):
    """The failing app plus its own daprd (a fresh app ID), and the waits that go with it."""

    def __init__(
        self, scheduler: Scheduler, *, app_id: str | None = None, log_dir: Path | None = None
    ):
        super().__init__(
            scheduler,
            app_id or unique_name("failing-receiver"),
            [sys.executable, "-m", "workbook.experiments.failing_receiver.harness"],
            log_dir=log_dir,
        )
        self.http = httpx.Client(base_url=self.app_url, timeout=10)

    def healthy(self) -> bool:
        return self.app.alive() and self.sidecar.process is not None and self.sidecar.healthy()

    def deliveries(self, name: str) -> list[dict]:
        """Every delivery of job `name` so far, oldest first."""
        return self.http.get("/deliveries", params={"name": name}).json()

    def work_runs(self, name: str) -> int:
        return self.http.get("/work", params={"name": name}).json()["runs"]

    def release(self, name: str, status: int = 200) -> None:
        """Let the hanging handlers of job `name` answer `status` (now and from now on)."""
        self.http.post("/release", params={"name": name, "status": status})

    def wait_for_deliveries(self, name: str, count: int, timeout: float = 30) -> list[dict]:
        return wait_until(
            lambda: (got := self.deliveries(name)) and len(got) >= count and got,
            timeout=timeout,
            what=f"{count} deliveries of job {name!r}",
        )

    def wait_gone(self, name: str, timeout: float = 30) -> float:
        """Wait until the scheduler no longer holds job `name` (GET -> DAPR_SCHEDULER_GET_JOB);
        return the time it was first seen gone."""
        wait_until(
            lambda: not self.jobs.exists(name),
            timeout=timeout,
            what=f"job {name!r} to be gone from the scheduler",
        )
        return time.time()

    def fence(self, due: str = "1500ms", timeout: float = 30) -> str:
        """Schedule a job that answers 200 and wait for its trigger: everything the sidecar had
        to deliver before it has had time to arrive. Returns the fence job's name."""
        name = unique_name("fence")
        self.jobs.schedule(name, due_time=due, data={"answer": 200})
        self.wait_for_deliveries(name, 1, timeout=timeout)
        self.wait_gone(name, timeout=timeout)
        return name

    def settle(self, *names: str, timeout: float = 60, fence_due: str = "1500ms") -> list[dict]:
        """Wait until no more deliveries of these jobs can come: each is gone from the
        scheduler, then a fence job due later has arrived. Returns all their deliveries."""
        for name in names:
            self.wait_gone(name, timeout=timeout)
        self.fence(fence_due, timeout=timeout)
        return [d for name in names for d in self.deliveries(name)]

    def stop(self) -> None:
        self.http.close()
        super().stop()


if __name__ == "__main__":
    main()
