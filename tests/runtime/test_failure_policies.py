"""Failure policies measured on the real runtime: how often, and how far apart, daprd delivers a
trigger to an app that answers with each HTTP status (workbook/failing_app.py, notebook 04)."""

from __future__ import annotations

import pytest

from workbook.experiments.failing_receiver.harness import FailingReceiver
from workbook.experiments.failing_receiver.harness import gaps as delivery_gaps
from workbook.runtime.apps import unique_name

CONSTANT = {"constant": {"interval": "0.5s", "maxRetries": 2}}
# case: (job data, failure policy, deliveries expected, seconds between deliveries)
CASES = {
    "500": ({"answer": 500}, None, 4, 1.0),
    "400": ({"answer": 400}, None, 4, 1.0),
    "422": ({"answer": 422}, None, 4, 1.0),
    "401": ({"answer": 401}, None, 4, 1.0),
    "503": ({"answer": 503}, None, 4, 1.0),
    "302": ({"answer": 302}, None, 4, 1.0),
    "404": ({"answer": 404}, None, 1, None),
    "200": ({"answer": 200}, None, 1, None),
    "201": ({"answer": 201}, None, 1, None),
    "204": ({"answer": 204}, None, 1, None),
    "200-says-RETRY": ({"answer": 200, "body": {"status": "RETRY"}}, None, 1, None),
    "500-says-SUCCESS": ({"answer": 500, "body": {"status": "SUCCESS"}}, None, 4, 1.0),
    "500-says-DROPPED": ({"answer": 500, "body": {"status": "DROPPED"}}, None, 4, 1.0),
    "constant-0.5s-2": ({"answer": 500}, CONSTANT, 3, 0.5),
    "drop": ({"answer": 500}, {"drop": {}}, 1, None),
    "no-interval": ({"answer": 500}, {"constant": {"maxRetries": 2}}, 3, 0.0),
}
# The gaps are judged against the machine's measured timing baseline
# (tests/runtime/timing_baseline.py: `timing.pace_problem(gaps, interval)`).


@pytest.fixture(scope="module")
def receiver(scheduler, tmp_path_factory):
    with FailingReceiver(scheduler, log_dir=tmp_path_factory.mktemp("receiver")) as running:
        yield running


@pytest.fixture(scope="module")
def measured(receiver):
    """Schedule every case at once (due in 1 s), wait until none can be delivered again."""
    names = {case: unique_name(case) for case in CASES}
    try:
        for case, (data, policy, _, _) in CASES.items():
            receiver.jobs.schedule(names[case], due_time="1s", data=data, failure_policy=policy)
        receiver.settle(*names.values(), timeout=60)
        yield {case: receiver.deliveries(name) for case, name in names.items()}
    finally:
        for name in names.values():
            receiver.jobs.delete(name)


@pytest.mark.parametrize("case", CASES)
def test_delivery_count_and_spacing(measured, timing, case):
    _, _, count, interval = CASES[case]
    deliveries = measured[case]
    assert len(deliveries) == count, [d["status"] for d in deliveries]
    assert [d["delivery"] for d in deliveries] == list(range(1, count + 1))
    gaps = delivery_gaps(deliveries)
    if interval is not None:
        assert timing.pace_problem(gaps, interval) is None, timing.pace_problem(gaps, interval)


def test_default_policy_is_filled_in(receiver):
    name = unique_name("default")
    receiver.jobs.schedule(name, due_time="1h", data={"answer": 200})
    try:
        assert receiver.jobs.get(name)["failurePolicy"] == {
            "constant": {"interval": "1s", "maxRetries": 3}
        }
    finally:
        receiver.jobs.delete(name)


def test_retries_for_ever_without_max_retries_until_deleted(receiver, timing):
    name = unique_name("forever")
    receiver.jobs.schedule(
        name, due_time="1s", data={"answer": 500}, failure_policy={"constant": {"interval": "0.5s"}}
    )
    try:
        got = receiver.wait_for_deliveries(name, 6, timeout=15)
    finally:
        receiver.jobs.delete(name)
    gaps = delivery_gaps(got)[:5]
    assert timing.pace_problem(gaps, 0.5) is None, timing.pace_problem(gaps, 0.5)
    receiver.settle(name)
    after = len(receiver.deliveries(name))
    assert after <= 7  # at most one delivery was already on its way when we deleted


def test_hanging_handler_is_not_retried_until_it_answers(receiver):
    """daprd sets no timeout on the trigger: a hanging handler holds its job in flight (other
    jobs still fire); when it answers 500, the overdue retries follow back to back."""
    name = unique_name("hang")
    receiver.jobs.schedule(name, due_time="1s", data={"answer": "hang", "seconds": 60})
    try:
        [first] = receiver.wait_for_deliveries(name, 1, timeout=15)
        receiver.fence("5s")  # another job of the same app fires while this one hangs
        assert len(receiver.deliveries(name)) == 1
        assert receiver.jobs.exists(name)
        receiver.release(name, 500)
        deliveries = receiver.settle(name)
    finally:
        receiver.release(name, 500)
        receiver.jobs.delete(name)
    assert len(deliveries) == 4
    assert deliveries[0]["answered_at"] - first["at"] >= 5.0
    retries = [d["at"] for d in deliveries[1:]]
    assert retries[-1] - deliveries[0]["answered_at"] < 1.0  # overdue: no 1 s pauses


def test_naive_handler_repeats_work_idempotent_does_not(receiver):
    naive, careful = unique_name("naive"), unique_name("careful")
    receiver.jobs.schedule(naive, due_time="1s", data={"answer": 500, "work": "oil"})
    receiver.jobs.schedule(
        careful,
        due_time="1s",
        data={"answer": 500, "work": "oil", "idempotent": True, "id": "order-1"},
    )
    try:
        receiver.settle(naive, careful)
    finally:
        receiver.jobs.delete(naive)
        receiver.jobs.delete(careful)
    assert (len(receiver.deliveries(naive)), receiver.work_runs(naive)) == (4, 4)
    assert [d["status"] for d in receiver.deliveries(careful)] == [500, 200]
    assert receiver.work_runs(careful) == 1
