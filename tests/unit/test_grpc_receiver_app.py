"""The gRPC experiment app (its real child process, no Dapr needed) called the way daprd calls
it: hostile job data is recorded, never a handler error; a job name it has no handler for is
answered UNIMPLEMENTED with one log line and no traceback; the app keeps serving."""

from __future__ import annotations

import base64
import sys

import grpc
import pytest
from dapr.proto.runtime.v1 import appcallback_pb2, appcallback_pb2_grpc
from google.protobuf.any_pb2 import Any

from workbook.experiments._shared.safe_input import MAX_DEPTH
from workbook.experiments._shared.trigger_store import read_mirror
from workbook.runtime.processes import ManagedProcess, free_port, port_in_use
from workbook.runtime.waiting import wait_for_count, wait_until

KNOWN = "backup"
HOSTILE = {
    b"[" * 5000 + b"]" * 5000: f"body nests arrays or objects deeper than {MAX_DEPTH} levels",
    b"1" * 5000: "body has a number of more than 4300 digits",
    b"\xff\xfe{": "body is not UTF-8 text",
    b'{"a": 1, "a": 2}': None,  # the receiver records JSON as Python reads it
    b'{"task": "\\ud800", "metadata": {"DBName": "\\udfff"}}': None,  # lone surrogates
}


@pytest.fixture(scope="module")
def grpc_app(tmp_path_factory):
    base = tmp_path_factory.mktemp("grpc-app")
    port = free_port()
    record = base / "got.jsonl"
    command = [sys.executable, "-m", "workbook.experiments.grpc_receiver.app"]
    process = ManagedProcess(
        "grpc-app",
        [*command, "--port", str(port), "--record", str(record), KNOWN],
        log_path=base / "app.log",
    ).start()
    try:
        wait_until(lambda: port_in_use(port), timeout=30, what="the gRPC app")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield process, appcallback_pb2_grpc.AppCallbackStub(channel), record
    finally:
        process.stop()


def event(name: str, data: bytes) -> appcallback_pb2.JobEventRequest:
    return appcallback_pb2.JobEventRequest(name=name, data=Any(value=data))


def test_hostile_data_is_recorded_never_an_error(grpc_app):
    process, stub, record = grpc_app
    for data in HOSTILE:
        stub.OnJobEvent(event(KNOWN, data), timeout=10)
    handled = wait_for_count(
        lambda: [r for r in read_mirror(record) if r["kind"] == "handler"],
        len(HOSTILE),
        10,
        "handler records",
    )
    assert [r["json_problem"] for r in handled] == list(HOSTILE.values())
    assert [base64.b64decode(r["data_b64"]) for r in handled] == list(HOSTILE)
    assert {w["outcome"] for w in read_mirror(record) if w["kind"] == "wire"} == {"ok"}
    assert "Traceback" not in process.log_text()
    assert "backing up \\udfff" in process.log_text()  # escaped, not a UnicodeEncodeError


def test_unknown_job_is_unimplemented_with_one_line(grpc_app):
    process, stub, record = grpc_app
    with pytest.raises(grpc.RpcError) as refused:
        stub.OnJobEvent(event("no-handler", b"{}"), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "Job event handler for no-handler not implemented" in refused.value.details()
    wait_until(lambda: "'no-handler'" in process.log_text(), timeout=5, what="its log line")
    lines = [line for line in process.log_text().splitlines() if "no-handler" in line]
    assert lines == [
        "job 'no-handler': UNIMPLEMENTED: Job event handler for no-handler not implemented!"
    ]
    assert "Traceback" not in process.log_text()
    [wire] = [r for r in read_mirror(record) if r["name"] == "no-handler"]
    assert wire["outcome"].startswith("error: Job event handler for no-handler")
    stub.OnJobEvent(event(KNOWN, b"{}"), timeout=10)  # still serving
