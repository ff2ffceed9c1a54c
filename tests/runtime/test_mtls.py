"""mTLS between daprd and the scheduler with a real Sentry (github.com/dapr/dapr@v1.18.3
./cmd/sentry, built by `make extras`), self-hosted as the Dapr docs' mTLS page runs it: a
sidecar with a certificate schedules jobs and gets their triggers; one without is refused."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from workbook.runtime.apps import unique_name
from workbook.runtime.sentry import (
    MTLSJobService,
    MTLSScheduler,
    Sentry,
    certificate_text,
)
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_until

# daprd answers a scheduling call it cannot deliver after its own deadline (measured: 30 s)
REFUSED_CALL_TIMEOUT = 60


@pytest.fixture(scope="module")
def sentry(tmp_path_factory):
    with Sentry.isolated(tmp_path_factory.mktemp("sentry")) as running:
        yield running


@pytest.fixture(scope="module")
def tls_scheduler(sentry, tmp_path_factory):
    with MTLSScheduler.isolated(sentry, tmp_path_factory.mktemp("tls-scheduler")) as running:
        yield running


def test_sentry_makes_a_root_and_signs_the_scheduler(sentry, tls_scheduler):
    assert sorted(p.name for p in sentry.certs_dir.iterdir()) == [
        "ca.crt",
        "issuer.crt",
        "issuer.key",
    ]
    identity = tls_scheduler.data_dir.parent / "identity"
    assert sorted(p.name for p in identity.iterdir()) == ["ca.pem", "cert.pem", "key.pem"]
    text = certificate_text(identity / "cert.pem")
    assert "O = spiffe://cluster.local/ns/default/dapr-sentry" in text  # the issuer
    assert "URI:spiffe://cluster.local/ns/default/dapr-scheduler" in text


def test_sidecar_with_a_certificate_schedules_and_gets_its_trigger(tls_scheduler, tmp_path):
    with MTLSJobService(tls_scheduler, log_dir=tmp_path) as service:
        name = unique_name("mtls")
        service.jobs.schedule(name, due_time="1s", data={"droid": "R2-D2"})
        try:
            trigger = service.wait_for_trigger(name)[0]
            assert json.loads(trigger["body"]) == {"droid": "R2-D2"}
        finally:
            service.jobs.delete(name)
        log = service.sidecar.log_path.read_text()
        assert "mTLS is disabled" not in log


def test_sidecar_without_a_certificate_is_refused(tls_scheduler, tmp_path):
    plain = Sidecar(
        unique_name("no-cert"),
        scheduler_address=tls_scheduler.address,
        log_path=tmp_path / "no-cert.log",
    ).launch()
    answer: dict = {}

    def schedule() -> None:
        url = f"{plain.http_url}/v1.0/jobs/refused"
        answer["response"] = httpx.post(url, json={"dueTime": "1s"}, timeout=REFUSED_CALL_TIMEOUT)

    try:
        wait_until(
            lambda: httpx.get(f"{plain.http_url}/v1.0/healthz", timeout=2).status_code == 500,
            timeout=30,
            what="the sidecar without a certificate to answer its health check",
        )
        caller = threading.Thread(target=schedule)
        caller.start()
        health = httpx.get(f"{plain.http_url}/v1.0/healthz", timeout=2)
        assert health.json() == {
            "errorCode": "ERR_HEALTH_NOT_READY",
            "message": "dapr is not ready: [scheduler-watch-hosts]",
        }
        caller.join(REFUSED_CALL_TIMEOUT + 5)
        response = answer["response"]
        assert response.status_code == 500
        assert response.json()["errorCode"] == "DAPR_SCHEDULER_SCHEDULE_JOB"
        assert "context deadline exceeded" in response.json()["message"]
        log = plain.log_path.read_text()
        assert "mTLS is disabled. Skipping certificate request" in log
        # the scheduler's TLS listener closes the plain-text gRPC connection
        assert "error reading server preface: EOF" in log
    finally:
        plain.stop()
