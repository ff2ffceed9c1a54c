"""The experiment apps' shared pieces and layout: the one trigger store (bounded, thread-safe, no
credentials), job_service's own bounded log, the one wait, psutil's listening sockets, and
child apps that import nothing of the helper but its stdlib-only shared package."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import OrderedDict

import pytest
from fastapi.testclient import TestClient

from job_service import app as service
from job_service import trigger_log
from workbook.experiments._shared.trigger_store import (
    KEEP,
    TriggerStore,
    read_mirror,
    shareable_headers,
)
from workbook.experiments.faults import listening_sockets
from workbook.runtime.waiting import WaitTimeout, wait_for_count

CREDENTIALS = {
    "dapr-api-token": "s3cret-app-token",
    "Authorization": "Bearer s3cret",
    "Proxy-Authorization": "Basic s3cret",
    "Cookie": "session=s3cret",
    "X-API-Key": "s3cret",
}


def test_credential_headers_are_withheld_and_named():
    shown, withheld = shareable_headers(
        [("Content-Type", "application/json"), *CREDENTIALS.items(), ("traceparent", "00-1")]
    )
    assert shown == {"content-type": "application/json", "traceparent": "00-1"}
    assert withheld == sorted(name.lower() for name in CREDENTIALS)


def test_store_keeps_the_last_records_and_counts_the_dropped():
    store = TriggerStore(keep=5)
    for i in range(12):
        store.add({"name": "tick", "i": i})
    assert [r["i"] for r in store.records()] == [7, 8, 9, 10, 11]
    assert store.summary() == {"kept": 5, "dropped": 7, "keep": 5}
    assert KEEP == 2000


def test_store_is_thread_safe():
    store = TriggerStore(keep=100_000)

    def add_many(who: int) -> None:
        for i in range(2000):
            store.add({"name": f"w{who}", "i": i})

    threads = [threading.Thread(target=add_many, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.summary()["kept"] == 16_000
    for who in range(8):
        assert [r["i"] for r in store.records(name=f"w{who}")] == list(range(2000))


def test_store_never_keeps_a_credential():
    store = TriggerStore()
    store.add({"name": "x", "headers": CREDENTIALS | {"content-type": "application/json"}})
    [record] = store.records()
    assert record["headers"] == {"content-type": "application/json"}
    assert "s3cret" not in json.dumps(store.records())


def test_records_are_copies():
    store = TriggerStore()
    store.add({"name": "x"})
    store.records()[0]["name"] = "changed"
    assert store.records() == [{"name": "x"}]


def test_mirror_file_is_cut_back_to_what_is_kept(tmp_path):
    path = tmp_path / "got.jsonl"
    store = TriggerStore(keep=10, mirror=path)
    for i in range(45):
        store.add({"name": "m", "i": i, "headers": {"Authorization": "s3cret"}})
        assert len(path.read_text().splitlines()) <= 20  # never more than twice what is kept
    mirrored = read_mirror(path)
    assert [r["i"] for r in mirrored][-10:] == list(range(35, 45))
    assert "s3cret" not in path.read_text()
    with path.open("a") as out:
        out.write('{"name": "half-writ')  # a line still being written is not read
    assert read_mirror(path) == mirrored
    assert read_mirror(tmp_path / "missing.jsonl") == []


def test_wait_for_count_returns_once_enough_records_are_there():
    got: list[int] = []
    threading.Timer(0.2, lambda: got.extend([1, 2, 3])).start()
    started = time.monotonic()
    assert wait_for_count(lambda: list(got), 3, timeout=5, what="numbers") == [1, 2, 3]
    assert time.monotonic() - started < 4
    with pytest.raises(WaitTimeout, match="waiting for 4 numbers"):
        wait_for_count(lambda: list(got), 4, timeout=0.3, what="numbers")


def test_listening_sockets_come_from_psutil():
    v4 = socket.create_server(("127.0.0.1", 0))
    v6 = socket.create_server(("::", 0), family=socket.AF_INET6)
    port4, port6 = v4.getsockname()[1], v6.getsockname()[1]
    try:
        found = listening_sockets(os.getpid())
        assert ("127.0.0.1", port4) in found
        assert ("0000:0000:0000:0000:0000:0000:0000:0000", port6) in found
    finally:
        v4.close()
        v6.close()
    assert ("127.0.0.1", port4) not in listening_sockets(os.getpid())


def allowed_in_a_child(module: str, app: str) -> bool:
    package = app.rsplit(".", 1)[0]
    shared = "workbook.experiments._shared"
    return module in ("workbook", "workbook.experiments", shared, package, app) or (
        module.startswith(shared + ".")
    )


@pytest.mark.parametrize(
    "name", ["failing_receiver", "grpc_receiver", "cron_binding", "bench_receiver"]
)
def test_child_apps_import_only_fastapi_grpc_and_the_standard_library(name):
    app = f"workbook.experiments.{name}.app"
    probe = (
        f"import sys, json, {app}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('workbook', 'jobs_client', 'job_service', 'job_scheduler', 'httpx', 'psutil'))))"
    )
    run = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    loaded = json.loads(run.stdout)
    assert app in loaded
    assert [m for m in loaded if not allowed_in_a_child(m, app)] == []


# --- job_service's own log: bounded, no credentials -------------------------------------------


@pytest.fixture
def job_service(monkeypatch):
    monkeypatch.setattr(service, "triggers", trigger_log.TriggerLog(keep=5))
    monkeypatch.setattr(service, "_deliveries", OrderedDict())
    monkeypatch.setattr(service, "_done_runs", OrderedDict())
    monkeypatch.setenv("APP_API_TOKEN", CREDENTIALS["dapr-api-token"])
    return TestClient(service.app)


def test_received_never_returns_the_app_token(job_service):
    body = {"droid": "R2-D2", "task": "Oil Change"}
    assert job_service.post("/job/tok", json=body, headers=CREDENTIALS).status_code == 200
    [record] = job_service.get("/received").json()
    assert record["status"] == 200
    assert record["withheld_headers"] == sorted(name.lower() for name in CREDENTIALS)
    assert record["headers"]["content-type"] == "application/json"
    assert "s3cret" not in job_service.get("/received").text


def test_received_is_bounded_and_says_how_many_it_dropped(job_service):
    for run in range(12):
        order = {"droid": "R2-D2", "task": "Oil Change", "run": run}
        headers = {"dapr-api-token": CREDENTIALS["dapr-api-token"]}
        assert job_service.post("/job/tick", json=order, headers=headers).status_code == 200
    got = job_service.get("/received").json()
    assert [r["run"] for r in got] == ["7", "8", "9", "10", "11"]
    assert [r["delivery"] for r in got] == [8, 9, 10, 11, 12]  # counted beyond what is kept
    assert job_service.get("/received/summary").json() == {"kept": 5, "dropped": 7, "keep": 5}


def test_job_service_keeps_2000_triggers_by_default_and_a_bounded_body():
    assert trigger_log.KEEP == 2000
    assert service.triggers.keep == trigger_log.KEEP
    assert service.REMEMBERED == 10_000
    fields = trigger_log.body_fields(b"x" * 60_000)
    assert (len(fields["body"]), fields["body_bytes"]) == (trigger_log.BODY_CHARS, 60_000)


def test_job_names_and_runs_remembered_are_bounded(monkeypatch):
    monkeypatch.setattr(service, "REMEMBERED", 3)
    monkeypatch.setattr(service, "triggers", trigger_log.TriggerLog())
    monkeypatch.setattr(service, "_deliveries", OrderedDict())
    monkeypatch.setattr(service, "_done_runs", OrderedDict())
    monkeypatch.delenv("APP_API_TOKEN", raising=False)
    client = TestClient(service.app)
    for i in range(6):
        order = {"droid": "R2-D2", "task": "Oil Change", "run": i}
        assert client.post(f"/job/j{i}", json=order).status_code == 200
    assert list(service._deliveries) == ["j3", "j4", "j5"]
    assert list(service._done_runs) == [("j3", "3"), ("j4", "4"), ("j5", "5")]
