"""ListJobs and DeleteJobsByPrefix (gRPC only in Dapr 1.18) on the real runtime: which fields a
listed job carries, one answer with no pagination, and the scope: the calling app ID only."""

from __future__ import annotations

import httpx
import pytest

from jobs_client import JobsClient
from workbook.runtime.apps import unique_name
from workbook.runtime.grpc_listing import GrpcJobs, ListedJob, ListingError
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar

API_TOKEN = "api-" + unique_name("token")
DATA = {"droid": "R2-D2", "task": "Oil Change"}
DEFAULT_POLICY = {"constant": {"interval": "1s", "maxRetries": 3}}


@pytest.fixture(scope="module")
def sidecars(tmp_path_factory):
    """Two sidecars of one app ID ("droids"; the second may send 16 MiB answers), and one of
    another app ID that wants an API token."""
    logs = tmp_path_factory.mktemp("listing")
    with Scheduler.isolated(logs / "scheduler") as scheduler:
        droids, other = unique_name("droids"), unique_name("other")
        running = {
            "droids": Sidecar(droids, scheduler_address=scheduler.address, log_path=logs / "a"),
            "droids-again": Sidecar(
                droids,
                scheduler_address=scheduler.address,
                log_path=logs / "b",
                extra_args=["--max-body-size", "16Mi"],
            ),
            "other": Sidecar(
                other, scheduler_address=scheduler.address, api_token=API_TOKEN, log_path=logs / "c"
            ),
        }
        try:
            for sidecar in running.values():
                sidecar.launch()
            for sidecar in running.values():
                sidecar.wait_ready()
            yield running
        finally:
            for sidecar in running.values():
                sidecar.stop()


@pytest.fixture
def droids(sidecars):
    """HTTP and gRPC clients of the "droids" sidecar; every job of that app ID is deleted after."""
    with (
        JobsClient(sidecars["droids"].http_url) as http,
        GrpcJobs(sidecars["droids"].grpc_address) as grpc_jobs,
    ):
        yield http, grpc_jobs
        grpc_jobs.delete_all()


@pytest.fixture
def other(sidecars):
    sidecar = sidecars["other"]
    with (
        JobsClient(sidecar.http_url, api_token=API_TOKEN) as http,
        GrpcJobs(sidecar.grpc_address, api_token=API_TOKEN) as grpc_jobs,
    ):
        yield http, grpc_jobs
        grpc_jobs.delete_all()


def test_http_has_no_list(sidecars):
    assert httpx.get(f"{sidecars['droids'].http_url}/v1.0/jobs").status_code == 404


def test_listed_jobs_carry_what_was_sent_and_the_default_policy(droids):
    http, grpc_jobs = droids
    http.schedule("r2-oil", due_time="1h", data=DATA)
    http.schedule(
        "r2-polish",
        schedule="@every 1h",
        repeats=3,
        ttl="2h",
        data={"count": 2},
        failure_policy={"drop": {}},
    )
    http.schedule("c3-zoned", schedule="CRON_TZ=Asia/Kolkata 0 0 0 * * *")
    listed = {job.name: job for job in grpc_jobs.list()}
    value = "type.googleapis.com/google.protobuf.Value"
    assert listed["r2-oil"] == ListedJob(
        name="r2-oil",
        due_time="1h",  # as sent, not the instant it falls due
        data=DATA,
        data_type_url=value,
        data_bytes=listed["r2-oil"].data_bytes,
        failure_policy=DEFAULT_POLICY,
        fields_set=("name", "due_time", "data", "failure_policy"),
    )
    polish = listed["r2-polish"]
    assert (polish.schedule, polish.repeats, polish.ttl, polish.due_time) == (
        "@every 1h",
        3,
        "2h",
        None,
    )
    assert polish.data == {"count": 2.0}
    assert polish.failure_policy == {"drop": {}}
    assert listed["c3-zoned"].fields_set == ("name", "schedule", "failure_policy")
    assert listed["c3-zoned"].data is None
    # The same job read over HTTP: GET holds the same fields (data wrapped the same way).
    got = http.get("r2-polish")
    assert got["data"] == {"@type": value, "value": {"count": 2}}
    assert set(got) == {"name", "schedule", "repeats", "ttl", "data", "failurePolicy"}


