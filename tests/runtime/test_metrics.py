"""Which Prometheus counters move, in daprd and in the scheduler, on each thing a job does:
scheduled, deleted, delivered (200), failed (500), refused for good (404), bulk-deleted; and
daprd's log lines for the failures. One receiver, outcomes one after another, exact deltas."""

from __future__ import annotations

import pytest

from workbook.lessons.observability import (
    ObservedReceiver,
    counters,
    job_metrics,
    moved,
    scheduler_metrics_url,
    trigger_failures,
)
from workbook.runtime.apps import unique_name
from workbook.runtime.grpc_listing import GrpcJobs
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_until

CREATED = "dapr_scheduler_jobs_created_total{type=job}"
TRIGGERED = "dapr_scheduler_jobs_triggered_total{type=job}"
FAILED = "dapr_scheduler_jobs_failed_total{type=job}"
LATENCY = "dapr_scheduler_trigger_latency_count{type=job}"
SUCCESS = "dapr_component_job_success_count"
FAILURE = "dapr_component_job_failure_count"
OK_LATENCY = "dapr_component_job_latencies_count{success=true}"
FAILED_LATENCY = "dapr_component_job_latencies_count{success=false}"


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    with Scheduler.isolated(tmp_path_factory.mktemp("metrics")) as running:
        yield running


@pytest.fixture(scope="module")
def receiver(scheduler, tmp_path_factory):
    with ObservedReceiver(scheduler, log_dir=tmp_path_factory.mktemp("observed")) as running:
        yield running


@pytest.fixture
def snapshot(scheduler, receiver):
    def both() -> dict[str, float]:
        return job_metrics(receiver.metrics_url) | job_metrics(scheduler_metrics_url(scheduler))

    return both


def counts_after(snapshot, before: dict, expected: dict) -> dict:
    """Wait until the counters have moved by at least as much as `expected` in total, then
    return what moved (a counter that moves more, or another one, shows in the comparison)."""
    wait_until(
        lambda: sum(counters(moved(before, snapshot())).values()) >= sum(expected.values()),
        timeout=20,
        what=f"the counters to move by {expected}",
    )
    return counters(moved(before, snapshot()))


def test_scheduling_and_deleting_move_only_the_schedulers_counters(receiver, snapshot):
    name = unique_name("far")
    before = snapshot()
    receiver.jobs.schedule(name, due_time="1h", data={"answer": 200})
    assert counts_after(snapshot, before, {CREATED: 1}) == {CREATED: 1}
    before = snapshot()
    receiver.jobs.delete(name)
    deleted = "dapr_scheduler_jobs_deleted_total{type=job}"
    assert counts_after(snapshot, before, {deleted: 1}) == {deleted: 1}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (200, {CREATED: 1, TRIGGERED: 1, LATENCY: 1, SUCCESS: 1, OK_LATENCY: 1}),
        (500, {CREATED: 1, FAILED: 1, LATENCY: 1, FAILURE: 1, FAILED_LATENCY: 1}),
        # daprd counts a 404 as a failure; the scheduler counts it as triggered (not failed).
        (404, {CREATED: 1, TRIGGERED: 1, LATENCY: 1, FAILURE: 1, FAILED_LATENCY: 1}),
    ],
)
def test_one_delivery_per_outcome(receiver, snapshot, answer, expected):
    name = unique_name(f"answer-{answer}")
    before = snapshot()
    # drop: one delivery whatever the answer, so every count below is exactly one delivery's
    receiver.jobs.schedule(
        name, due_time="0s", data={"answer": answer}, failure_policy={"drop": {}}
    )
    receiver.wait_for_deliveries(name, 1)
    receiver.wait_gone(name)
    assert counts_after(snapshot, before, expected) == expected
    assert len(receiver.deliveries(name)) == 1


def test_each_retry_is_one_more_failure(receiver, snapshot):
    name = unique_name("retried")
    before = snapshot()
    receiver.jobs.schedule(
        name,
        due_time="0s",
        data={"answer": 500},
        failure_policy={"constant": {"interval": "0.1s", "maxRetries": 2}},
    )
    receiver.wait_for_deliveries(name, 3)
    receiver.wait_gone(name)
    expected = {CREATED: 1, FAILED: 3, LATENCY: 3, FAILURE: 3, FAILED_LATENCY: 3}
    assert counts_after(snapshot, before, expected) == expected


def test_a_bulk_delete_is_one_operation_whatever_it_deletes(receiver, snapshot):
    prefix = unique_name("bulk") + "-"
    for i in range(3):
        receiver.jobs.schedule(f"{prefix}{i}", due_time="1h", data={"answer": 200})
    before = snapshot()
    with GrpcJobs(receiver.sidecar.grpc_address) as grpc_jobs:
        grpc_jobs.delete_by_prefix(prefix)
        assert [job for job in grpc_jobs.names() if job.startswith(prefix)] == []
    bulk = "dapr_scheduler_jobs_bulk_deleted_total"
    assert counts_after(snapshot, before, {bulk: 1}) == {bulk: 1}


def test_each_sidecar_holds_three_connections_in_the_gauge(scheduler, receiver):
    gauge = "dapr_scheduler_sidecars_connected"
    url = scheduler_metrics_url(scheduler)
    wait_until(lambda: job_metrics(url)[gauge] == 3, timeout=10, what="one sidecar: 3")
    with Sidecar(unique_name("second"), scheduler_address=scheduler.address):
        wait_until(lambda: job_metrics(url)[gauge] == 6, timeout=10, what="two sidecars: 6")
    wait_until(lambda: job_metrics(url)[gauge] == 3, timeout=10, what="back to one: 3")


def test_daprd_logs_one_line_per_failed_delivery(receiver):
    retried, refused = unique_name("logged-500"), unique_name("logged-404")
    receiver.jobs.schedule(
        retried,
        due_time="0s",
        data={"answer": 500},
        failure_policy={"constant": {"interval": "0.1s", "maxRetries": 1}},
    )
    receiver.jobs.schedule(refused, due_time="0s", data={"answer": 404})
    receiver.settle(retried, refused)
    log = receiver.sidecar.process.log_text()
    unexpected = (
        'level=error msg="unexpected status code ... triggered job '
        f'{retried}. status code returned: 2"'
    )
    assert trigger_failures(log, retried) == [unexpected, unexpected]  # gRPC 2: Unknown
    assert trigger_failures(log, refused) == [
        f'level=error msg="non-retriable error ... triggered job {refused}. '
        'status code returned: 5"'  # gRPC 5: NotFound, not retried
    ]
    echo = (
        "failed to invoke schedule app job: unexpected status code returned from app "
        f"while processing triggered job {retried}."
    )
    assert log.count(echo) == 2  # each retriable failure is logged twice
