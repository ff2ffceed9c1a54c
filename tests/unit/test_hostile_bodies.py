"""Hostile trigger bodies sent in process (FastAPI's TestClient) to every app the workbook ships:
job_service and the experiment apps. The class of input behind the reported 500: JSON that is
well formed but that Python's json module cannot read, raising something other than
JSONDecodeError (RecursionError for deep nesting, ValueError for a 4,301-digit integer).
Each refusal is a 4xx with exactly one log line; nothing is ever a 5xx the body did not ask for.
"""

from __future__ import annotations

import collections
import json
import sys
from collections import OrderedDict

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from job_service import app as service
from job_service.payload import MAX_BODY_BYTES, MAX_DEPTH
from job_service.trigger_log import TriggerLog
from workbook.experiments._shared import safe_input
from workbook.experiments._shared.trigger_store import TriggerStore
from workbook.experiments.bench_receiver import app as bench
from workbook.experiments.cron_binding import app as cleanup
from workbook.experiments.failing_receiver import app as failing

# Each property runs its edges every time as explicit examples (the depth limit and one past it,
# exactly MAX_BODY_BYTES and one byte more, 4,300 digits and 4,301, a "run" of 100 characters and
# 101, the first and last valid status); the random examples add breadth around them, and
# hypothesis' own default of 100 per property is enough for that (200 cost `make test-unit`
# about 5 s more). No deadline: a request's time in the TestClient
# follows the machine's load, not the app. No example database: every run starts afresh.
EXAMPLES = 100
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ORDER = {"droid": "R2-D2", "task": "Oil Change"}
DIGITS = sys.get_int_max_str_digits()  # 4300 unless PYTHONINTMAXSTRDIGITS says otherwise
# The body that job_service answered with 500 and a traceback: 5,000 levels of "[", 10 KB.
REPORTED = b"[" * 5000 + b"]" * 5000
TOO_LARGE = f"body is larger than {MAX_BODY_BYTES} bytes"


def nested(depth: int, opener: str = "[") -> bytes:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return (opener * depth + "0" + closer * depth).encode()


