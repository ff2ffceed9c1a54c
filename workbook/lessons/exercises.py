"""The exercises of the course: a learner's answer, a check against the real runtime, one line.

Each "Your turn" in a notebook is three cells: the learner's code (tagged `exercise`), then

    ex.check("1.1", checks.fires_in_1s, wb, name)

(tagged `check`), then a solution to reveal (a markdown cell tagged `solution`). A checker is a
plain function in `workbook/lessons/checks/nbNN.py`: it raises `NotYet("what is wrong, with the
measured value and a hint")` for a wrong answer and returns a short description of what it
verified. `check` turns that into exactly one printed line and never raises, so a learner's
failing exercise never breaks the cells after it:

    ✅ Your turn 1.1 passed: the job fired 1.02 s after scheduling
    ❌ Your turn 1.1 not yet: the job fired 28.1 s after scheduling; you asked for 1 s: ...

Every outcome is recorded in `results` (read by the CI harness, which runs each check once
against a wrong answer and once against the solution).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PASSED = "✅"
NOT_YET = "❌"

# exercise id -> (passed, message), the latest outcome of each check run in this kernel.
results: dict[str, tuple[bool, str]] = {}


class NotYet(Exception):
    """A wrong (or missing) answer; the message says precisely what is wrong."""


def answered(value: Any, what: str) -> Any:
    """`value` unless it is still the placeholder `...` (or None): then NotYet naming `what`."""
    if value is ... or value is None:
        raise NotYet(f"{what} is still the placeholder `...`: replace it with your answer")
    return value


def line(exercise_id: str, passed: bool, message: str) -> str:
    """The one line a check prints."""
    if passed:
        return f"{PASSED} Your turn {exercise_id} passed: {message}"
    return f"{NOT_YET} Your turn {exercise_id} not yet: {message}"


def check(exercise_id: str, checker: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Run `checker(*args, **kwargs)`, print one line, record and return whether it passed.

    Never raises for anything the checker or the learner's code does: NotYet is the answer
    being wrong; any other exception is reported as an error on the same line."""
    try:
        verified = checker(*args, **kwargs)
    except NotYet as wrong:
        passed, message = False, str(wrong) or "the answer is not right yet"
    except Exception as error:  # a learner's code may raise anything; report it, never raise
        passed = False
        message = f"the check could not finish (error: {type(error).__name__}: {error})"
    else:
        passed, message = True, str(verified) if verified is not None else "verified"
    results[exercise_id] = (passed, message)
    print(line(exercise_id, passed, message), flush=True)
    return passed
