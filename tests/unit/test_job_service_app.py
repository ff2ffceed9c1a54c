"""job_service's HTTP behaviour, in process (no sidecar needed): statuses, lines, idempotency."""

from collections import OrderedDict

import pytest
from fastapi.testclient import TestClient

from job_service import app as service
from job_service.trigger_log import TriggerLog


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setattr(service, "triggers", TriggerLog())
    monkeypatch.setattr(service, "_deliveries", OrderedDict())
    monkeypatch.setattr(service, "_done_runs", OrderedDict())
    monkeypatch.delenv("APP_API_TOKEN", raising=False)
    return TestClient(service.app)


def test_trigger_prints_the_droid_lines(client, capsys):
    response = client.post("/job/R2-D2", json={"droid": "R2-D2", "task": "Oil Change"})
    assert response.status_code == 200
    assert capsys.readouterr().out.splitlines() == [
        "Received job request...",
        "Starting droid: R2-D2",
        "Executing maintenance job: Oil Change",
    ]
    [record] = client.get("/received").json()
    assert record["name"] == "R2-D2"
    assert record["droid"] == "R2-D2"
    assert record["status"] == 200
    assert record["delivery"] == 1


def test_repeated_run_is_recognised_and_skipped(client, capsys):
    order = {"droid": "C-3PO", "task": "Limb Calibration", "run": "2026-11-25"}
    for _ in range(3):
        assert client.post("/job/C-3PO", json=order).status_code == 200
    lines = capsys.readouterr().out.splitlines()
    assert lines.count("Executing maintenance job: Limb Calibration") == 1
    assert lines[-2:] == ["Repeated delivery of job C-3PO run 2026-11-25 (already done: C-3PO)"] * 2
    got = client.get("/received", params={"name": "C-3PO"}).json()
    assert [(r["delivery"], r["repeat"]) for r in got] == [(1, False), (2, True), (3, True)]


def test_every_tick_of_a_recurring_job_without_run_is_carried_out(client, capsys):
    for _ in range(3):  # the same body each tick, as a recurring job sends it
        assert client.post("/job/weekly", json="R2-D2:Oil Change").status_code == 200
    lines = capsys.readouterr().out.splitlines()
    assert lines.count("Executing maintenance job: Oil Change") == 3
    got = client.get("/received", params={"name": "weekly"}).json()
    assert [(r["delivery"], r["repeat"]) for r in got] == [(1, False), (2, False), (3, False)]


def test_a_new_run_of_the_same_job_is_carried_out(client, capsys):
    for run in ("monday", "tuesday"):
        order = {"droid": "R2-D2", "task": "Oil Change", "run": run}
        assert client.post("/job/R2-D2", json=order).status_code == 200
    assert capsys.readouterr().out.count("Executing maintenance job: Oil Change") == 2


@pytest.mark.parametrize("body", [b"{bad", b"", b"[]", b'{"droid": 1}', b"x" * 70_000])
def test_bad_payload_is_a_4xx_with_a_reason(client, capsys, body):
    response = client.post("/job/broken", content=body)
    assert response.status_code == 422
    assert response.json()["error"]
    assert capsys.readouterr().out.startswith("Rejected job request 'broken': ")
    assert client.get("/received").json()[0]["status"] == 422


def test_names_with_slashes_and_unicode(client):
    assert client.post("/job/a/b/ünï", json="R2-D2:Oil Change").status_code == 200
    assert client.get("/received").json()[0]["name"] == "a/b/ünï"


def test_app_api_token_is_checked_when_set(client, monkeypatch):
    monkeypatch.setenv("APP_API_TOKEN", "s3cret")
    body = {"droid": "R2-D2", "task": "Oil Change"}
    assert client.post("/job/x", json=body).status_code == 401
    assert client.post("/job/x", json=body, headers={"dapr-api-token": "nope"}).status_code == 401
    assert client.post("/job/x", json=body, headers={"dapr-api-token": "s3cret"}).status_code == 200


def test_empty_job_name_is_rejected(client):
    response = client.post("/job/", json="R2-D2:Oil Change")
    assert response.status_code == 422
    assert response.json() == {"error": "empty job name"}
