"""The gRPC listing helper without a runtime: jobs as ListJobs returns them, and plain words."""

from __future__ import annotations

import pytest
from dapr.proto.runtime.v1 import jobs_pb2
from google.protobuf import any_pb2, json_format, struct_pb2, wrappers_pb2

from workbook.runtime.grpc_listing import GrpcJobs, ListedJob, ListingError
from workbook.runtime.processes import free_port


def json_any(value) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(json_format.ParseDict(value, struct_pb2.Value()))
    return packed


def test_a_listed_job_keeps_only_the_fields_set():
    job = jobs_pb2.Job(name="r2-oil", due_time="1h", data=json_any({"droid": "R2-D2"}))
    listed = ListedJob.from_proto(job)
    assert (listed.name, listed.due_time, listed.schedule, listed.repeats) == (
        "r2-oil",
        "1h",
        None,
        None,
    )
    assert listed.data == {"droid": "R2-D2"}
    assert listed.fields_set == ("name", "due_time", "data")
    assert listed.failure_policy is None


def test_data_of_another_type_keeps_its_bytes():
    packed = any_pb2.Any()
    packed.Pack(wrappers_pb2.StringValue(value="R2-D2"))
    listed = ListedJob.from_proto(jobs_pb2.Job(name="sdk", schedule="@daily", data=packed))
    assert listed.data is None
    assert listed.data_type_url == "type.googleapis.com/google.protobuf.StringValue"
    assert listed.data_bytes == b"\n\x05R2-D2"


def test_repeats_zero_is_not_the_same_as_unset():
    assert ListedJob.from_proto(jobs_pb2.Job(name="x", repeats=0)).repeats == 0
    assert ListedJob.from_proto(jobs_pb2.Job(name="x")).repeats is None


def test_nobody_listening_is_said_plainly():
    address = f"127.0.0.1:{free_port()}"
    with GrpcJobs(address, timeout=2) as grpc_jobs, pytest.raises(ListingError) as no:
        grpc_jobs.list()
    assert no.value.code == "UNAVAILABLE"
    assert str(no.value).startswith(f"could not list jobs: no sidecar answers on {address}")


def test_an_empty_prefix_must_be_said_with_delete_all():
    with (
        GrpcJobs(f"127.0.0.1:{free_port()}") as grpc_jobs,
        pytest.raises(ValueError, match=r"delete_all\(\)"),
    ):
        grpc_jobs.delete_by_prefix("")


@pytest.mark.parametrize(
    ("code", "details", "words"),
    [
        ("UNAUTHENTICATED", "Unauthorized", "wants a dapr-api-token"),
        ("UNIMPLEMENTED", "Received http2 header with status: 404", "answers HTTP, not gRPC"),
        ("UNIMPLEMENTED", "unknown service", "stable from Dapr 1.18"),
        ("INTERNAL", "etcd is gone", "refused: etcd is gone"),
        (
            "RESOURCE_EXHAUSTED",
            "grpc: trying to send message larger than max (5010000 vs. 4194304)",
            "larger than the sidecar lets one gRPC message be",
        ),
        (
            "RESOURCE_EXHAUSTED",
            "CLIENT: Received message larger than max (5010000 vs. 4194304)",
            "larger than this client lets one gRPC message be",
        ),
    ],
)
def test_plain_words_per_code(code, details, words):
    assert words in ListingError("list jobs", "127.0.0.1:1", code, details).plain_words()
