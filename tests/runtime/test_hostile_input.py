"""Hostile input: malformed, oversized, wrongly typed and unicode-laden triggers sent to a running
job_service (a real uvicorn process, over HTTP), and bad arguments given to JobsClient against a
real sidecar. Nothing may crash; job_service never answers 5xx; every refusal is a 4xx (or a
DaprError) that says in one line what was wrong.
"""

from __future__ import annotations

import collections
import json
import re
import time
import unicodedata
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from job_service.payload import MAX_BODY_BYTES, STRING_VALUE_TYPE, InvalidPayload, parse_payload
from jobs_client import DaprError, JobsClient
from workbook.runtime.apps import JobService, unique_name
from workbook.runtime.scheduler import Scheduler

DATA = {"droid": "R2-D2", "task": "Oil Change"}
HOSTILE = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def hostile_scheduler(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    with Scheduler.isolated(base) as scheduler:
        yield scheduler, base


@pytest.fixture(scope="module")
def service(hostile_scheduler):
    scheduler, base = hostile_scheduler
    with JobService(scheduler, log_dir=base) as running:
        yield running


@pytest.fixture(scope="module")
def app(service):
    with httpx.Client(base_url=service.app_url, timeout=10) as client:
        yield client


def segment(name: str) -> str:
    """A name as one URL path segment (dots too, so '.' and '..' are not path steps)."""
    return quote(name, safe="").replace(".", "%2E")


def one_line(message) -> bool:
    return isinstance(message, str) and 0 < len(message) <= 300 and "\n" not in message


# --- what job_service is sent ----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20,
)
anything = st.one_of(json_values, st.text(max_size=300))
droid_text = st.text(max_size=250)  # past the 200-character limit at times


def as_json(value) -> bytes:
    return json.dumps(value).encode()


bodies = st.one_of(
    st.binary(max_size=2000),  # random bytes, mostly not JSON, some invalid UTF-8
    json_values.map(as_json),  # valid JSON of the wrong shape
    st.fixed_dictionaries({"droid": anything, "task": anything}).map(as_json),  # wrong types
    st.builds(lambda d, t: {"droid": d, "task": t}, droid_text, droid_text).map(as_json),
    st.builds(lambda d, t: f"{d}:{t}", droid_text, droid_text).map(as_json),
    st.fixed_dictionaries(
        {"@type": st.sampled_from([STRING_VALUE_TYPE, "x", ""]) | st.text(), "value": anything}
    ).map(as_json),  # the older quickstarts' shape
    st.integers(MAX_BODY_BYTES - 10, 4 * MAX_BODY_BYTES).map(  # around and over the limit
        lambda n: b'"R2-D2:' + b"x" * n + b'"'
    ),
    st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth),  # deep nesting
    st.integers(1, 3000).map(  # nesting inside a valid order
        lambda depth: (
            b'{"droid": "R2-D2", "task": "Oil", "x": ' + b"[" * depth + b"]" * depth + b"}"
        )
    ),
    st.integers(4000, 9000).map(  # around Python's 4,300-digit int-from-string limit
        lambda digits: b'{"droid": "R2-D2", "task": "Oil", "x": ' + b"9" * digits + b"}"
    ),
    st.sampled_from(["droid", "task", "x"]).map(  # a key given twice
        lambda key: f'{{"droid": "R2-D2", "task": "Oil", "{key}": "a", "{key}": "b"}}'.encode()
    ),
    st.sampled_from(["utf-16", "utf-16-be", "utf-32", "utf-8-sig"]).map(
        lambda encoding: json.dumps(DATA).encode(encoding)
    ),
    st.sampled_from(
        [
            b"",
            b" ",
            b"null",
            b"{}",
            b"[]",
            b'"R2-D2:"',
            b'":Oil"',
            b"\xff\xfe",
            b'{"droid": "R2\\u0000", "task": "x"}',
            b'"\\ud800:x"',
            b"1e999999",
            b"[" * 5000 + b"]" * 5000,  # the 10 KB body once answered 500 with a traceback
        ]
    ),
)
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/octet-stream",
        "application/json; charset=utf-16",
        "",
        "multipart/form-data",
    ]
)


