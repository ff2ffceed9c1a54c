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

from workbook.lessons.error_cases import CATALOGUE, JOBS, LATER, Case

__all__ = ["CATALOGUE", "JOBS", "LATER", "Case", "Outcome", "markdown_table", "run_case"]


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
