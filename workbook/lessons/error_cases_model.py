"""One case of the Jobs API error catalogue (error_cases.py): a request a learner might send the
sidecar, and the answer Dapr 1.18.3 gives it (measured)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
