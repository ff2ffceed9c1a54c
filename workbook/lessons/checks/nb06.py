"""Checkers of notebook 06 (the Python SDK over gRPC). They schedule with the SDK what the
learner built, read it back over HTTP (the other side of the wire), or feed the learner's
decoder the bytes a gRPC app really received."""

from __future__ import annotations

import base64
import json

import httpx

from workbook.lessons.checks.sidecar_answers import DROID, said
from workbook.lessons.exercises import NotYet, answered


def _schedule_with_sdk(wb, name: str, **fields) -> httpx.Response:
    """Schedule Job(name, due in 1 h, **fields) through job_service's sidecar over gRPC, and
    return the HTTP GET of it (the caller deletes the job)."""
    from dapr.clients.grpc._jobs import Job

    with wb.sdk_client() as client:
        client.schedule_job(Job(name=name, due_time="1h", **fields))
    return httpx.get(f"{wb.sidecar_url}/v1.0/jobs/{name}", timeout=10)


def readable_over_http(wb, data) -> str:
    """6.1: an Any holding the droid JSON, such that the HTTP API can read the job back."""
    from google.protobuf.any_pb2 import Any

    data = answered(data, "`data`")
    if not isinstance(data, Any):
        raise NotYet(f"`data` should be a google.protobuf Any, not {type(data).__name__}")
    name = wb.name("ex6-1")
    try:
        read = _schedule_with_sdk(wb, name, data=data)
    finally:
        httpx.delete(f"{wb.sidecar_url}/v1.0/jobs/{name}")
    if read.status_code != 200:
        raise NotYet(
            f"scheduled, but GET over HTTP answered {said(read)}"
            + (
                ": give the Any a type: pack a google.protobuf.Value"
                if "type_url" in read.text
                else ""
            )
        )
    stored = read.json().get("data", {})
    if stored.get("value") != DROID:
        raise NotYet(
            f"GET answered 200 but the data reads {json.dumps(stored)}; expected the value "
            f"{json.dumps(DROID)} (a google.protobuf.Value made from the dict)"
        )
    return f"GET over HTTP answered 200 with data {json.dumps(stored)}"


def two_retries_a_second_apart(wb, policy) -> str:
    """6.3: an SDK failure policy of at most 2 retries, 1 s apart, as the runtime stores it."""
    from dapr.clients.grpc._jobs import FailurePolicy

    policy = answered(policy, "`policy`")
    if not isinstance(policy, FailurePolicy):
        raise NotYet(f"`policy` should be an SDK failure policy, not {type(policy).__name__}")
    name = wb.name("ex6-2")
    try:
        read = _schedule_with_sdk(wb, name, data=None, failure_policy=policy)
    finally:
        httpx.delete(f"{wb.sidecar_url}/v1.0/jobs/{name}")
    stored = read.json().get("failurePolicy")
    wanted = {"constant": {"interval": "1s", "maxRetries": 2}}
    if stored != wanted:
        forever = isinstance(stored, dict) and "maxRetries" not in stored.get("constant", {"x": 0})
        raise NotYet(
            f"the runtime stored the policy as {json.dumps(stored)}; wanted {json.dumps(wanted)}"
            + (": without max_retries it retries for ever" if forever else "")
        )
    return f"the runtime stored {json.dumps(stored)}"


def decodes_value_bytes(decode, event: dict, expected: dict) -> str:
    """6.2: decode(bytes) turns what a gRPC app got for an HTTP-scheduled job into the dict."""
    decode = answered(decode, "`decode`")
    raw = base64.b64decode(event["data_b64"])
    try:
        got = decode(raw)
    except Exception as error:
        raise NotYet(
            f"decode raised {type(error).__name__}: {error}; these {len(raw)} bytes start "
            f"{raw[:12]!r}: they are a binary google.protobuf.Value, not JSON text"
        ) from None
    if got != expected:
        raise NotYet(f"decode returned {got!r}; expected {expected!r}")
    return f"decoded {len(raw)} bytes of a google.protobuf.Value into {got}"


WRONG = {
    "6.1": "data = Any(value=json.dumps(droid).encode())  # JSON bytes, no type URL",
    "6.3": "policy = ConstantFailurePolicy(interval_seconds=1)",
    "6.2": "def decode(data: bytes) -> dict:\n    return json.loads(data)",
}
