"""The exercise API: one printed line per check, results recorded, never an exception."""

from __future__ import annotations

import pytest

from workbook.lessons import exercises as ex


@pytest.fixture(autouse=True)
def fresh_results():
    ex.results.clear()
    yield
    ex.results.clear()


def fires_after(seconds: float) -> str:
    if seconds != 1:
        raise ex.NotYet(f"the job fired {seconds} s after scheduling; you asked for 1 s")
    return "the job fired 1 s after scheduling"


def test_a_passing_check_prints_the_line_and_records_it(capsys):
    assert ex.check("1.1", fires_after, 1) is True
    assert (
        capsys.readouterr().out == "✅ Your turn 1.1 passed: the job fired 1 s after scheduling\n"
    )
    assert ex.results == {"1.1": (True, "the job fired 1 s after scheduling")}


def test_not_yet_message_passes_through(capsys):
    assert ex.check("1.2", fires_after, seconds=28.1) is False
    message = "the job fired 28.1 s after scheduling; you asked for 1 s"
    assert capsys.readouterr().out == f"❌ Your turn 1.2 not yet: {message}\n"
    assert ex.results["1.2"] == (False, message)


def test_an_unexpected_exception_is_reported_not_raised(capsys):
    def broken():
        return {}["dueTime"]

    assert ex.check("3.1", broken) is False
    expected = "the check could not finish (error: KeyError: 'dueTime')"
    assert capsys.readouterr().out == f"❌ Your turn 3.1 not yet: {expected}\n"
    assert ex.results["3.1"] == (False, expected)


def test_a_learner_function_that_raises_is_reported(capsys):
    def learner_handler():
        raise ValueError("bad body")

    assert ex.check("2.1", lambda: learner_handler()) is False
    assert "(error: ValueError: bad body)" in capsys.readouterr().out


def test_the_latest_run_of_a_check_is_recorded(capsys):
    ex.check("1.1", fires_after, 2)
    ex.check("1.1", fires_after, 1)
    assert ex.results["1.1"][0] is True
    out = capsys.readouterr().out.splitlines()
    assert [line[0] for line in out] == ["❌", "✅"]


def test_an_empty_not_yet_still_says_something(capsys):
    def silent():
        raise ex.NotYet()

    assert ex.check("0.1", silent) is False
    assert capsys.readouterr().out == "❌ Your turn 0.1 not yet: the answer is not right yet\n"


def test_a_checker_returning_nothing_passes_as_verified(capsys):
    assert ex.check("0.2", lambda: None) is True
    assert capsys.readouterr().out == "✅ Your turn 0.2 passed: verified\n"


def test_keyboard_interrupt_is_not_swallowed():
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ex.check("0.3", interrupted)


@pytest.mark.parametrize("placeholder", [..., None])
def test_answered_rejects_the_placeholder(placeholder):
    with pytest.raises(ex.NotYet, match="due_time is still the placeholder"):
        ex.answered(placeholder, "due_time")


def test_answered_returns_a_real_answer():
    assert ex.answered("1s", "due_time") == "1s"