@pytest.fixture
def job_service(monkeypatch):
    monkeypatch.setattr(service, "triggers", TriggerLog())
    monkeypatch.setattr(service, "_deliveries", OrderedDict())
    monkeypatch.setattr(service, "_done_runs", OrderedDict())
    monkeypatch.delenv("APP_API_TOKEN", raising=False)
    with TestClient(service.app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def failing_receiver(monkeypatch):
    monkeypatch.setattr(failing, "deliveries", TriggerStore())
    with TestClient(failing.app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def cleanup_app(monkeypatch):
    monkeypatch.setattr(cleanup, "received_requests", TriggerStore())
    with TestClient(cleanup.app, raise_server_exceptions=False) as client:
        yield client


def lines(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


# --- the reported body, in every app ----------------------------------------------------------


def test_the_reported_body_is_422_with_one_line_in_job_service(job_service, capsys):
    answer = job_service.post("/job/deep", content=REPORTED)
    assert len(REPORTED) == 10_000
    assert (answer.status_code, answer.json()) == (
        422,
        {"error": f"body nests arrays or objects deeper than {MAX_DEPTH} levels"},
    )
    assert lines(capsys) == [
        f"Rejected job request 'deep': body nests arrays or objects deeper than {MAX_DEPTH} levels"
    ]
    assert job_service.get("/healthz").status_code == 200


def test_python_json_really_raises_more_than_decode_errors():
    """Why the apps check before json.loads: these are not JSONDecodeError."""
    with pytest.raises(RecursionError):
        json.loads(REPORTED)
    with pytest.raises(ValueError, match=f"limit \\({DIGITS} digits\\)") as error:
        json.loads("1" * (DIGITS + 1))
    assert not isinstance(error.value, json.JSONDecodeError)
    assert json.loads("1" * DIGITS) == int("1" * DIGITS)


def test_the_reported_body_is_422_with_one_line_in_the_failing_receiver(failing_receiver, capsys):
    answer = failing_receiver.post("/job/deep", content=REPORTED)
    reason = f"body nests arrays or objects deeper than {safe_input.MAX_DEPTH} levels"
    assert (answer.status_code, answer.json()) == (422, {"error": reason})
    assert lines(capsys) == [f"refused trigger of job 'deep': {reason}"]
    [delivery] = failing_receiver.get("/deliveries", params={"name": "deep"}).json()
    assert (delivery["status"], delivery["body_bytes"]) == (422, 10_000)


def test_the_cleanup_app_and_bench_receiver_take_the_reported_body(cleanup_app):
    """They do not parse bodies: the reported one is just 10 KB of data to them."""
    assert cleanup_app.post("/job/deep", content=REPORTED).status_code == 200
    assert cleanup_app.post("/todo-cleanup", content=REPORTED).status_code == 200
    bench._arrivals.clear()
    client = TestClient(bench.app)  # no lifespan: the bench app has none
    assert client.post("/job/deep", content=REPORTED).status_code == 200
    assert client.get("/count").json() == {"count": 1}


# --- job_service: one property per class of hostile body ---------------------------------------


def expect_422(job_service, capsys, body: bytes, reason: str, content_type="application/json"):
    capsys.readouterr()  # only this request's lines count
    answer = job_service.post("/job/hostile", content=body, headers={"content-type": content_type})
    assert (answer.status_code, answer.json()) == (422, {"error": reason}), body[:80]
    assert lines(capsys) == [f"Rejected job request 'hostile': {reason}"]


def expect_200(job_service, capsys, body: bytes, droid="R2-D2", content_type="application/json"):
    capsys.readouterr()  # only this request's lines count
    answer = job_service.post("/job/hostile", content=body, headers={"content-type": content_type})
    assert answer.status_code == 200, (body[:80], answer.text[:200])
    assert lines(capsys)[1] == f"Starting droid: {droid}"


def test_nesting_depth_is_refused_past_the_limit_whatever_the_stack(job_service, capsys):
    @PROPERTY
    @given(depth=st.integers(1, 20_000), opener=st.sampled_from(["[", '{"a":']))
    @example(depth=MAX_DEPTH - 1, opener="[")  # with the order's own level, MAX_DEPTH: accepted
    @example(depth=MAX_DEPTH, opener='{"a":')  # one level past the limit: refused
    @example(depth=MAX_DEPTH + 1, opener="[")  # bare, one past the limit
    @example(depth=20_000, opener='{"a":')  # larger than MAX_BODY_BYTES
    def check(depth, opener):
        inside = nested(depth, opener)
        body = b'{"droid": "R2-D2", "task": "Oil Change", "extra": ' + inside + b"}"
        if len(body) > MAX_BODY_BYTES:
            expect_422(job_service, capsys, body, TOO_LARGE)
        elif depth + 1 <= MAX_DEPTH:  # the order itself is one level
            expect_200(job_service, capsys, body)
        else:
            reason = f"body nests arrays or objects deeper than {MAX_DEPTH} levels"
            expect_422(job_service, capsys, body, reason)
        expect_422(job_service, capsys, inside, *refusal_of_bare(depth, opener))

    check()
    assert job_service.get("/healthz").status_code == 200


def refusal_of_bare(depth: int, opener: str) -> tuple[str]:
    if len(nested(depth, opener)) > MAX_BODY_BYTES:
        return (TOO_LARGE,)
    if depth > MAX_DEPTH:
        return (f"body nests arrays or objects deeper than {MAX_DEPTH} levels",)
    if opener == "[":
        return ("expected a JSON object or string, got list",)
    return ('expected {"droid": "<name>", "task": "<task>"} with two strings',)


def test_brackets_inside_strings_do_not_count_as_nesting(job_service, capsys):
    body = json.dumps(ORDER | {"note": "[" * 10_000 + "{" * 10_000}).encode()
    expect_200(job_service, capsys, body)


def test_sizes_up_to_and_beyond_the_limit(job_service, capsys):
    empty_pad = len(json.dumps(ORDER | {"pad": ""}).encode())

    @PROPERTY
    @given(size=st.integers(MAX_BODY_BYTES - 300, 3 * MAX_BODY_BYTES))
    @example(size=MAX_BODY_BYTES)
    @example(size=MAX_BODY_BYTES + 1)
    def check(size):
        body = json.dumps(ORDER | {"pad": "x" * max(0, size - empty_pad)}).encode()
        if len(body) <= MAX_BODY_BYTES:
            expect_200(job_service, capsys, body)
        else:  # the app stops reading at MAX_BODY_BYTES + 1 bytes
            expect_422(job_service, capsys, body, TOO_LARGE)

    check()
    exact = json.dumps(ORDER | {"pad": "x" * (MAX_BODY_BYTES - empty_pad)}).encode()
    assert len(exact) == MAX_BODY_BYTES
    expect_200(job_service, capsys, exact)


ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "latin-1", "cp1252"]


def test_encodings_other_than_utf8_are_refused(job_service, capsys):
    @PROPERTY
    @given(
        droid=st.text(min_size=1, max_size=30).filter(lambda s: (s.strip() or "\n").isprintable()),
        encoding=st.sampled_from(ENCODINGS),
    )
    def check(droid, encoding):
        text = json.dumps({"droid": droid, "task": "Oil Change"}, ensure_ascii=False)
        try:
            body = text.encode(encoding)
        except UnicodeEncodeError:
            return  # latin-1 cannot carry this droid's name at all
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            expect_422(job_service, capsys, body, "body is not UTF-8 text")
            return
        try:
            read = json.loads(body.decode("utf-8"))["droid"].strip()
        except json.JSONDecodeError as error:  # a UTF-8 BOM, or UTF-16 of ASCII (NULs)
            expect_422(job_service, capsys, body, f"body is not JSON: {error}")
            return
        # Valid UTF-8 is read as UTF-8: latin-1 "Â¡" (C2 A1) is the droid "¡"
        if not read:
            expect_422(job_service, capsys, body, "droid is empty")
        elif not read.isprintable():
            expect_422(job_service, capsys, body, "droid has control characters")
        else:
            expect_200(job_service, capsys, body, read)

    check()


@pytest.mark.parametrize(
    ("body", "status", "reason_or_droid"),
    [
        (b'{"droid": "\\ud800", "task": "x"}', 422, "droid has control characters"),
        (b'{"droid": "R2\\udfff", "task": "x"}', 422, "droid has control characters"),
        (b'{"droid": "\\ud83d\\ude00", "task": "x"}', 200, "\U0001f600"),  # a valid pair
        (b'"R2-D2\\u0000:Oil"', 422, "droid has control characters"),
        (
            b'{"droid": "R2\x00D2", "task": "x"}',
            422,
            "body is not JSON: Invalid control character at: line 1 column 14 (char 13)",
        ),
        (
            b'\x00{"droid": "R2", "task": "x"}',
            422,
            "body is not JSON: Expecting value: line 1 column 1 (char 0)",
        ),
        (b'{"droid": "R2-D2", "task": "x\\u2028y"}', 422, "task has control characters"),
        (b"\xed\xa0\x80", 422, "body is not UTF-8 text"),  # a surrogate encoded as UTF-8
    ],
)
def test_surrogates_and_nul(job_service, capsys, body, status, reason_or_droid):
    if status == 422:
        expect_422(job_service, capsys, body, reason_or_droid)
    else:
        expect_200(job_service, capsys, body, reason_or_droid)


def test_huge_numbers(job_service, capsys):
    @PROPERTY
    @given(digits=st.integers(1, 3 * DIGITS), field=st.sampled_from(["run", "extra"]))
    @example(digits=DIGITS, field="extra")
    @example(digits=DIGITS + 1, field="extra")
    @example(digits=100, field="run")
    @example(digits=101, field="run")
    def check(digits, field):
        service._done_runs.clear()  # each example is a first delivery, not a repeated run
        body = b'{"droid": "R2-D2", "task": "Oil", "%s": %s}' % (field.encode(), b"7" * digits)
        if digits > DIGITS:
            expect_422(job_service, capsys, body, f"body has a number of more than {DIGITS} digits")
        elif field == "run" and digits > 100:
            reason = '"run" must be printable and at most 100 characters'
            expect_422(job_service, capsys, body, reason)
        else:
            expect_200(job_service, capsys, body, "R2-D2")

    check()
    for number in (b"1e999999", b"-1e999999", b"1" * 5000 + b".5", b"0.0000001e-999999"):
        expect_200(job_service, capsys, b'{"droid": "R2-D2", "task": "Oil", "x": ' + number + b"}")


def test_duplicate_keys_are_refused_at_any_depth(job_service, capsys):
    @PROPERTY
    @given(key=st.sampled_from(["droid", "task", "run", "extra", "ü"]), nested_in=st.booleans())
    def check(key, nested_in):
        head = '{"droid": "R2-D2", "task": "Oil", '
        if nested_in:
            text = head + f'"inner": {{"{key}": 1, "{key}": 2}}}}'
        elif key in ("droid", "task"):
            text = head + f'"{key}": "C-3PO"}}'
        else:
            text = head + f'"{key}": "a", "{key}": "b"}}'
        expect_422(job_service, capsys, text.encode(), f"key {key!r} appears twice in one object")

    check()


def test_content_type_does_not_change_the_answer(job_service, capsys):
    good = json.dumps(ORDER).encode()

    @PROPERTY
    # printable ASCII, drawn directly (a filter on any text threw most draws away)
    @given(content_type=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60))
    def check(content_type):
        expect_200(job_service, capsys, good, content_type=content_type)
        expect_422(job_service, capsys, b"{bad", not_json(b"{bad"), content_type=content_type)

    check()


def not_json(body: bytes) -> str:
    try:
        json.loads(body)
    except json.JSONDecodeError as error:
        return f"body is not JSON: {error}"
    raise AssertionError("valid JSON")


def test_any_bytes_at_all_are_never_a_5xx(job_service, capsys):
    statuses: collections.Counter = collections.Counter()

    @PROPERTY
    @given(body=st.binary(max_size=3000) | st.text(max_size=500).map(str.encode))
    def check(body):
        answer = job_service.post("/job/fuzz", content=body)
        statuses[answer.status_code] += 1
        assert answer.status_code in (200, 422)
        printed = lines(capsys)
        assert len(printed) == (3 if answer.status_code == 200 else 1)

    check()
    assert sum(statuses.values()) == EXAMPLES
    assert statuses[422] > 0


# --- the failing receiver: an order it cannot follow is a 422, never a crash ---------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"answer": "abc"}', '"answer" must be an HTTP status from 200 to 599 (or "hang")'),
        (b'{"answer": 99}', '"answer" must be an HTTP status from 200 to 599 (or "hang")'),
        (b'{"answer": 600}', '"answer" must be an HTTP status from 200 to 599 (or "hang")'),
        (b'{"answer": true}', '"answer" must be an HTTP status from 200 to 599 (or "hang")'),
        (b'{"answer": 500.0}', '"answer" must be an HTTP status from 200 to 599 (or "hang")'),
        (b'{"answer": "hang", "then": "x"}', '"then" must be an HTTP status from 200 to 599'),
        (b'{"answer": "hang", "seconds": "x"}', '"seconds" must be a number from 0 to 300'),
        (b'{"answer": "hang", "seconds": 1e9}', '"seconds" must be a number from 0 to 300'),
        (b'{"answer": 200, "body": NaN}', '"body" must be plain JSON (no NaN or Infinity)'),
        (b"[500]", "the order must be a JSON object, got list"),
        (b"\xff", "body is not UTF-8 text"),
        (
            b'{"answer": ' + b"5" * (DIGITS + 1) + b"}",
            f"body has a number of more than {DIGITS} digits",
        ),
    ],
)
def test_failing_receiver_refuses_orders_it_cannot_follow(failing_receiver, capsys, body, reason):
    answer = failing_receiver.post("/job/order", content=body)
    assert answer.status_code == 422
    assert answer.json()["error"].startswith(reason)
    [line] = lines(capsys)
    assert line.startswith(f"refused trigger of job 'order': {reason}")


