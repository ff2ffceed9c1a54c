"""Listing jobs and deleting them by name prefix: the two Jobs API calls that only gRPC has.

Dapr 1.18 serves `ListJobs` and `DeleteJobsByPrefix` on the sidecar's gRPC port (HTTP has no
list: `GET /v1.0/jobs` answers 404). The Python SDK 1.18.3 wraps neither; its generated stubs
(`dapr.proto.runtime.v1.jobs_pb2`, `dapr_pb2_grpc.DaprStub`) call them on a channel of our own.

    with GrpcJobs(sidecar.grpc_address) as grpc_jobs:
        for job in grpc_jobs.list():          # every job of the sidecar's app ID, in one answer
            print(job.name, job.schedule, job.due_time, job.data)
        grpc_jobs.delete_by_prefix("r2-")     # the jobs of this app ID whose names start so
        grpc_jobs.delete_all()                # every job of this app ID

Both calls are scoped to the calling sidecar's app ID (and namespace): another app's jobs are
never listed or deleted. With no pagination, the whole listing is one gRPC message, and each
side caps it at 4 MiB by default: daprd sends no more than its `--max-body-size` (4Mi) and the
client receives no more than `max_message_bytes` (gRPC's default, 4 MiB). Errors are
ListingError, whose message says what went wrong in plain words. The SDK (grpcio, protobuf)
is imported on first use, so importing this module is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GRPC_DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024
API_TOKEN_HEADER = "dapr-api-token"  # noqa: S105 (a header name, not a secret)
JSON_VALUE_TYPE = "type.googleapis.com/google.protobuf.Value"


@dataclass(frozen=True)
class ListedJob:
    """One job as ListJobs returns it. A field the job does not set is None (ListJobs leaves it
    out); `due_time` and `ttl` come back as they were sent (e.g. "1h"), not as instants."""

    name: str
    schedule: str | None = None
    due_time: str | None = None
    repeats: int | None = None
    ttl: str | None = None
    data: Any = None  # the JSON value, when the data is a google.protobuf.Value (HTTP API)
    data_type_url: str | None = None  # what the data's Any says it holds
    data_bytes: bytes = b""  # the Any's raw value (for data of another type than Value)
    failure_policy: dict | None = None  # e.g. {"constant": {"interval": "1s", "maxRetries": 3}}
    fields_set: tuple[str, ...] = field(default=())  # the proto fields present, in proto order

    @classmethod
    def from_proto(cls, job) -> ListedJob:
        """From a dapr.proto.runtime.v1.jobs_pb2.Job."""
        from google.protobuf import json_format, struct_pb2

        present = tuple(descriptor.name for descriptor, _ in job.ListFields())
        data = type_url = None
        raw = b""
        if job.HasField("data"):
            type_url, raw = job.data.type_url, job.data.value
            if type_url == JSON_VALUE_TYPE:
                value = struct_pb2.Value()
                job.data.Unpack(value)
                data = json_format.MessageToDict(value)
        policy = None
        if job.HasField("failure_policy"):
            policy = json_format.MessageToDict(job.failure_policy)
        return cls(
            name=job.name,
            schedule=job.schedule if job.HasField("schedule") else None,
            due_time=job.due_time if job.HasField("due_time") else None,
            repeats=job.repeats if job.HasField("repeats") else None,
            ttl=job.ttl if job.HasField("ttl") else None,
            data=data,
            data_type_url=type_url,
            data_bytes=raw,
            failure_policy=policy,
            fields_set=present,
        )


class ListingError(Exception):
    """A ListJobs or DeleteJobsByPrefix call that did not succeed, in plain words."""

    def __init__(self, action: str, address: str, code_name: str, details: str):
        self.action = action
        self.address = address
        self.code = code_name  # the gRPC status code's name, e.g. "UNAUTHENTICATED"
        self.details = details
        super().__init__(f"could not {action}: {self.plain_words()} (gRPC {code_name})")

    def plain_words(self) -> str:
        if self.code == "UNAVAILABLE":
            return (
                f"no sidecar answers on {self.address} (is daprd running, and is this its "
                "gRPC port, --dapr-grpc-port, not its HTTP port?)"
            )
        if self.code == "UNAUTHENTICATED":
            return "the sidecar wants a dapr-api-token (DAPR_API_TOKEN): pass api_token="
        if self.code == "UNIMPLEMENTED" and "http2 header with status" in self.details:
            return (
                f"{self.address} answers HTTP, not gRPC: is it the sidecar's HTTP port "
                "(--dapr-http-port)? ListJobs needs its gRPC port (--dapr-grpc-port)"
            )
        if self.code == "UNIMPLEMENTED":
            return (
                "this sidecar has no such call (ListJobs and DeleteJobsByPrefix are stable "
                "from Dapr 1.18; 1.17 has only the ...Alpha1 forms)"
            )
        if self.code == "RESOURCE_EXHAUSTED" and "larger than max" in self.details:
            side = "this client" if "Received message" in self.details else "the sidecar"
            return (
                f"the listing is larger than {side} lets one gRPC message be ({self.details}); "
                "ListJobs has no pagination: start daprd with a larger --max-body-size and "
                "pass a larger max_message_bytes"
            )
        if self.code == "DEADLINE_EXCEEDED":
            return f"the sidecar on {self.address} did not answer in time"
        return f"the sidecar or the scheduler refused: {self.details}"


class GrpcJobs:
    """ListJobs and DeleteJobsByPrefix on one sidecar's gRPC port (host:port)."""

    def __init__(
        self,
        grpc_address: str,
        *,
        api_token: str | None = None,
        timeout: float = 10,
        max_message_bytes: int = GRPC_DEFAULT_MAX_MESSAGE,
    ):
        import grpc
        from dapr.proto.runtime.v1 import dapr_pb2_grpc

        self.address = grpc_address
        self.timeout = timeout
        self.metadata = ((API_TOKEN_HEADER, api_token),) if api_token else ()
        options = [("grpc.max_receive_message_length", max_message_bytes)]
        self.channel = grpc.insecure_channel(grpc_address, options=options)
        self.stub = dapr_pb2_grpc.DaprStub(self.channel)

    def list(self) -> list[ListedJob]:
        """Every job of the calling app ID, in one answer (the call has no pagination)."""
        from dapr.proto.runtime.v1 import jobs_pb2

        answer = self._call("list jobs", self.stub.ListJobs, jobs_pb2.ListJobsRequest())
        return [ListedJob.from_proto(job) for job in answer.jobs]

    def names(self) -> list[str]:
        return sorted(job.name for job in self.list())

    def delete_by_prefix(self, prefix: str) -> None:
        """Delete the jobs of the calling app ID whose names start with `prefix` (a plain string
        prefix: "r2" also matches "r2d2-..."). Dapr answers with no count. An empty prefix would
        delete every job of the app ID: say so with delete_all()."""
        if not prefix:
            raise ValueError(
                "an empty prefix deletes every job of this app ID: call delete_all() for that"
            )
        self._delete(prefix)

    def delete_all(self) -> None:
        """Delete every job of the calling app ID (an empty prefix)."""
        self._delete("")

    def _delete(self, prefix: str) -> None:
        from dapr.proto.runtime.v1 import jobs_pb2

        request = jobs_pb2.DeleteJobsByPrefixRequest(name_prefix=prefix)
        self._call(f"delete jobs by prefix {prefix!r}", self.stub.DeleteJobsByPrefix, request)

    def _call(self, action: str, method, request):
        import grpc

        try:
            return method(request, timeout=self.timeout, metadata=self.metadata)
        except grpc.RpcError as error:
            code = error.code().name if error.code() else "UNKNOWN"
            raise ListingError(action, self.address, code, error.details() or "") from None

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> GrpcJobs:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
