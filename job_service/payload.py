"""What a droid maintenance trigger may carry, and the one-line reason when it is unusable."""

from __future__ import annotations

import itertools
import json
import re
import sys
from dataclasses import dataclass

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32  # arrays/objects nested deeper are refused before json.loads sees them (below)
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')  # brackets inside a string do not nest
STRING_VALUE_TYPE = "type.googleapis.com/google.protobuf.StringValue"


class InvalidPayload(ValueError):
    """The trigger's body can never be processed; str() is the one-line reason."""


@dataclass(frozen=True)
class MaintenanceJob:
    droid: str
    task: str
    run: str | None = None  # an idempotency key the scheduler of the job chose, if any


def parse_payload(body: bytes) -> MaintenanceJob:
    """Accept the three forms learners send (the body is the job's `data`, as JSON):

    - {"droid": "R2-D2", "task": "Oil Change"}, optionally with "run": "<key>" (see app.py)
    - "R2-D2:Oil Change"
    - {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "R2-D2:Oil Change"}
      (the shape of older quickstarts; Dapr 1.18 passes it through as plain JSON)
    """
    if len(body) > MAX_BODY_BYTES:
        raise InvalidPayload(f"body is larger than {MAX_BODY_BYTES} bytes")
    if not body.strip():
        raise InvalidPayload("empty body: the job was scheduled without data")
    data = _json(body)

    if isinstance(data, str):
        return _from_text(data)
    if not isinstance(data, dict):
        raise InvalidPayload(f"expected a JSON object or string, got {type(data).__name__}")
    if "@type" in data:
        if data["@type"] != STRING_VALUE_TYPE:
            raise InvalidPayload(f"unsupported @type {str(data['@type'])[:80]!r}")
        if not isinstance(data.get("value"), str):
            raise InvalidPayload('"@type" payload needs a string "value" like "R2-D2:Oil Change"')
        return _from_text(data["value"])
    droid, task, run = data.get("droid"), data.get("task"), data.get("run")
    if not isinstance(droid, str) or not isinstance(task, str):
        raise InvalidPayload('expected {"droid": "<name>", "task": "<task>"} with two strings')
    job = _checked(droid, task)
    if run is None:
        return job
    if isinstance(run, bool) or not isinstance(run, str | int) or not str(run).strip():
        raise InvalidPayload('"run" must be a non-empty string or a number')
    if len(str(run)) > 100 or not str(run).isprintable():
        raise InvalidPayload('"run" must be printable and at most 100 characters')
    return MaintenanceJob(job.droid, job.task, str(run).strip())


def _json(body: bytes):
    """The body as JSON. Python's json raises more than JSONDecodeError, and each would be a
    500 (which Dapr retries): RecursionError past about 1,000 levels of nesting (a 2 KB body
    of "["), ValueError for an integer of more than 4,300 digits. So nesting is checked first
    (the same answer whatever the call stack) and every failure becomes InvalidPayload."""
    try:
        text = body.decode("utf-8")  # what Dapr sends; RFC 8259 wants UTF-8 too
    except UnicodeDecodeError:
        raise InvalidPayload("body is not UTF-8 text") from None
    if _nesting(text) > MAX_DEPTH:
        raise InvalidPayload(f"body nests arrays or objects deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise InvalidPayload(f"body is not JSON: {error}") from None
    except RecursionError:  # cannot happen below MAX_DEPTH; kept as a safety net
        raise InvalidPayload("body nests arrays or objects too deeply") from None
    except ValueError as error:  # the integer-from-string limit, or a duplicate key
        if isinstance(error, InvalidPayload):
            raise
        digits = sys.get_int_max_str_digits()
        raise InvalidPayload(f"body has a number of more than {digits} digits") from None


def _nesting(text: str) -> int:
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # too few brackets to be too deep: no need to look
    steps = (1 if c in "[{" else -1 for c in _JSON_STRING.sub("", text) if c in "[]{}")
    return max(itertools.accumulate(steps), default=0)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """An object whose keys are all different: with {"droid": "R2-D2", "droid": "C-3PO"}
    which droid is meant? Python would silently take the last one."""
    data = dict(pairs)
    if len(data) < len(pairs):
        twice = next(k for i, (k, _) in enumerate(pairs) if k in dict(pairs[:i]))
        raise InvalidPayload(f"key {twice[:80]!r} appears twice in one object")
    return data


def _from_text(text: str) -> MaintenanceJob:
    droid, sep, task = text.partition(":")
    if not sep:
        raise InvalidPayload('expected "<droid>:<task>", like "R2-D2:Oil Change"')
    return _checked(droid, task)


def _checked(droid: str, task: str) -> MaintenanceJob:
    droid, task = droid.strip(), task.strip()
    for field, value in (("droid", droid), ("task", task)):
        if not value:
            raise InvalidPayload(f"{field} is empty")
        if len(value) > 200:
            raise InvalidPayload(f"{field} is longer than 200 characters")
        if not value.isprintable():
            raise InvalidPayload(f"{field} has control characters")
    return MaintenanceJob(droid, task)
