"""Checkers of notebook 11 (listing, metrics and tokens). Each sets up what it needs on the real
runtime, uses the learner's answer, and reports what the runtime did with it."""

from __future__ import annotations

import httpx

from workbook.lessons.exercises import NotYet, answered
from workbook.lessons.observability import counters, job_metrics, moved, scheduler_metrics_url
from workbook.runtime.apps import unique_name
from workbook.runtime.grpc_listing import GrpcJobs
from workbook.runtime.waiting import WaitTimeout

DROID = {"droid": "R2-D2", "task": "Oil Change"}
R2_JOBS = ["r2-oil", "r2-polish"]
KEPT_JOBS = ["r2q5-firmware", "c3-wax"]

WRONG = {
    # a prefix is a plain string prefix: "r2" also matches "r2q5-firmware"
    "11.1": 'prefix = "r2"',
    # the natural guess; the scheduler counts a 404 as triggered, not failed
    "11.2": 'counter = "dapr_scheduler_jobs_failed_total"',
    # the usual HTTP habit; Dapr reads its own header only
    "11.3": 'headers = {"Authorization": f"Bearer {api_token}"}',
}


def deletes_only_r2_jobs(wb, prefix) -> str:
    """11.1: one DeleteJobsByPrefix call that deletes R2's jobs ("r2-...") and nothing else."""
    prefix = answered(prefix, "`prefix`")
    if not isinstance(prefix, str):
        raise NotYet(f"`prefix` should be a string, not {type(prefix).__name__}")
    if not prefix:
        raise NotYet("an empty prefix deletes every job of the app ID; R2's names start 'r2-'")
    for name in R2_JOBS + KEPT_JOBS:
        wb.jobs.schedule(name, due_time="1h", data=DROID, overwrite=True)
    with GrpcJobs(wb.service.sidecar.grpc_address) as grpc_jobs:
        grpc_jobs.delete_by_prefix(prefix)
        left = set(grpc_jobs.names())
    gone_too = [name for name in KEPT_JOBS if name not in left]
    still = [name for name in R2_JOBS if name in left]
    if gone_too:
        raise NotYet(
            f"prefix {prefix!r} also deleted {gone_too}: a prefix is a plain string prefix "
            "(no word boundary); what do R2's names share that 'r2q5-firmware' does not?"
        )
    if still:
        raise NotYet(f"prefix {prefix!r} left R2's {still} in place: they start with 'r2-'")
    return f"prefix {prefix!r} deleted {R2_JOBS} and kept {KEPT_JOBS}"


def counter_moves_on_404(receiver, scheduler, counter) -> str:
    """11.2: the scheduler's counter that moves by one when the app answers a trigger 404."""
    counter = answered(counter, "`counter`")
    if not isinstance(counter, str) or not counter.startswith("dapr_scheduler_"):
        raise NotYet(f"{counter!r} is not one of the scheduler's (dapr_scheduler_...) counters")
    url = scheduler_metrics_url(scheduler)
    before = job_metrics(url)
    name = unique_name("ex11-2")
    receiver.jobs.schedule(name, due_time="0s", data={"answer": 404}, failure_policy={"drop": {}})
    try:
        receiver.wait_for_deliveries(name, 1, timeout=10)
        receiver.wait_gone(name, timeout=10)
    except WaitTimeout as error:
        raise NotYet(f"the 404 job did not finish: {error}") from None
    changes = counters(moved(before, job_metrics(url)))
    key = f"{counter}{{type=job}}" if f"{counter}{{type=job}}" in changes else counter
    if changes.get(key) != 1:
        what_moved = ", ".join(f"{k} +{v:g}" for k, v in changes.items())
        raise NotYet(
            f"{counter} moved by {changes.get(key, 0):g} on the 404; what did move: {what_moved}"
        )
    return f"{counter} moved by 1 when the app answered 404"


def token_headers_accepted(guarded, headers) -> str:
    """11.3: the headers a caller sends so the guarded sidecar takes a job (and it fires)."""
    headers = answered(headers, "`headers`")
    if not isinstance(headers, dict):
        raise NotYet(f"`headers` should be a dict of header names to values, not {headers!r}")
    name = unique_name("ex11-3")
    url = f"{guarded.sidecar.http_url}/v1.0/jobs/{name}"
    answer = httpx.post(url, json={"dueTime": "1s", "data": DROID}, headers=headers, timeout=10)
    if answer.status_code == 401:
        raise NotYet(
            f"the sidecar answered 401 {answer.text.strip()!r} to headers {sorted(headers)}: "
            "Dapr reads one header of its own, not Authorization"
        )
    if answer.status_code != 204:
        raise NotYet(f"the sidecar answered {answer.status_code}: {answer.text[:120]}")
    try:
        [trigger] = guarded.wait_for_trigger(name, timeout=10)[:1]
    except WaitTimeout:
        raise NotYet("accepted (204) but no trigger arrived within 10 s") from None
    if trigger["status"] != 200:
        raise NotYet(f"the trigger arrived but job_service answered {trigger['status']}")
    return "204 with your headers, and the trigger arrived carrying the app token (200)"
