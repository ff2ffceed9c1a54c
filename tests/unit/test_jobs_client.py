"""DaprError.plain_words: each branch, from HTTP answers built by hand in the shapes daprd 1.18
sends (status code, JSON with errorCode and message, or a body that is not JSON)."""

from __future__ import annotations

import httpx
import pytest

from jobs_client import DaprError
from jobs_client.http import PLAIN_WORDS, job_body, job_path


def error(status: int, body: dict | str | None = None) -> DaprError:
    if isinstance(body, dict):
        response = httpx.Response(status, json=body)
    else:
        response = httpx.Response(status, text=body or "")
    return DaprError("schedule", "r2-oil", response)


def test_a_name_that_exists_says_how_to_replace_it():
    err = error(409, {"errorCode": "DAPR_SCHEDULER_SCHEDULE_JOB", "message": "already exists"})
    assert err.plain_words() == (
        "a job with this name already exists (send overwrite: true to replace it)"
    )
    assert err.status == 409
    assert str(err).startswith("could not schedule job 'r2-oil': a job with this name")
    assert str(err).endswith("(HTTP 409 DAPR_SCHEDULER_SCHEDULE_JOB)")


def test_an_invalid_name_gives_the_reason_after_the_quoted_name():
    message = "job name is invalid 'a b': job name must not contain spaces"
    err = error(400, {"errorCode": "DAPR_SCHEDULER_SCHEDULE_JOB", "message": message})
    assert err.plain_words() == "Dapr refused the job name: job name must not contain spaces"


@pytest.mark.parametrize("space", [" ", "\u00a0"])
def test_a_malformed_body_names_the_field_without_the_line_column(space):
    message = f"proto:{space}(line 1:30): invalid value for uint32 field repeats: -1"
    err = error(400, {"errorCode": "ERR_MALFORMED_REQUEST", "message": message})
    assert err.plain_words() == (
        f"{PLAIN_WORDS['ERR_MALFORMED_REQUEST']}: invalid value for uint32 field repeats: -1"
    )


def test_a_malformed_body_without_a_proto_detail_gets_the_catalogue_words():
    err = error(400, {"errorCode": "ERR_MALFORMED_REQUEST", "message": "unexpected EOF"})
    assert err.plain_words() == PLAIN_WORDS["ERR_MALFORMED_REQUEST"]


@pytest.mark.parametrize("code", sorted(set(PLAIN_WORDS) - {"ERR_MALFORMED_REQUEST"}))
def test_each_known_error_code_has_its_words(code):
    err = error(500, {"errorCode": code, "message": "raw text from daprd"})
    assert err.plain_words() == PLAIN_WORDS[code]
    assert err.error_code == code
    assert err.message == "raw text from daprd"


def test_an_unknown_400_passes_dapr_s_message_on():
    err = error(400, {"errorCode": "DAPR_SOMETHING_NEW", "message": "schedule is wrong"})
    assert err.plain_words() == "Dapr refused the job: schedule is wrong"


@pytest.mark.parametrize("status", [401, 403])
def test_a_missing_token_points_at_dapr_api_token(status):
    err = error(status, "invalid api token")  # daprd answers these in plain text
    assert err.plain_words() == "the sidecar wants a dapr-api-token header (DAPR_API_TOKEN)"
    assert (err.error_code, err.message) == ("", "invalid api token")  # not JSON: the text


def test_another_status_keeps_dapr_s_message():
    err = error(500, {"errorCode": "DAPR_SOMETHING_ELSE", "message": "etcd is down"})
    assert err.plain_words() == "etcd is down"


def test_an_empty_answer_still_says_something():
    err = error(502)
    assert err.plain_words() == "unexpected answer from the sidecar"
    assert (
        str(err)
        == "could not schedule job 'r2-oil': unexpected answer from the sidecar (HTTP 502 )"
    )


def test_a_json_body_that_is_not_an_object_is_not_read_as_one():
    err = DaprError("get", "x", httpx.Response(500, json=["not", "an", "object"]))
    assert (err.error_code, err.message) == ("", "")
    assert err.plain_words() == "unexpected answer from the sidecar"


@pytest.mark.parametrize(
    ("name", "segment"),
    [("r2-oil", "r2-oil"), ("a?b", "a%3Fb"), ("a/b", "a%2Fb"), ("..", "%2E%2E"), ("50%", "50%25")],
)
def test_job_path_keeps_the_name_one_segment(name, segment):
    assert job_path(name) == segment


def test_job_body_leaves_out_what_is_not_set():
    assert job_body(due_time="5s", data={"task": "oil"}) == {
        "dueTime": "5s",
        "data": {"task": "oil"},
    }
    assert job_body(schedule="@every 1s", repeats=0, overwrite=False) == {
        "schedule": "@every 1s",
        "repeats": 0,
        "overwrite": False,
    }
