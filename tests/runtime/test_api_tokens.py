"""App and sidecar authenticate each other with Dapr API tokens, and every process listens on
loopback only (with one exception the runtime imposes, asserted below).

- DAPR_API_TOKEN (set for daprd): callers of the sidecar's API must send `dapr-api-token`.
- APP_API_TOKEN (set for daprd and the app): daprd sends it to the app with every trigger, and
  job_service refuses a trigger without it.
"""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from jobs_client import DaprError, JobsClient
from workbook.experiments.faults import listening_sockets
from workbook.runtime.apps import JobService, unique_name
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.waiting import wait_until

DATA = {"droid": "R2-D2", "task": "Oil Change"}
API_TOKEN = "api-" + unique_name("token")
APP_TOKEN = "app-" + unique_name("token")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    with Scheduler.isolated(tmp_path_factory.mktemp("tokens")) as running:
        yield running


@pytest.fixture(scope="module")
def guarded(scheduler, tmp_path_factory):
    """job_service whose sidecar wants DAPR_API_TOKEN and sends APP_API_TOKEN to the app."""
    with JobService(
        scheduler,
        api_token=API_TOKEN,
        app_api_token=APP_TOKEN,
        log_dir=tmp_path_factory.mktemp("guarded"),
    ) as service:
        yield service


def test_sidecar_refuses_jobs_calls_without_the_token(guarded):
    name = unique_name("guarded")
    url = f"{guarded.sidecar.http_url}/v1.0/jobs/{name}"
    job = {"dueTime": "1h", "data": DATA}
    for headers in ({}, {"dapr-api-token": "wrong"}):
        for method in ("POST", "GET", "DELETE"):
            answer = httpx.request(
                method, url, json=job if method == "POST" else None, headers=headers
            )
            assert (answer.status_code, answer.text.strip()) == (401, "invalid api token")
    # The health endpoint stays open (that is how the workbook waits for daprd).
    assert httpx.get(f"{guarded.sidecar.http_url}/v1.0/healthz").status_code == 204

    with_token = {"dapr-api-token": API_TOKEN}
    assert httpx.post(url, json=job, headers=with_token).status_code == 204
    assert httpx.get(url, headers=with_token).json()["name"] == name
    assert httpx.delete(url, headers=with_token).status_code == 204


def test_jobs_client_without_the_token_says_so(guarded):
    with JobsClient(guarded.sidecar.http_url) as anonymous, pytest.raises(DaprError) as refused:
        anonymous.schedule(unique_name("anonymous"), due_time="1h", data=DATA)
    assert refused.value.status == 401
    assert refused.value.plain_words() == (
        "the sidecar wants a dapr-api-token header (DAPR_API_TOKEN)"
    )


def test_triggers_carry_the_app_token_and_job_service_checks_it(guarded):
    name = unique_name("with-app-token")
    guarded.jobs.schedule(name, due_time="1s", data=DATA)  # guarded.jobs sends API_TOKEN
    [trigger] = guarded.wait_for_trigger(name, timeout=15)
    # job_service keeps no credential: the token arrived (200 below), only its name is kept.
    assert trigger["withheld_headers"] == ["dapr-api-token"]
    assert trigger["status"] == 200

    direct = f"{guarded.app_url}/job/{unique_name('direct')}"
    for headers in ({}, {"dapr-api-token": "wrong"}, {"dapr-api-token": API_TOKEN}):
        answer = httpx.post(direct, json=DATA, headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {"error": "missing or wrong dapr-api-token"}
    assert httpx.post(direct, json=DATA, headers={"dapr-api-token": APP_TOKEN}).status_code == 200


def test_app_with_another_token_refuses_triggers_which_are_retried_then_lost(scheduler, tmp_path):
    service = JobService(scheduler, app_api_token=APP_TOKEN, log_dir=tmp_path)
    service.app.env = {**service.app.env, "APP_API_TOKEN": "not-the-sidecars-token"}
    with service:
        name = unique_name("mismatch")
        service.jobs.schedule(
            name,
            due_time="1s",
            data=DATA,
            failure_policy={"constant": {"interval": "0.5s", "maxRetries": 2}},
        )
        wait_until(
            lambda: not service.jobs.exists(name),
            timeout=20,
            what="the scheduler to give the refused job up",
        )
        log = service.sidecar.process.log_text()
        # daprd logs each refusal once as below (and once more wrapped in "failed to invoke"),
        # with the app's HTTP 401 mapped to gRPC code 16 (Unauthenticated).
        refused = re.findall(
            rf'msg="unexpected status code returned from app while processing '
            rf'triggered job {re.escape(name)}\. status code returned: 16"',
            log,
        )
        assert len(refused) == 3  # the first attempt and 2 retries
        assert service.received(name) == []  # the app never accepted it


def test_everything_listens_on_loopback_only(scheduler, guarded):
    daprd = listening_sockets(guarded.sidecar.process.pid)
    app = listening_sockets(guarded.app.pid)
    ours = listening_sockets(scheduler.process.pid)
    print(f"\ndaprd {daprd}\napp {app}\nscheduler {ours}")

    assert {addr for addr, _ in daprd} == {"127.0.0.1"}
    assert {port for _, port in daprd} >= {guarded.sidecar.http_port, guarded.sidecar.grpc_port}
    assert app == [("127.0.0.1", guarded.app_port)]
    # The scheduler's healthz server ignores --healthz-listen-address in 1.18.3 (it listens
    # on ":<port>"): the one socket on all interfaces. Firewall that port, or accept it.
    everywhere = [(addr, port) for addr, port in ours if addr != "127.0.0.1"]
    assert everywhere == [
        ("0000:0000:0000:0000:0000:0000:0000:0000", scheduler.ports["healthz_port"])
    ]
    assert {port for _, port in ours} == set(scheduler.ports.values())

    # `ss` agrees about the API ports.
    table = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    for port in (guarded.sidecar.http_port, scheduler.ports["port"]):
        assert re.search(rf"\s127\.0\.0\.1:{port}\s", table)
    assert re.search(rf"\s\*:{scheduler.ports['healthz_port']}\s", table)
