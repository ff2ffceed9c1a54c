"""Checks of notebook 01 · Schedule, get and delete: the learner's own HTTP calls."""

from __future__ import annotations

import json
import re

import httpx

from workbook.lessons.exercises import NotYet, answered
from workbook.runtime.apps import unique_name
from workbook.runtime.waiting import WaitTimeout

WRONG = {
    # "one second" as a number: dueTime is a string with a unit.
    "1.1": (
        'response = httpx.post(f"{wb.sidecar_url}/v1.0/jobs/{my_job}", json={\n'
        '    "dueTime": 1, "data": {"droid": "BB-8", "task": "Motivator Tune-up"}})'
    ),
    # What most HTTP APIs answer for a missing resource.
    "1.2": "missing_status = 404",
    # The name without the suffix wb.name() added: DELETE still answers 204.
    "1.3": 'deleted = httpx.delete(f"{wb.sidecar_url}/v1.0/jobs/C-3PO")',
}
BB8 = {"droid": "BB-8", "task": "Motivator Tune-up"}
SHORT_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


def _response(value, what: str, method: str) -> httpx.Response:
    value = answered(value, what)
    if not isinstance(value, httpx.Response):
        raise NotYet(
            f"{what} is a {type(value).__name__}; make it what httpx.{method.lower()}(...) returns"
        )
    return value


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:120]
    return f"{body.get('errorCode', '')}: {body.get('message', '')}"


def _on_the_lab_sidecar(wb, request: httpx.Request, method: str, path: str) -> None:
    url = request.url
    if request.method != method or url.path != path:
        raise NotYet(f"you sent {request.method} {url.path}; this task is {method} {path}")
    if url.port != wb.service.sidecar.http_port:
        what = " (job_service itself, not its sidecar)" if url.port == wb.service.app_port else ""
        raise NotYet(
            f"you sent it to port {url.port}{what}; job_service's sidecar is {wb.sidecar_url}"
        )


def scheduled_and_fired(wb, my_job: str, response) -> str:
    """1.1: the learner's POST scheduled a 1 s job that reached job_service with BB-8's data."""
    response = _response(response, "response", "POST")
    _on_the_lab_sidecar(wb, response.request, "POST", f"/v1.0/jobs/{my_job}")
    try:
        sent = json.loads(response.request.content)
    except ValueError:
        raise NotYet("the body you sent is not JSON: pass the job as json={...}") from None
    if response.status_code == 409:
        raise NotYet(
            f"the sidecar answered 409: a job named {my_job} is already stored (by an earlier "
            "run of your cell?); run the cell that makes my_job again for a fresh name"
        )
    if response.status_code != 204:
        hint = ""
        if isinstance(sent, dict) and not {"dueTime", "schedule"} & set(sent):
            hint = f"; your body has only the fields {sorted(sent)}: when is it due?"
        elif isinstance(sent, dict) and not isinstance(sent.get("dueTime"), str):
            hint = '; dueTime is a string: a Go duration with its unit, like "1s"'
        raise NotYet(f"the sidecar answered {response.status_code} {_error_code(response)}{hint}")
    due = str(sent.get("dueTime", sent.get("due_time")))
    match = SHORT_DURATION.match(due)
    seconds = match and float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
    if not match or seconds > 1.5:
        raise NotYet(f'your dueTime is {due!r}; "in one second" is the Go duration "1s"')
    if sent.get("data") != BB8:
        raise NotYet(f"your data is {json.dumps(sent.get('data'))}; send {json.dumps(BB8)}")
    try:
        [trigger] = wb.wait_for_trigger(my_job, timeout=5)[:1]
    except WaitTimeout:
        raise NotYet(
            f"the POST answered 204 but no trigger of {my_job} reached job_service in 5 s"
        ) from None
    if trigger["status"] != 200:
        raise NotYet(f"the trigger arrived but job_service answered {trigger['status']}")
    return (
        f"POST answered 204 (dueTime {due!r}); the trigger reached job_service with body "
        f"{trigger['body']} and it answered 200"
    )


def predicted_missing_status(wb, missing_status) -> str:
    """1.2: the learner predicted the status of GET for a job that does not exist."""
    missing_status = answered(missing_status, "missing_status")
    name = unique_name("never-scheduled")
    measured = wb.api.get(name)
    code = measured.json().get("errorCode")
    if missing_status != measured.status_code:
        raise NotYet(
            f"you answered {missing_status!r}; GET /v1.0/jobs/{name} (a job never scheduled) "
            f"just answered {measured.status_code} with errorCode {code}"
        )
    return f"GET of a job that does not exist answers {measured.status_code} ({code}), not 404"


def deleted_before_firing(wb, doomed: str, deleted) -> str:
    """1.3: the learner's DELETE removed job `doomed` before it fired."""
    deleted = _response(deleted, "deleted", "DELETE")
    stored = wb.api.get(doomed)
    if deleted.request.url.path != f"/v1.0/jobs/{doomed}" and stored.status_code == 200:
        raise NotYet(
            f"DELETE {deleted.request.url.path} answered {deleted.status_code}, yet {doomed} "
            f"is still stored (GET answers 200): DELETE answers 204 even for a name that does "
            "not exist, so check the name (wb.name() added a suffix)"
        )
    _on_the_lab_sidecar(wb, deleted.request, "DELETE", f"/v1.0/jobs/{doomed}")
    if wb.received(doomed):
        raise NotYet(f"{doomed} fired before it was deleted: run the cell above again first")
    if stored.status_code == 200:
        raise NotYet(f"{doomed} is still stored (GET answers 200)")
    return (
        f"DELETE answered {deleted.status_code}; GET {doomed} now answers "
        f"{stored.status_code} and it never fired"
    )
