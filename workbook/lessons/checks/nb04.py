"""Checkers of notebook 04 (failure policies). They schedule the learner's answer on the failing
receiver (whose job data says how it answers) or on job_service, count the deliveries that
really arrive, and say what differs from the task."""

from __future__ import annotations

import itertools

from workbook.lessons.checks.sidecar_answers import DROID, post_job, require_accepted, said
from workbook.lessons.exercises import NotYet, answered
from workbook.lessons.pace import pace_problem
from workbook.runtime.apps import unique_name
from workbook.runtime.waiting import wait_until


def _deliveries(receiver, name: str, data: dict, policy=None, timeout: float = 20) -> list[dict]:
    body = {"dueTime": "500ms", "data": data}
    if policy is not None:
        body["failurePolicy"] = policy
    response = post_job(receiver.sidecar.http_url, name, body)
    if response.status_code != 204:
        return [{"refused": said(response)}]
    return receiver.settle(name, timeout=timeout, fence_due="1s")


def stops_retries_visibly(receiver, status) -> str:
    """4.1: an error status that Dapr does not retry (the job's default policy: 3 retries)."""
    status = answered(status, "`status`")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise NotYet(f"`status` should be an HTTP status code (an int), not {status!r}")
    name = unique_name("ex4-1")
    got = _deliveries(receiver, name, {"answer": status})
    answers = [d["status"] for d in got]
    if len(got) > 1:
        raise NotYet(
            f"{len(got)} deliveries (1 + {len(got) - 1} retries), answered {answers}: "
            f"Dapr retries a {status}; which error status does daprd treat as non-retriable?"
        )
    if 200 <= status < 300:
        raise NotYet(
            f"1 delivery, answered {status}: retries stopped, but Dapr counts it as delivered, "
            "so the failure is hidden; the task asks for an error status"
        )
    return f"answered {status}: {len(got)} delivery, no retry"


def two_retries_half_a_second_apart(receiver, policy) -> str:
    """4.2: a failure policy with at most 2 retries, 0.5 s apart, on an always-500 handler."""
    policy = answered(policy, "`policy`")
    if not isinstance(policy, dict):
        raise NotYet(f"`policy` should be a dict (the JSON object), not {type(policy).__name__}")
    name = unique_name("ex4-2")
    got = _deliveries(receiver, name, {"answer": 500}, policy)
    if got and "refused" in got[0]:
        hint = (
            'the interval is a protobuf duration: seconds with an "s", like "0.5s"'
            if "Duration" in got[0]["refused"]
            else "compare your fields with the policies above"
        )
        raise NotYet(f"the sidecar refused the policy with {got[0]['refused']}: {hint}")
    gaps = [round(b["at"] - a["at"], 2) for a, b in itertools.pairwise(got)]
    if len(got) != 3:
        raise NotYet(
            f"{len(got)} deliveries (gaps {gaps} s); 2 retries give 3: is `maxRetries` 2 "
            f"(and spelt maxRetries, inside 'constant')?"
        )
    if problem := pace_problem(gaps, 0.5, tolerance=0.25):
        raise NotYet(f"3 deliveries, but {problem}; you asked for 0.5 s: check `interval`")
    return f"3 deliveries, {gaps} s apart, then no more"


def repeat_is_skipped(wb, data) -> str:
    """4.3: job data with a run key, so that job_service skips a repeated delivery."""
    data = answered(data, "`data`")
    if not isinstance(data, dict):
        raise NotYet(f"`data` should be a dict like {DROID}, not {type(data).__name__}")
    name = wb.name("ex4-3")
    seen = []
    for delivery in (1, 2):  # the same job, scheduled again: job_service gets it twice
        require_accepted(post_job(wb.sidecar_url, name, {"dueTime": "200ms", "data": data}))
        seen = wb.wait_for_trigger(name, count=delivery, timeout=10)
        wait_until(lambda: not wb.jobs.exists(name), timeout=10, what=f"{name} to be deleted")
    first, second = seen[0], seen[1]
    if first["status"] != 200:
        raise NotYet(f"job_service answered {first['status']} to your data: {first['body']}")
    if not second.get("repeat"):
        raise NotYet(
            "the second delivery was carried out again (job_service logged 'Starting droid' "
            f'twice, run={second.get("run")!r}): put a "run" key in the data'
        )
    return (
        f"delivery 1 carried out, delivery 2 recognised as a repeat of run {second['run']!r} "
        "and skipped"
    )


WRONG = {
    "4.1": "status = 400  # 'bad request' sounds right",
    "4.2": 'policy = {"constant": {"interval": "500ms", "maxRetries": 2}}',
    "4.3": 'data = {"droid": "R2-D2", "task": "Oil Change", "week": "2026-W49"}',
}