# Starlette's pattern for /job/{name:path}: ".*" stops at a newline (Dapr never sends one:
# it refuses control characters in job names).
ROUTE = re.compile(r"^/job/(?P<name>.*)$")


def test_job_service_survives_hostile_triggers(service, app):
    seen: collections.Counter = collections.Counter()
    lines_before = len(service.app.log_text().splitlines())

    @HOSTILE
    @given(name=st.text(max_size=300), body=bodies, content_type=content_types)
    def send(name, body, content_type):
        response = app.post(
            f"/job/{segment(name)}", content=body, headers={"content-type": content_type}
        )
        seen[response.status_code] += 1
        if not ROUTE.match(f"/job/{name}"):  # a newline inside the name: no route matches
            assert response.status_code == 404
            assert one_line(response.json()["detail"])
            return
        try:
            if not name.strip():
                raise InvalidPayload("empty job name")
            parse_payload(body)
            expected, reason = 200, None
        except InvalidPayload as error:
            expected, reason = 422, str(error)
        assert response.status_code == expected, (body[:200], response.text[:200])
        if expected == 422:
            message = response.json()["error"]
            assert one_line(message)
            if len(body) <= MAX_BODY_BYTES:  # beyond it the app reads only the first part
                assert message == reason

    send()
    print(f"\njob_service answers to hostile triggers: {dict(seen)}")
    assert sum(seen.values()) >= 200
    assert all(status < 500 for status in seen)
    assert service.app.alive()
    assert app.get("/healthz").status_code == 200
    log = service.app.log_text().splitlines()[lines_before:]
    assert "Traceback" not in "\n".join(log)
    # one line per refusal, three per trigger carried out (routing 404s print nothing)
    refusals = seen[422]
    assert sum(1 for line in log if line.startswith("Rejected job request")) == refusals
    assert len(log) == refusals + 3 * seen[200]


def test_nested_data_through_a_real_sidecar_is_refused_422_not_500(service):
    """The class of input behind the reported 500, scheduled as a job's data: daprd delivers
    it, job_service answers 422 with its reason (a status Dapr retries, like any non-2xx; with
    the drop policy it is tried once)."""
    name = unique_name("deep")
    deep: object = "R2-D2:Oil Change"
    for _ in range(40):
        deep = [deep]
    service.jobs.schedule(name, due_time="1s", data=deep, failure_policy={"drop": {}})
    [trigger] = service.wait_for_trigger(name, timeout=15)
    assert trigger["status"] == 422
    assert f"Rejected job request {name!r}: body nests arrays or objects deeper than 32 levels" in (
        service.app.log_text()
    )
    assert service.app.alive()


def test_received_never_returns_the_app_token_through_a_real_sidecar(hostile_scheduler):
    scheduler, base = hostile_scheduler
    app_token = "app-" + unique_name("secret")
    with JobService(scheduler, app_api_token=app_token, log_dir=base) as guarded:
        name = unique_name("with-token")
        guarded.jobs.schedule(name, due_time="1s", data=DATA)
        [trigger] = guarded.wait_for_trigger(name, timeout=15)
        assert trigger["status"] == 200  # the token arrived and matched
        assert trigger["withheld_headers"] == ["dapr-api-token"]
        assert "dapr-api-token" not in trigger["headers"]
        for path in ("/received", f"/received?name={name}", "/received/summary"):
            assert app_token not in httpx.get(guarded.app_url + path, timeout=5).text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/job/x", 405),
        ("PUT", "/job/x", 405),
        ("DELETE", "/job/x", 405),
        ("POST", "/jobs/x", 404),
        ("POST", "/%00", 404),
        ("PATCH", "/received", 405),
    ],
)
def test_job_service_wrong_routes_are_4xx_with_one_line(app, method, path, status):
    response = app.request(method, path, content=b"{}")
    assert response.status_code == status
    assert one_line(response.json()["detail"])


