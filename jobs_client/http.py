"""The Jobs API over HTTP (stable in Dapr 1.18; alpha from 1.14 to 1.17), errors in plain words.

POST   /v1.0/jobs/<name>   schedule      -> 204
GET    /v1.0/jobs/<name>   read it back  -> 200 + the job
DELETE /v1.0/jobs/<name>   delete        -> 204 (also for a job that does not exist)
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote

import httpx

# What Dapr's error codes mean for someone scheduling droid maintenance.
PLAIN_WORDS = {
    "DAPR_SCHEDULER_SCHEDULE_EMPTY": "the job has neither a schedule nor a dueTime",
    "DAPR_SCHEDULER_GET_JOB": "no such job (it was never scheduled, was deleted, or has "
    "already fired its last time)",
    "DAPR_SCHEDULER_DELETE_JOB": "the scheduler could not delete the job",
    "ERR_MALFORMED_REQUEST": "the request body is not valid JSON for a job",
    "DAPR_SCHEDULER_JOB_NAME_EMPTY": "the job name is empty (Dapr trims spaces from it)",
    "ERR_DIRECT_INVOKE": "the sidecar did not take this for a Jobs API call (empty job name?)",
}


class DaprError(Exception):
    """A Jobs API call that did not succeed: HTTP status, Dapr's errorCode and message."""

    def __init__(self, action: str, name: str, response: httpx.Response):
        self.status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        self.error_code = body.get("errorCode", "") if isinstance(body, dict) else ""
        self.message = body.get("message", response.text) if isinstance(body, dict) else ""
        super().__init__(
            f"could not {action} job {name!r}: {self.plain_words()} "
            f"(HTTP {self.status} {self.error_code})"
        )

    def plain_words(self) -> str:
        if self.status == 409:
            return "a job with this name already exists (send overwrite: true to replace it)"
        if "job name is invalid" in self.message:  # the reason follows the quoted name
            return f"Dapr refused the job name: {self.message.rsplit(': ', 1)[-1]}"
        parts = re.split(r"proto:\s", self.message, maxsplit=1)  # the space may be U+00A0
        if self.error_code == "ERR_MALFORMED_REQUEST" and len(parts) == 2:
            # e.g. "proto: (line 1:30): invalid value for uint32 field repeats: -1"
            detail = re.sub(r"^\(line \d+:\d+\): ", "", parts[1])
            return f"{PLAIN_WORDS[self.error_code]}: {detail}"
        if self.error_code in PLAIN_WORDS:
            return PLAIN_WORDS[self.error_code]
        if self.status == 400:
            return f"Dapr refused the job: {self.message}"
        if self.status in (401, 403):
            return "the sidecar wants a dapr-api-token header (DAPR_API_TOKEN)"
        return self.message or "unexpected answer from the sidecar"


def rfc3339(epoch: float) -> tuple[str, float]:
    """An absolute dueTime for the instant `epoch` (RFC 3339, UTC, microseconds, which the
    scheduler keeps exactly), and the instant the string names."""
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), moment.timestamp()


def job_path(name: str) -> str:
    """The name as one URL path segment: '?', '#', '/' and '%' would otherwise change the URL
    (a raw "a?b" schedules a job named "a"); dots are encoded so "." and ".." stay names."""
    return quote(name, safe="").replace(".", "%2E")


def job_body(
    *,
    schedule: str | None = None,
    due_time: str | None = None,
    repeats: int | None = None,
    ttl: str | None = None,
    data: Any = None,
    failure_policy: dict | None = None,
    overwrite: bool | None = None,
) -> dict:
    """The JSON the Jobs API takes, leaving out what is not set."""
    fields = {
        "schedule": schedule,
        "dueTime": due_time,
        "repeats": repeats,
        "ttl": ttl,
        "data": data,
        "failurePolicy": failure_policy,
        "overwrite": overwrite,
    }
    return {key: value for key, value in fields.items() if value is not None}


class JobsClient:
    """Schedule, get and delete jobs through one sidecar's HTTP API.

    Jobs fire at the app whose sidecar scheduled them, so use the sidecar of the app that
    should receive the triggers.
    """

    def __init__(self, sidecar_url: str, *, api_token: str | None = None, timeout: float = 10):
        headers = {"dapr-api-token": api_token} if api_token else {}
        self.http = httpx.Client(
            base_url=f"{sidecar_url}/v1.0/jobs/", headers=headers, timeout=timeout
        )

    def schedule(self, name: str, **fields: Any) -> None:
        """Schedule a job (fields as in job_body); raises DaprError when Dapr refuses."""
        self._check("schedule", name, self.http.post(job_path(name), json=job_body(**fields)))

    def get(self, name: str) -> dict:
        """The job as the scheduler holds it; raises DaprError if there is none."""
        response = self._check("get", name, self.http.get(job_path(name)))
        return response.json()

    def delete(self, name: str) -> None:
        self._check("delete", name, self.http.delete(job_path(name)))

    def exists(self, name: str) -> bool:
        try:
            self.get(name)
        except DaprError as error:
            if error.error_code == "DAPR_SCHEDULER_GET_JOB":
                return False
            raise
        return True

    @staticmethod
    def _check(action: str, name: str, response: httpx.Response) -> httpx.Response:
        if response.is_success:
            return response
        raise DaprError(action, name, response)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> JobsClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
