"""Checkers of notebook 09 (performance): the learner's lateness formula against a real
trigger, and a scheduling loop that must beat a new connection per call."""

from __future__ import annotations

import time

import httpx

from jobs_client import rfc3339
from workbook.lessons.exercises import NotYet
from workbook.runtime.apps import unique_name

DROID = {"droid": "R2-D2", "task": "Oil Change"}
# A reused connection schedules about 11x faster than a new one per call (bench/results.json:
# 514 vs 46 calls/s); asking for 2.5x leaves room for a busy machine.
SPEED_UP_REQUIRED = 2.5


def lateness_formula(lateness_ms, wb) -> str:
    """9.1: `lateness_ms(received_at, due_at)` is arrival minus due time, in milliseconds."""
    if not callable(lateness_ms):
        raise NotYet("`lateness_ms` must be a function of (received_at, due_at)")
    name = wb.name("ex9-1")
    due, due_at = rfc3339(time.time() + 1.0)
    answer = httpx.post(
        f"{wb.sidecar_url}/v1.0/jobs/{name}", json={"dueTime": due, "data": DROID}, timeout=10
    )
    answer.raise_for_status()
    [trigger] = wb.wait_for_trigger(name, timeout=10)[:1]
    truth = (trigger["received_at"] - due_at) * 1000
    got = lateness_ms(trigger["received_at"], due_at)
    if got is None or got is ...:
        raise NotYet("lateness_ms returned nothing: return the lateness in milliseconds")
    if abs(got - truth) <= 0.01:
        return f"a real trigger was {truth:.2f} ms late, and your function says {got:.2f} ms"
    if abs(got + truth) <= 0.01:
        raise NotYet(
            f"your function gives {got:.2f} ms for a trigger that arrived {truth:.2f} ms "
            "after its due time: the sign is reversed (arrival minus due time)"
        )
    if abs(got * 1000 - truth) <= 0.01:
        raise NotYet(
            f"your function gives {got:.5f} for a trigger {truth:.2f} ms late: that is "
            "seconds; multiply by 1000"
        )
    raise NotYet(f"your function gives {got!r}; the trigger was {truth:.2f} ms late")


def _calls_per_second(schedule, sidecar_url: str, count: int) -> tuple[float, list]:
    names = [unique_name("ex9-2") for _ in range(count)]
    body = {"dueTime": "1h", "data": DROID}
    started = time.perf_counter()
    codes = schedule(sidecar_url, names, body)
    seconds = time.perf_counter() - started
    with httpx.Client(timeout=10) as http:
        for name in names:
            http.delete(f"{sidecar_url}/v1.0/jobs/{name}")
    return count / seconds, list(codes or [])


def _one_connection_per_call(sidecar_url, names, body):
    return [httpx.post(f"{sidecar_url}/v1.0/jobs/{n}", json=body).status_code for n in names]


def schedules_fast(schedule_all, wb, count: int = 40) -> str:
    """9.2: `schedule_all(sidecar_url, names, body)` schedules every job (204 each) at least
    SPEED_UP_REQUIRED times as fast as a new connection per call, measured right now."""
    baseline, _ = _calls_per_second(_one_connection_per_call, wb.sidecar_url, count // 2)
    rate, codes = _calls_per_second(schedule_all, wb.sidecar_url, count)
    if codes != [204] * count:
        shown = {c: codes.count(c) for c in set(codes)} if codes else "nothing"
        raise NotYet(
            f"schedule_all returned {shown} for {count} jobs; return the list of status codes "
            "(204 for each scheduled job)"
        )
    if rate < SPEED_UP_REQUIRED * baseline:
        raise NotYet(
            f"{rate:.0f} calls/s, and a new connection per call managed {baseline:.0f}/s just "
            f"now: {rate / baseline:.1f}x, you need {SPEED_UP_REQUIRED}x. Open one httpx.Client "
            "and reuse it for every call"
        )
    return (
        f"{count} jobs at {rate:.0f} calls/s, {rate / baseline:.1f}x a new connection per call "
        f"({baseline:.0f}/s, measured just before)"
    )


WRONG = {
    "9.1": (
        "def lateness_ms(received_at, due_at):\n"
        "    return (due_at - received_at) * 1000  # the sign is reversed\n"
    ),
    "9.2": (
        "def schedule_all(sidecar_url, names, body):\n"
        "    return [\n"
        '        httpx.post(f"{sidecar_url}/v1.0/jobs/{name}", json=body).status_code\n'
        "        for name in names\n"
        "    ]\n"
    ),
}