# --- JobsClient against the real sidecar -----------------------------------------------------

KEY_PREFIX = "app||default||{app_id}||"  # how the scheduler keys a job; 512 bytes at most


def go_trim_space(text: str) -> str:
    """Go's strings.TrimSpace: like str.strip(), but \x1c-\x1f are not spaces to Go."""

    def space(c: str) -> bool:
        return c.isspace() and c not in "\x1c\x1d\x1e\x1f"

    start, end = 0, len(text)
    while start < end and space(text[start]):
        start += 1
    while end > start and space(text[end - 1]):
        end -= 1
    return text[start:end]


def dapr_refuses(name: str, app_id: str) -> str | None:
    """Why Dapr 1.18.3 refuses a job name (measured; go-etcd-cron's validator), or None."""
    if not name:
        return "no name"  # POST /v1.0/jobs/ is not a Jobs API route
    stored = go_trim_space(name)  # the sidecar trims the name on POST
    if not stored:
        return "empty"
    if len((KEY_PREFIX.format(app_id=app_id) + stored).encode()) > 512:
        return "too long"
    if any(c in stored for c in "/\\#?"):
        return "forbidden character"
    if any(unicodedata.category(c) == "Cc" for c in stored):
        return "control character"
    return None


WORDS = {
    "no name": "the sidecar did not take this for a Jobs API call (empty job name?)",
    "empty": "the job name is empty (Dapr trims spaces from it)",
    "too long": "Dapr refused the job name: must be at most 512 characters",
    "forbidden character": "Dapr refused the job name: must not contain '/', '\\', '#' or '?'",
    "control character": "Dapr refused the job name: must not contain control characters",
}
hostile_names = st.one_of(
    st.text(max_size=40),
    st.text(max_size=600),
    st.builds(
        lambda a, c, b: a + c + b,
        st.text(max_size=10),
        st.sampled_from([*list("/\\#?%.| \t\n\x00\x85\u2028"), "..", "||", "%2F"]),
        st.text(max_size=10),
    ),
    st.sampled_from([".", "..", " ", "", "R2-D2", "R2 D2", "ñ😀", "x" * 470, "x" * 480]),
)


def test_jobs_client_reports_refused_names_in_plain_words(service):
    outcomes: collections.Counter = collections.Counter()
    jobs = JobsClient(service.sidecar.http_url)

    @HOSTILE
    @given(name=hostile_names)
    def schedule(name):
        refusal = dapr_refuses(name, service.app_id)
        error: DaprError | None = None
        try:
            jobs.schedule(name, due_time="1h", data=DATA)
        except DaprError as refused:
            error = refused
        if error is not None:
            outcomes[refusal or "unexpected"] += 1
            assert refusal is not None, f"Dapr refused {name!r}: {error}"
            assert error.plain_words() == WORDS[refusal], error.message
            assert error.status == {"no name": 404, "empty": 400}.get(refusal, 500)
            assert "\n" not in str(error)
            return
        outcomes["accepted"] += 1
        assert refusal is None, f"Dapr accepted {name!r}, expected: {refusal}"
        stored = go_trim_space(name)
        try:
            assert jobs.get(stored)["name"] == stored  # exactly this name, nothing else
        finally:
            jobs.delete(stored)
        assert not jobs.exists(stored)

    try:
        schedule()
    finally:
        jobs.close()
    print(f"\nJobsClient with hostile names: {dict(outcomes)}")
    assert sum(outcomes.values()) >= 100
    assert outcomes["accepted"]
    assert len(outcomes) >= 3
    assert service.sidecar.healthy()


