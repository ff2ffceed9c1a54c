"""Schedule, receive, read back and delete a job against the real Dapr runtime."""

from __future__ import annotations

import json
import subprocess
import time

import httpx
import pytest

from workbook.config import RUNTIME_VERSION, dapr_binary


def test_installed_runtime_is_the_pinned_version():
    out = subprocess.run([dapr_binary("daprd"), "--version"], capture_output=True, text=True)
    assert out.stdout.strip() == RUNTIME_VERSION


@pytest.fixture
def jobs(job_service):
    """The sidecar's Jobs API over plain HTTP, closed when the test ends."""
    with httpx.Client(base_url=f"{job_service.sidecar.http_url}/v1.0/jobs/", timeout=10) as client:
        yield client


def test_one_shot_job_round_trip(jobs, job_service, job_name):
    name = job_name("r2d2")
    data = {"droid": "R2-D2", "task": "Oil Change"}

    before = time.time()
    response = jobs.post(name, json={"dueTime": "1s", "data": data})
    after = time.time()
    assert response.status_code == 204, response.text

    got = jobs.get(name)
    assert got.status_code == 200
    job = got.json()
    assert job["name"] == name
    assert job["dueTime"] == "1s"
    # The sidecar holds data as a protobuf Value and shows it wrapped with its type.
    assert job["data"] == {"@type": "type.googleapis.com/google.protobuf.Value", "value": data}
    assert job["failurePolicy"] == {"constant": {"interval": "1s", "maxRetries": 3}}

    [trigger] = job_service.wait_for_trigger(name, timeout=10)
    # The data, as JSON. Compare parsed: protobuf puts a space after each comma or not,
    # depending on the daprd binary (on purpose, so that nobody compares strings).
    assert json.loads(trigger["body"]) == data
    assert trigger["headers"]["content-type"] == "application/json"
    assert trigger["status"] == 200
    # Due 1 s after the scheduler accepted it (between `before` and `after`), within 2 s.
    assert before + 1 - 0.05 <= trigger["received_at"] <= after + 1 + 2

    assert jobs.delete(name).status_code == 204
    missing = jobs.get(name)
    assert missing.status_code == 500
    assert missing.json()["errorCode"] == "DAPR_SCHEDULER_GET_JOB"


def test_deleted_job_never_fires(job_service, job_name):
    name = job_name("deleted")
    job_service.jobs.schedule(name, due_time="1s", data={"droid": "BB-8", "task": "Gyro"})
    job_service.jobs.delete(name)
    assert not job_service.jobs.exists(name)
    # A fence: a job due later than the deleted one. Once it has arrived, the deleted job
    # would have arrived too, had it not been deleted.
    fence = job_name("fence")
    job_service.jobs.schedule(fence, due_time="1500ms", data={"droid": "R2-D2", "task": "Wax"})
    job_service.wait_for_trigger(fence, timeout=10)
    assert job_service.received(name) == []


def test_existing_name_needs_overwrite(jobs, job_name):
    name = job_name("twice")
    assert jobs.post(name, json={"schedule": "@every 1h"}).status_code == 204
    again = jobs.post(name, json={"schedule": "@every 2h"})
    assert again.status_code == 409
    assert again.json()["errorCode"] == "DAPR_SCHEDULER_SCHEDULE_JOB"
    assert "already exists" in again.json()["message"]
    assert jobs.post(name, json={"schedule": "@every 2h", "overwrite": True}).status_code == 204
    assert jobs.get(name).json()["schedule"] == "@every 2h"


def test_five_field_cron_is_refused(jobs, job_name):
    refused = jobs.post(job_name("cron5"), json={"schedule": "*/5 * * * *"})
    assert refused.status_code == 500
    assert refused.json()["errorCode"] == "DAPR_SCHEDULER_SCHEDULE_JOB"
    assert "expected exactly 6 fields, found 5" in refused.json()["message"]
