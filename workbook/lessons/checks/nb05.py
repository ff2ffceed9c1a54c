"""Checkers of notebook 05 (overwrite and errors). They send the learner's body or call the
learner's function against job_service's sidecar and report what the sidecar answered."""

from __future__ import annotations

import json
import time

import httpx

from workbook.lessons.checks.sidecar_answers import DROID, post_job, require_body, said
from workbook.lessons.exercises import NotYet, answered

POLISH = {"droid": "R2-D2", "task": "Polish"}


def replaces_existing_job(wb, body) -> str:
    """5.1: one POST that replaces an existing job (due in an hour) by one due in 1 s that
    carries the task "Polish"."""
    body = require_body(body)
    name = wb.name("ex5-1")
    post_job(wb.sidecar_url, name, {"dueTime": "1h", "data": DROID}).raise_for_status()
    sent = time.time()
    response = post_job(wb.sidecar_url, name, body)
    if response.status_code == 409:
        raise NotYet(
            f"the sidecar answered {said(response)}: the name is taken; "
            "a replacement needs one more field"
        )
    if response.status_code != 204:
        raise NotYet(f"the sidecar refused your body with {said(response)}")
    try:
        [trigger] = wb.wait_for_trigger(name, timeout=4)[:1]
    except TimeoutError:
        stored = httpx.get(f"{wb.sidecar_url}/v1.0/jobs/{name}").json()
        raise NotYet(
            f"accepted, but no trigger within 4 s; the job now reads {json.dumps(stored)[:160]}: "
            "is the dueTime 1s?"
        ) from None
    late = trigger["received_at"] - sent
    got = json.loads(trigger["body"])
    if got != POLISH:
        raise NotYet(f"the trigger came after {late:.2f} s but carried {got}; expected {POLISH}")
    if not 0.5 <= late <= 2.5:
        raise NotYet(f"the trigger came {late:.2f} s after the replacement; you asked for 1 s")
    return f"204, then one trigger {late:.2f} s later carrying {got}"


EXPECTED_5_2 = {
    "schedule": "0 */5 * * * *",
    "dueTime": "10s",
    "failurePolicy": {"constant": {"interval": "0.500s", "maxRetries": 2}},
}


def broken_body_fixed(wb, body) -> str:
    """5.2: the broken request, fixed so the sidecar accepts it, with the same meaning."""
    body = require_body(body)
    name = wb.name("ex5-2")
    response = post_job(wb.sidecar_url, name, body)
    try:
        if response.status_code != 204:
            raise NotYet(f"the sidecar still refuses it: {said(response)}")
        stored = httpx.get(f"{wb.sidecar_url}/v1.0/jobs/{name}").json()
    finally:
        httpx.delete(f"{wb.sidecar_url}/v1.0/jobs/{name}")
    for field, wanted in EXPECTED_5_2.items():
        if stored.get(field) != wanted:
            raise NotYet(
                f"accepted, but {field} reads back as {json.dumps(stored.get(field))}; "
                f"for the meaning asked (every 5 minutes, first in 10 s, 2 retries 0.5 s apart) "
                f"it would be {json.dumps(wanted)}"
            )
    return "accepted (204), and read back: " + ", ".join(
        f"{field} {json.dumps(stored[field])}" for field in EXPECTED_5_2
    )


def tells_missing_from_existing(wb, job_exists) -> str:
    """5.3: a function that says whether a job exists, from the sidecar's answer to GET."""
    job_exists = answered(job_exists, "`job_exists`")
    here, missing = wb.name("ex5-3-here"), wb.name("ex5-3-missing")
    post_job(wb.sidecar_url, here, {"dueTime": "1h", "data": DROID}).raise_for_status()
    try:
        for name, truth in ((here, True), (missing, False)):
            said_it = job_exists(name)
            if said_it is not truth:
                answer = httpx.get(f"{wb.sidecar_url}/v1.0/jobs/{name}")
                raise NotYet(
                    f"job_exists({'an existing' if truth else 'a missing'} job) returned "
                    f"{said_it!r}; GET answered {said(answer)}"
                    + ("" if truth else ": a missing job is not a 404 here")
                )
    finally:
        httpx.delete(f"{wb.sidecar_url}/v1.0/jobs/{here}")
    return "True for a scheduled job, False for a missing one (GET answered 500 for it)"


WRONG = {
    "5.1": 'body = {"dueTime": "1s", "data": {"droid": "R2-D2", "task": "Polish"}}',
    "5.2": 'body = {"schedule": "0 */5 * * * *", "dueTime": "10 seconds", "failurePolicy": '
    '{"constant": {"interval": "0.5s", "maxRetries": 2}}, "data": {"droid": "R2-D2", '
    '"task": "Oil Change"}}',
    "5.3": "def job_exists(name):\n"
    '    response = httpx.get(f"{wb.sidecar_url}/v1.0/jobs/{name}")\n'
    "    return response.status_code != 404",
}