def test_failing_receiver_follows_every_valid_order_and_nothing_else(failing_receiver, capsys):
    @PROPERTY
    @given(
        answer=st.integers(200, 599) | st.integers() | st.text(max_size=5) | st.none(),
        seconds=st.floats(allow_nan=False) | st.integers(-5, 5),
        with_body=st.booleans(),
    )
    @example(answer=199, seconds=1, with_body=False)
    @example(answer=200, seconds=1, with_body=True)
    @example(answer=599, seconds=0, with_body=False)
    @example(answer=600, seconds=1, with_body=False)
    def check(answer, seconds, with_body):
        order = {"answer": "hang", "seconds": 0, "then": answer} if seconds == 0 else {}
        order = order or {"answer": answer} | ({"body": {"status": "x"}} if with_body else {})
        got = failing_receiver.post("/job/prop", content=json.dumps(order))
        valid = type(answer) is int and 200 <= answer <= 599
        assert got.status_code == (answer if valid else 422)
        assert len(lines(capsys)) == (0 if valid else 1)

    check()
    assert failing_receiver.post("/release", params={"name": "x", "status": 99}).status_code == 422
    assert failing_receiver.get("/healthz").status_code == 200


def test_experiment_apps_refuse_bodies_over_the_limit(failing_receiver, cleanup_app, capsys):
    big = b"x" * (safe_input.MAX_BODY_BYTES + 1)
    reason = f"body larger than {safe_input.MAX_BODY_BYTES} bytes"
    assert failing_receiver.post("/job/big", content=big).status_code == 413
    assert lines(capsys) == [f"refused trigger of job 'big': {reason}"]
    assert cleanup_app.post("/job/big", content=big).status_code == 413
    assert cleanup_app.post("/todo-cleanup", content=big).status_code == 413
    assert lines(capsys) == [
        f"[?] refused job 'big': {reason}",
        f"[?] refused binding 'todo-cleanup': {reason}",
    ]
    exact = b"x" * safe_input.MAX_BODY_BYTES
    assert cleanup_app.post("/job/exact", content=exact).status_code == 200
    client = TestClient(bench.app)  # no lifespan: the bench app has none
    assert client.post("/job/big", content=big).status_code == 413
    assert client.get("/arrivals", params={"start": "x"}).status_code == 400
    assert client.get("/arrivals", params={"start": "²"}).status_code == 400
    assert client.get("/healthz").status_code == 200