@pytest.mark.parametrize(
    ("fields", "status", "error_code", "words"),
    [
        ({"schedule": "banana"}, 500, "DAPR_SCHEDULER_SCHEDULE_JOB", "expected exactly 6 fields"),
        (
            {"due_time": "1h", "repeats": -1},
            400,
            "ERR_MALFORMED_REQUEST",
            "not valid JSON for a job: invalid value for uint32 field repeats: -1",
        ),
        (
            {"due_time": "1h", "repeats": "three"},
            400,
            "ERR_MALFORMED_REQUEST",
            'invalid value for uint32 field repeats: "three"',
        ),
        (
            {"due_time": 5},
            400,
            "ERR_MALFORMED_REQUEST",
            "invalid value for string field dueTime: 5",
        ),
        (
            {"due_time": "1h", "ttl": "1h"},
            500,
            "DAPR_SCHEDULER_SCHEDULE_JOB",
            "job must have a schedule to have a ttl",
        ),
        (
            {"due_time": "1h", "failure_policy": {"constant": {"interval": "soon"}}},
            400,
            "ERR_MALFORMED_REQUEST",
            'invalid google.protobuf.Duration value "soon"',
        ),
        (
            {"due_time": "1h", "overwrite": "yes"},
            400,
            "ERR_MALFORMED_REQUEST",
            'invalid value for bool field overwrite: "yes"',
        ),
        ({"data": DATA}, 400, "DAPR_SCHEDULER_SCHEDULE_EMPTY", "neither a schedule nor a dueTime"),
        (
            {"schedule": "@every 1s", "repeats": 0},
            500,
            "DAPR_SCHEDULER_SCHEDULE_JOB",
            "repeats must be greater than 0",
        ),
        (
            {"schedule": "CRON_TZ=Mars/Olympus 0 0 9 * * *"},
            500,
            "DAPR_SCHEDULER_SCHEDULE_JOB",
            "unknown time zone",
        ),
        ({"due_time": "1h", "data": "x" * 5_000_000}, 400, "ERR_BODY_READ", "stream too large"),
    ],
)
def test_jobs_client_bad_arguments_raise_dapr_error(service, fields, status, error_code, words):
    name = unique_name("bad-args")
    with JobsClient(service.sidecar.http_url) as jobs:
        with pytest.raises(DaprError) as raised:
            jobs.schedule(name, **fields)
        jobs.delete(name)
    error = raised.value
    assert (error.status, error.error_code) == (status, error_code)
    assert words in error.plain_words()
    assert "\n" not in error.plain_words()


@pytest.mark.parametrize(("data", "problem"), [(float("nan"), ValueError), (object(), TypeError)])
def test_jobs_client_refuses_data_that_is_not_json_before_sending(service, data, problem):
    with JobsClient(service.sidecar.http_url) as jobs, pytest.raises(problem):
        jobs.schedule(unique_name("not-json"), due_time="1h", data=data)


def test_names_dapr_accepts_but_cannot_deliver_as_named(service):
    """daprd builds the trigger URL by pasting the name in unescaped: a '%' makes it
    unparsable (the trigger is retried, then dropped), and '%2F' or '%20' reach the app
    decoded, under another name."""
    prefix = unique_name("pct")
    sent = {
        f"{prefix}-100%": None,
        f"{prefix}-a%2Fb": f"{prefix}-a/b",
        f"{prefix}-a%20b": f"{prefix}-a b",
        f"{prefix}-R2 D2 ñ😀": f"{prefix}-R2 D2 ñ😀",
    }
    for name in sent:
        service.jobs.schedule(name, due_time="1s", data=DATA, failure_policy={"drop": {}})
    fence = unique_name("fence")
    service.jobs.schedule(fence, due_time="3s", data=DATA)
    service.wait_for_trigger(fence, timeout=20)
    started = time.time()
    arrived = {r["name"] for r in service.received() if r["name"].startswith(prefix)}
    assert arrived == {got for got in sent.values() if got}
    assert not any(service.jobs.exists(name) for name in sent)  # all gone from the scheduler
    log = service.sidecar.process.log_text()
    assert f'{prefix}-100%\\": invalid URL escape' in log
    print(f"\n'%' names: {sorted(arrived)} arrived; checked in {time.time() - started:.2f} s")
