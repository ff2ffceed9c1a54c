"""The Jobs API error catalogue, as data: every mistake a learner makes with the sidecar's HTTP
API, what Dapr 1.18.3 answers (measured), and what to do about it.

Notebook 05 prints it as a table; tests/runtime/test_error_catalogue.py asserts every row
against the real runtime, so the two cannot drift apart.

    with httpx.Client(base_url=sidecar_url) as http:
        for case in CATALOGUE:
            outcome = run_case(http, case, namer=unique_name)
            assert (outcome.status, outcome.error_code) == (case.status, case.error_code)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx

JOBS = "/v1.0/jobs/"
LATER = "1h"  # due time of jobs that are accepted: far enough away never to fire here


@dataclass(frozen=True)
class Case:
    """One request and the answer Dapr 1.18.3 gives it."""

    key: str  # short id, used as the test id
    tried: str  # what the learner tried, in words
    status: int  # the HTTP status the sidecar answers
    error_code: str  # Dapr's errorCode ("" when the request succeeds)
    message: str  # a fragment of the message that says what went wrong ("" on success)
    advice: str  # what to do
    body: Any = None  # dict/list -> JSON; str -> sent as is; None -> no body
    method: str = "POST"
    name: str = "{n}"  # the path segment after /v1.0/jobs/; {n} becomes a unique name
    prefix: str = JOBS
    schedule_first: bool = False  # send the same request once before (duplicates)


CATALOGUE: list[Case] = [
    # --- what to fire when ------------------------------------------------------------------
    Case(
        "no-schedule",
        "neither `schedule` nor `dueTime`",
        400,
        "DAPR_SCHEDULER_SCHEDULE_EMPTY",
        "Schedule is empty",
        "give a `dueTime` (once) or a `schedule` (repeating)",
        body={"data": {"droid": "R2"}},
    ),
    Case(
        "empty-body",
        "an empty request body",
        400,
        "DAPR_SCHEDULER_SCHEDULE_EMPTY",
        "Schedule is empty",
        "send the job as a JSON object",
        body="",
    ),
    Case(
        "empty-schedule",
        '`"schedule": ""`',
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "empty spec string",
        "leave `schedule` out, or give a cron or `@every`",
        body={"schedule": ""},
    ),
    Case(
        "cron-words",
        '`"schedule": "every tuesday"`',
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "expected exactly 6 fields, found 2",
        "write a 6-field cron (`0 0 9 * * TUE`) or `@every 24h`",
        body={"schedule": "every tuesday"},
    ),
    Case(
        "cron-5-fields",
        'five-field cron `"*/5 * * * *"`',
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "expected exactly 6 fields, found 5",
        "add the seconds field first: `0 */5 * * * *`",
        body={"schedule": "*/5 * * * *"},
    ),
    Case(
        "every-bad-duration",
        '`"schedule": "@every banana"`',
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "failed to parse duration",
        "`@every` takes a Go duration: `@every 90s`, `@every 1h30m`",
        body={"schedule": "@every banana"},
    ),
    Case(
        "cron-never",
        'cron for 31 February `"0 0 0 31 2 *"`',
        204,
        "",
        "",
        "accepted, and it never fires: check a cron's next dates before you trust it",
        body={"schedule": "0 0 0 31 2 *"},
    ),
    Case(
        "every-zero",
        '`"schedule": "@every 0s"`',
        204,
        "",
        "",
        "accepted, and fires back to back without pause: never use a zero or negative period",
        body={"schedule": "@every 0s", "dueTime": LATER, "repeats": 1},
    ),
    Case(
        "due-words",
        '`"dueTime": "10 seconds"`',
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "due time format not recognized",
        "a Go duration (`10s`) or an RFC 3339 time",
        body={"dueTime": "10 seconds"},
    ),
    Case(
        "due-banana",
        '`"dueTime": "banana"`',
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "due time format not recognized",
        "a Go duration (`10s`) or an RFC 3339 time",
        body={"dueTime": "banana"},
    ),
    Case(
        "due-bad-date",
        '`"dueTime": "2026-13-45T25:00:00Z"`',
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "due time format not recognized",
        "a real date: `2026-12-24T18:00:00Z`",
        body={"dueTime": "2026-13-45T25:00:00Z"},
    ),
    Case(
        "due-no-zone",
        '`"dueTime": "2026-12-24 18:00:00"` (no `T`, no zone)',
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "due time format not recognized",
        "RFC 3339 needs the `T` and a zone: `2026-12-24T18:00:00+01:00`",
        body={"dueTime": "2026-12-24 18:00:00"},
    ),
    Case(
        "due-past",
        "`dueTime` an hour in the past",
        204,
        "",
        "",
        "accepted: the job fires at once (see section 3)",
        body={"dueTime": "2020-01-01T00:00:00Z", "data": {"droid": "R2-D2", "task": "Oil"}},
    ),
    Case(
        "ttl-no-schedule",
        "`ttl` with only a `dueTime`",
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "job must have a schedule to have a ttl",
        "`ttl` ends a repeating job; a one-shot job needs none",
        body={"dueTime": "10s", "ttl": "1h"},
    ),
    Case(
        "ttl-words",
        '`"ttl": "forever"`',
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "ttl format not recognized",
        "a Go duration or an RFC 3339 time; or leave it out",
        body={"schedule": "@every 1h", "ttl": "forever"},
    ),
    # --- the JSON itself ----------------------------------------------------------------------
    Case(
        "malformed-json",
        'JSON cut short: `{"dueTime": "1s",`',
        400,
        "ERR_MALFORMED_REQUEST",
        "failed deserializing HTTP body",
        "send valid JSON (`json=` in httpx/requests does it for you)",
        body='{"dueTime": "1s",',
    ),
    Case(
        "json-array",
        "a JSON array instead of an object",
        400,
        "ERR_MALFORMED_REQUEST",
        "unexpected token [",
        "the body is one JSON object",
        body=[{"dueTime": "1s"}],
    ),
    Case(
        "due-number",
        '`"dueTime": 10` (a number)',
        400,
        "ERR_MALFORMED_REQUEST",
        "invalid value for string field dueTime",
        'durations are strings: `"10s"`',
        body={"dueTime": 10},
    ),
    Case(
        "repeats-string",
        '`"repeats": "3"` (a string)',
        204,
        "",
        "",
        "accepted (protobuf JSON reads numbers in strings): comes back as the number 3",
        body={"schedule": "@every 1h", "repeats": "3"},
    ),
    Case(
        "repeats-negative",
        '`"repeats": -1`',
        400,
        "ERR_MALFORMED_REQUEST",
        "invalid value for uint32 field repeats",
        "leave `repeats` out to repeat for ever; a count is 1 or more",
        body={"schedule": "@every 1h", "repeats": -1},
    ),
    Case(
        "repeats-zero",
        '`"repeats": 0`',
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "defined repeats must be greater than 0",
        "1 or more, or leave it out",
        body={"schedule": "@every 1h", "repeats": 0},
    ),
    Case(
        "repeats-fraction",
        '`"repeats": 2.5`',
        400,
        "ERR_MALFORMED_REQUEST",
        "invalid value for uint32 field repeats",
        "a whole number",
        body={"schedule": "@every 1h", "repeats": 2.5},
    ),
    Case(
        "overwrite-string",
        '`"overwrite": "yes"`',
        400,
        "ERR_MALFORMED_REQUEST",
        "invalid value for bool field overwrite",
        "`true` or `false`, without quotes",
        body={"dueTime": LATER, "overwrite": "yes"},
    ),
    Case(
        "interval-go-duration",
        'failure policy `"interval": "500ms"`',
        400,
        "ERR_MALFORMED_REQUEST",
        "invalid google.protobuf.Duration value",
        'a protobuf duration: seconds with an `s`, like `"0.5s"` or `"60s"` (not `1m`)',
        body={"dueTime": LATER, "failurePolicy": {"constant": {"interval": "500ms"}}},
    ),
    Case(
        "max-retries-negative",
        '`"maxRetries": -1`',
        400,
        "ERR_MALFORMED_REQUEST",
        "invalid value for uint32 field maxRetries",
        "leave `maxRetries` out to retry for ever (careful), or 0 or more",
        body={"dueTime": LATER, "failurePolicy": {"constant": {"maxRetries": -1}}},
    ),
    Case(
        "unknown-field",
        'a field Dapr does not know (`"every": "1h"`)',
        204,
        "",
        "",
        "accepted and ignored in silence: read the job back to see what was stored",
        body={"dueTime": LATER, "every": "1h"},
    ),
    Case(
        "unknown-policy",
        'failure policy `{"retry": {}}`',
        204,
        "",
        "",
        "ignored in silence: the job gets the default policy (1s, 3 retries)",
        body={"dueTime": LATER, "failurePolicy": {"retry": {}}},
    ),
    Case(
        "duplicate",
        "the same name twice",
        409,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "job already exists",
        'send `"overwrite": true` to replace it, or delete it first',
        body={"dueTime": LATER},
        schedule_first=True,
    ),
    # --- reading and deleting -------------------------------------------------------------------
    Case(
        "get-missing",
        "`GET` a job that does not exist",
        500,
        "DAPR_SCHEDULER_GET_JOB",
        "job not found",
        "not a 404: check the errorCode; the job may have fired already",
        method="GET",
    ),
    Case(
        "delete-missing",
        "`DELETE` a job that does not exist",
        204,
        "",
        "",
        "nothing to do: deleting is idempotent",
        method="DELETE",
    ),
    # --- paths and names ------------------------------------------------------------------------
    Case(
        "put",
        "`PUT` instead of `POST`",
        404,
        "ERR_DIRECT_INVOKE",
        "failed getting app id",
        "schedule with `POST`",
        method="PUT",
        body={"dueTime": LATER},
    ),
    Case(
        "no-name",
        "`POST /v1.0/jobs/` without a name",
        404,
        "ERR_DIRECT_INVOKE",
        "failed getting app id",
        "put the job's name in the path",
        name="",
        body={"dueTime": LATER},
    ),
    Case(
        "alpha-path",
        "the alpha path `/v1.0-alpha1/jobs/<name>`",
        204,
        "",
        "",
        "still works, but teach and use `/v1.0/jobs/`",
        prefix="/v1.0-alpha1/jobs/",
        body={"dueTime": LATER},
    ),
    Case(
        "name-space",
        "a name with a space (`R2 D2`)",
        204,
        "",
        "",
        "allowed (sent as `%20`); the app gets `POST /job/R2%20D2`",
        name="{n} D2",
        body={"dueTime": LATER},
    ),
    Case(
        "name-unicode",
        "a name with unicode (`R2-D2✓ß`)",
        204,
        "",
        "",
        "allowed",
        name="{n}-✓ß",
        body={"dueTime": LATER},
    ),
    Case(
        "name-slash",
        "a name with a slash (`droids/R2`)",
        404,
        "ERR_DIRECT_INVOKE",
        "failed getting app id",
        "no `/` in names; use `-` or `:`",
        name="droids/{n}",
        body={"dueTime": LATER},
    ),
    Case(
        "name-slash-encoded",
        "a slash sent as `%2F`",
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "must not contain '/'",
        "no `/`, `\\`, `#` or `?` in names",
        name="droids%2F{n}",
        body={"dueTime": LATER},
    ),
    Case(
        "name-question",
        "a name with `?` sent as `%3F`",
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "must not contain '/'",
        "no `/`, `\\`, `#` or `?` in names",
        name="{n}%3Fnow",
        body={"dueTime": LATER},
    ),
    Case(
        "name-control",
        "a tab in the name (`%09`)",
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "must not contain control characters",
        "printable characters only",
        name="{n}%09tab",
        body={"dueTime": LATER},
    ),
    Case(
        "name-dotdot",
        "the name `..`",
        404,
        "ERR_DIRECT_INVOKE",
        "failed getting app id",
        "`..` is read as a path step; pick a real name",
        name="..",
        body={"dueTime": LATER},
    ),
    Case(
        "name-400",
        "a 400-character name",
        204,
        "",
        "",
        "allowed: app ID and name together may take up to about 500 characters",
        name="{n}" + "x" * 387,
        body={"dueTime": LATER},
    ),
    Case(
        "name-600",
        "a 600-character name",
        500,
        "DAPR_SCHEDULER_SCHEDULE_JOB",
        "must be at most 512 characters",
        "keep names short: the 512 counts the scheduler's key, `app`, namespace, app ID and name",
        name="{n}" + "x" * 587,
        body={"dueTime": LATER},
    ),
]


@dataclass
class Outcome:
    status: int
    error_code: str
    message: str
    name: str  # the job name as the scheduler holds it (path segment, percent-decoded)


def run_case(http: httpx.Client, case: Case, *, namer: Callable[[str], str]) -> Outcome:
    """Send the case's request through a sidecar (`http` has the sidecar's base URL) and
    delete whatever it created. `namer(prefix)` makes the unique job name."""
    name = case.name.format(n=namer(case.key[:12]))
    url = case.prefix + name
    kwargs: dict[str, Any] = {}
    if isinstance(case.body, str):
        kwargs = {"content": case.body, "headers": {"content-type": "application/json"}}
    elif case.body is not None:
        kwargs = {"json": case.body}
    try:
        if case.schedule_first:
            http.request(case.method, url, **kwargs).raise_for_status()
        response = http.request(case.method, url, **kwargs)
    finally:
        if "/" not in name and name not in ("", ".."):
            http.delete(JOBS + name)  # 204 whether or not it was created
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        body = {}
    body = body if isinstance(body, dict) else {}
    return Outcome(
        response.status_code, body.get("errorCode", ""), body.get("message", ""), unquote(name)
    )


def markdown_table(rows: list[tuple[Case, Outcome]]) -> str:
    """The catalogue as a Markdown table: what was tried, the answer, what to do."""
    lines = [
        "| you tried | status | errorCode | message (start) | what to do |",
        "| --- | --- | --- | --- | --- |",
    ]
    for case, outcome in rows:
        message = _short(outcome.message)
        code = f"`{outcome.error_code}`" if outcome.error_code else ""
        lines.append(
            f"| {case.tried} | **{outcome.status}** | {code} | {message} | {case.advice} |"
        )
    return "\n".join(lines)


def _short(message: str, limit: int = 90) -> str:
    """The part of Dapr's message that says what went wrong, shortened for a table cell."""
    for noise in (
        "failed to schedule job due to: rpc error: code = Unknown desc = ",
        "failed to get job due to: rpc error: code = NotFound desc = ",
        "failed to schedule job due to: rpc error: code = AlreadyExists desc = ",
        "job failed validation: ",
    ):
        message = message.replace(noise, "")
    # protobuf writes "proto:" with a plain or a no-break space, varying by binary on purpose
    message = re.sub(r"failed deserializing HTTP body: proto:\s", "", message)
    message = re.sub(r"""["']app\|\|.*?["'](:|$)""", r"<name>\1", message)
    message = message.replace("|", "\\|").replace("\n", " ")
    return message if len(message) <= limit else message[: limit - 1] + "…"
