"""Does a Resiliency spec with the app as its target (a timeout and retries) apply to job
triggers? Measured on the real runtime: it applies to service invocation of the same app
through the same sidecar, and not to job triggers, which only the job's failure policy governs
(and a hanging handler is never timed out)."""

from __future__ import annotations

import pytest

from workbook.experiments.failing_receiver.harness import gaps
from workbook.lessons.observability import ObservedReceiver, Resiliency
from workbook.runtime.apps import unique_name
from workbook.runtime.scheduler import Scheduler

SPEC = Resiliency(timeout="500ms", retries=2, retry_interval="100ms")
HANG = {"answer": "hang", "seconds": 2, "then": 200}
# Invocation attempts hang longer, so a timeout that did not apply would show even under load.
LONG_HANG = {"answer": "hang", "seconds": 5, "then": 200}


@pytest.fixture(scope="module")
def own_scheduler(tmp_path_factory):
    with Scheduler.isolated(tmp_path_factory.mktemp("resiliency")) as running:
        yield running


@pytest.fixture(scope="module")
def receiver(own_scheduler, tmp_path_factory):
    with ObservedReceiver(
        own_scheduler, resiliency=SPEC, log_dir=tmp_path_factory.mktemp("resilient")
    ) as running:
        yield running


def test_daprd_loaded_the_spec(receiver):
    log = receiver.sidecar.process.log_text()
    assert 'msg="Loading Resiliency configuration: droid-app-calls"' in log


def test_service_invocation_is_timed_out_and_retried(receiver):
    path = f"job/{unique_name('invoked-hang')}"
    answer = receiver.invoke(path, LONG_HANG)
    assert answer.status_code == 500
    assert answer.json()["errorCode"] == "ERR_DIRECT_INVOKE"
    assert "context deadline exceeded" in answer.json()["message"]
    deliveries = receiver.wait_for_deliveries(path.split("/", 1)[1], 3)
    # three attempts, each cut after 0.5 s (the spec) and 0.1 s apart (0.6 s), never the 5 s
    # the app hangs (a busy machine may add a second, not four)
    assert len(deliveries) == 3
    spacing = gaps(deliveries)
    assert all(0.5 <= gap < 2.5 for gap in spacing), spacing

    failing = unique_name("invoked-500")
    assert receiver.invoke(f"job/{failing}", {"answer": 500}).status_code == 500
    assert len(receiver.deliveries(failing)) == 3  # 1 + the spec's 2 retries


def test_a_hanging_job_handler_is_not_timed_out(receiver):
    name = unique_name("job-hang")
    receiver.jobs.schedule(name, due_time="0s", data=HANG, failure_policy={"drop": {}})
    [delivery] = receiver.wait_for_deliveries(name, 1)
    receiver.wait_gone(name)
    receiver.fence()  # anything else daprd would send for this job has had time to arrive
    deliveries = receiver.deliveries(name)
    assert len(deliveries) == 1
    held = deliveries[0]["answered_at"] - delivery["at"]
    assert held >= 2.0  # the whole hang: the spec's 500 ms timeout did not cut it
    assert deliveries[0]["status"] == 200


def test_job_retries_follow_the_failure_policy_not_the_spec(receiver, timing):
    dropped, retried = unique_name("job-500-drop"), unique_name("job-500-constant")
    receiver.jobs.schedule(
        dropped, due_time="0s", data={"answer": 500}, failure_policy={"drop": {}}
    )
    receiver.jobs.schedule(
        retried,
        due_time="0s",
        data={"answer": 500},
        failure_policy={"constant": {"interval": "1s", "maxRetries": 1}},
    )
    receiver.settle(dropped, retried)
    assert len(receiver.deliveries(dropped)) == 1  # the spec's 2 retries did not happen
    deliveries = receiver.deliveries(retried)
    assert len(deliveries) == 2
    # the policy's 1 s, not the spec's 0.1 s (judged against this machine's timing baseline)
    [gap] = gaps(deliveries)
    assert timing.pace_problem([gap], 1.0) is None, timing.pace_problem([gap], 1.0)