def test_scope_is_the_app_id_not_the_sidecar(sidecars, droids, other):
    http, grpc_jobs = droids
    other_http, other_grpc = other
    for name in ("r2-oil", "r2-polish", "r2d2-firmware", "c3-wax"):
        http.schedule(name, due_time="1h", data=DATA)
    for name in ("r2-oil", "r2-wax"):
        other_http.schedule(name, due_time="1h", data=DATA)

    # A second sidecar of the same app ID lists the same jobs; the other app ID its own only.
    with GrpcJobs(sidecars["droids-again"].grpc_address) as again:
        assert again.names() == ["c3-wax", "r2-oil", "r2-polish", "r2d2-firmware"]
    assert other_grpc.names() == ["r2-oil", "r2-wax"]

    # The prefix is a plain string prefix ("r2-" spares "r2d2-"); the other app keeps its jobs.
    grpc_jobs.delete_by_prefix("r2-")
    assert grpc_jobs.names() == ["c3-wax", "r2d2-firmware"]
    assert other_grpc.names() == ["r2-oil", "r2-wax"]
    grpc_jobs.delete_by_prefix("r2")
    assert grpc_jobs.names() == ["c3-wax"]
    grpc_jobs.delete_by_prefix("nothing-matches")  # no error, no count
    grpc_jobs.delete_all()
    assert grpc_jobs.names() == []
    assert other_grpc.names() == ["r2-oil", "r2-wax"]
    assert other_http.get("r2-oil")["name"] == "r2-oil"


def test_errors_in_plain_words(sidecars):
    guarded = sidecars["other"].grpc_address
    for token in (None, "wrong"):
        with GrpcJobs(guarded, api_token=token) as anonymous, pytest.raises(ListingError) as no:
            anonymous.list()
        assert (no.value.code, no.value.details) == ("UNAUTHENTICATED", "Unauthorized")
        assert "wants a dapr-api-token" in str(no.value)

    http_port = f"127.0.0.1:{sidecars['droids'].http_port}"
    with GrpcJobs(http_port, timeout=5) as wrong_port, pytest.raises(ListingError) as no:
        wrong_port.list()
    assert no.value.code == "UNIMPLEMENTED"
    assert "answers HTTP, not gRPC" in str(no.value)

    with (
        GrpcJobs(sidecars["droids"].grpc_address) as grpc_jobs,
        pytest.raises(ValueError, match="delete_all"),
    ):
        grpc_jobs.delete_by_prefix("")


def test_one_answer_must_fit_in_one_grpc_message(sidecars, droids):
    """No pagination: all 100 jobs come in one answer, and 100 jobs of 50 kB each make a 5 MB
    answer, over the 4 MiB that daprd sends by default (--max-body-size) and that a gRPC client
    receives by default."""
    http, grpc_jobs = droids
    blob = "x" * 50_000
    for i in range(100):
        http.schedule(f"big-{i:03d}", due_time="1h", data={"blob": blob})
    with pytest.raises(ListingError) as no:
        grpc_jobs.list()
    assert no.value.code == "RESOURCE_EXHAUSTED"
    assert "trying to send message larger than max (5010000 vs. 4194304)" in no.value.details
    assert "larger than the sidecar lets one gRPC message be" in str(no.value)

    roomy = sidecars["droids-again"].grpc_address  # same app ID, --max-body-size 16Mi
    with GrpcJobs(roomy) as default_client, pytest.raises(ListingError) as no:
        default_client.list()
    assert "Received message larger than max (5010000 vs. 4194304)" in no.value.details
    assert "larger than this client lets one gRPC message be" in str(no.value)
    with GrpcJobs(roomy, max_message_bytes=16 * 1024 * 1024) as big_client:
        # one answer, every job: no page size, no page token
        assert big_client.names() == [f"big-{i:03d}" for i in range(100)]
