"""Small pieces the checkers of notebooks 03-06 share: send a learner's job body over the wire
and say in one phrase what the sidecar answered."""

from __future__ import annotations

import httpx

from workbook.lessons.exercises import NotYet

DROID = {"droid": "R2-D2", "task": "Oil Change"}


def post_job(sidecar_url: str, name: str, body: dict) -> httpx.Response:
    """POST <sidecar>/v1.0/jobs/<name> with `body` as JSON, exactly as a learner would."""
    return httpx.post(f"{sidecar_url}/v1.0/jobs/{name}", json=body, timeout=10)


def said(response: httpx.Response) -> str:
    """'500 DAPR_SCHEDULER_SCHEDULE_JOB: <the scheduler's reason>' (or just the status)."""
    try:
        answer = response.json()
    except ValueError:
        return str(response.status_code)
    message = str(answer.get("message", ""))
    reason = message.split("validation: ")[-1].split(" desc = ")[-1]
    return f"{response.status_code} {answer.get('errorCode', '')}: {reason[:160]}"


def require_body(body, what: str = "body") -> dict:
    """The learner's job body: a dict, not the placeholder."""
    if body is ... or body is None:
        raise NotYet(f"`{what}` is still the placeholder `...`: replace it with your JSON body")
    if not isinstance(body, dict):
        raise NotYet(f"`{what}` should be a dict (the JSON object), not {type(body).__name__}")
    return body


def require_accepted(response: httpx.Response, hint: str = "") -> None:
    if response.status_code != 204:
        raise NotYet(
            f"the sidecar refused it with {said(response)}" + (f": {hint}" if hint else "")
        )
