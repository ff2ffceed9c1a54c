"""Every row of the error catalogue (workbook/errors.py, printed by notebook 05) against the real
runtime: the status, Dapr's errorCode and the telling part of the message."""

from __future__ import annotations

import httpx
import pytest

from workbook.lessons.errors import CATALOGUE, JOBS, markdown_table, run_case
from workbook.runtime.apps import unique_name


@pytest.fixture(scope="module")
def sidecar_http(job_service):
    with httpx.Client(base_url=job_service.sidecar.http_url, timeout=10) as http:
        yield http


@pytest.mark.parametrize("case", CATALOGUE, ids=lambda case: case.key)
def test_catalogue_row(sidecar_http, case):
    outcome = run_case(sidecar_http, case, namer=unique_name)
    assert (outcome.status, outcome.error_code) == (case.status, case.error_code), outcome
    assert case.message in outcome.message, outcome.message


def test_catalogue_keys_are_unique():
    keys = [case.key for case in CATALOGUE]
    assert len(keys) == len(set(keys))


def test_accepted_rows_leave_no_job_behind(sidecar_http):
    """run_case deletes what it scheduled: the accepted rows' names are gone afterwards."""
    accepted = [
        case
        for case in CATALOGUE
        if case.status == 204 and case.method == "POST" and case.prefix == JOBS
    ]
    for case in accepted:
        outcome = run_case(sidecar_http, case, namer=unique_name)
        assert sidecar_http.get(JOBS + outcome.name).status_code == 500, case.key


def test_repeats_as_string_is_stored_as_number(sidecar_http, job_name):
    name = job_name("repeats")
    sidecar_http.post(JOBS + name, json={"schedule": "@every 1h", "repeats": "3"})
    assert sidecar_http.get(JOBS + name).json()["repeats"] == 3


def test_unknown_policy_gets_the_default(sidecar_http, job_name):
    name = job_name("policy")
    response = sidecar_http.post(
        JOBS + name, json={"dueTime": "1h", "failurePolicy": {"retry": {}}}
    )
    assert response.status_code == 204
    assert sidecar_http.get(JOBS + name).json()["failurePolicy"] == {
        "constant": {"interval": "1s", "maxRetries": 3}
    }


def test_table_has_a_row_per_case(sidecar_http):
    rows = [(case, run_case(sidecar_http, case, namer=unique_name)) for case in CATALOGUE[:3]]
    table = markdown_table(rows)
    assert table.count("\n") == 2 + len(rows) - 1
    assert "DAPR_SCHEDULER_SCHEDULE_EMPTY" in table
