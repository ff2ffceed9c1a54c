"""wait_until: returns the condition's first truthy value, keeps polling through connection
errors, and times out naming what it waited for (and the last error), without a fixed sleep."""

from __future__ import annotations

import time

import httpx
import pytest

from workbook.runtime.waiting import WaitTimeout, wait_for_count, wait_until


def counter(truthy_from: int, value=None):
    calls = []

    def condition():
        calls.append(time.monotonic())
        return (value or len(calls)) if len(calls) >= truthy_from else None

    return condition, calls


def test_returns_the_first_truthy_value():
    condition, calls = counter(3, value={"status": 204})
    assert wait_until(condition, timeout=5, what="x", interval=0) == {"status": 204}
    assert len(calls) == 3


def test_an_immediately_true_condition_is_called_once():
    condition, calls = counter(1)
    assert wait_until(condition, timeout=5, what="x") == 1
    assert len(calls) == 1


def test_falsy_values_are_not_success():
    values = iter([0, "", [], None, False, "ready"])
    assert wait_until(lambda: next(values), timeout=5, what="x", interval=0) == "ready"


def test_connection_errors_are_polled_through():
    answers = iter([httpx.ConnectError("refused"), ConnectionRefusedError(), 200])

    def condition():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until(condition, timeout=5, what="x", interval=0) == 200


def test_other_errors_are_not_swallowed():
    def broken():
        raise KeyError("bug in the condition")

    with pytest.raises(KeyError):
        wait_until(broken, timeout=5, what="x")


def test_times_out_naming_what_and_the_last_error():
    def refused():
        raise httpx.ConnectError("connection refused")

    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        wait_until(refused, timeout=0.2, what="the sidecar", interval=0.01)
    elapsed = time.monotonic() - started
    assert str(caught.value) == (
        "timed out after 0.2 s waiting for the sidecar (last error: connection refused)"
    )
    assert isinstance(caught.value, TimeoutError)
    # it gave up at the deadline: not before, and not a whole extra timeout later
    assert 0.2 <= elapsed < 0.2 + 1.0


def test_a_timeout_without_errors_says_only_what():
    with pytest.raises(WaitTimeout, match=r"^timed out after 0\.05 s waiting for 3 triggers$"):
        wait_until(lambda: None, timeout=0.05, what="3 triggers", interval=0.01)


def test_polls_at_the_interval_not_in_a_busy_loop():
    condition, calls = counter(10**9)
    with pytest.raises(WaitTimeout):
        wait_until(condition, timeout=0.3, what="x", interval=0.05)
    # about 0.3 / 0.05 + 1 = 7 calls; a busy loop would make thousands
    assert 2 <= len(calls) <= 8


def test_wait_for_count_returns_every_record_once_enough_are_in():
    batches = iter([[], ["a"], ["a", "b", "c"]])
    assert wait_for_count(lambda: next(batches), 2, timeout=5, what="triggers") == ["a", "b", "c"]


def test_wait_for_count_says_how_many_it_wanted():
    with pytest.raises(WaitTimeout, match=r"waiting for 2 triggers of job 'x'$"):
        wait_for_count(lambda: ["a"], 2, timeout=0.05, what="triggers of job 'x'")
