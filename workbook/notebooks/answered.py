"""One execution that proves a notebook two ways (tests/docs/test_notebooks.py, under nbval).

`answered_copy(path, directory)` writes a copy of the stored notebook in which, right after each
exercise's check cell, two cells are inserted: the plausible mistake from
`workbook.lessons.checks.nbNN.WRONG` followed by the check, which must say "not yet", and the
solution (the fenced code of the `solution` cell) followed by the check, which must pass. Every
stored cell stays as it is, outputs included, so nbval (`--nbval-lax`) executing the copy
compares the cells marked `# NBVAL_CHECK_OUTPUT` with what the stored run printed, and fails on
an inserted cell's assertion. A learner's cells after an exercise do not depend on the answer
(the course's rule), which is what lets one run serve both purposes.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from workbook.notebooks.solutions import find_exercises, notebook_number, wrong_answers

INSERTED = {"tags": ["answered-run"]}  # never stored: only in the copy under test


def _result_assertion(exercise_id: str, *, passes: bool) -> str:
    verdict = "passed on a wrong answer" if not passes else "failed with its solution"
    return (
        "from workbook.lessons import exercises as _ex\n"
        f"_result = _ex.results.get({exercise_id!r})\n"
        f"print('{exercise_id} {'solution' if passes else 'wrong answer'} ->', _result)\n"
        f"assert _result is not None, '{exercise_id}: the check did not run'\n"
        f"assert _result[0] is {passes}, f'{exercise_id} {verdict}: {{_result}}'\n"
    )


def wrong_then_check(exercise_id: str, wrong_code: str, check_source: str) -> str:
    """The mistake (it may raise: that is reported, and the check still runs), then the check."""
    return (
        f"# inserted by the answered run: the WRONG answer to {exercise_id}, then its check\n"
        "try:\n"
        f"    exec(compile({wrong_code!r}, '<wrong answer {exercise_id}>', 'exec'), globals())\n"
        "except Exception as _error:  # a mistake may fail on its own; the check must say so\n"
        "    print('the wrong answer raised:', repr(_error))\n"
        f"{check_source}\n" + _result_assertion(exercise_id, passes=False)
    )


def solution_then_check(exercise_id: str, solution: str, check_source: str) -> str:
    return (
        f"# inserted by the answered run: the solution to {exercise_id}, then its check\n"
        f"{solution}\n{check_source}\n" + _result_assertion(exercise_id, passes=True)
    )


def answered_copy(
    path: Path, directory: Path, *, rerun: bool = False, after: str | None = None
) -> Path:
    """Write the answered copy of `path` into `directory` (same file name); return its path.

    rerun: the notebook's code cells once more at the end, in the same kernel (a learner who
    runs it again), without comparing their outputs. after: code run last (e.g. a check that
    no job was left behind, which must raise if one was)."""
    nb = nbformat.read(path, as_version=4)
    exercises, problems = find_exercises(nb)
    if problems:
        raise ValueError(f"{Path(path).name}: " + "; ".join(problems))
    wrong = wrong_answers(notebook_number(path))
    missing = [e.id for e in exercises if e.id not in wrong]
    if missing:
        raise ValueError(f"{Path(path).name}: no WRONG answer for exercise(s) {missing}")
    by_check = {e.check_cell: e for e in exercises}
    cells = []
    for index, cell in enumerate(nb.cells):
        cells.append(cell)
        exercise = by_check.get(index)
        if exercise:
            check = cell.source
            for source in (
                wrong_then_check(exercise.id, wrong[exercise.id], check),
                solution_then_check(exercise.id, exercise.solution, check),
            ):
                cells.append(nbformat.v4.new_code_cell(source, metadata=dict(INSERTED)))
    if rerun:
        for cell in nb.cells:
            if cell.cell_type == "code":
                source = cell.source.replace("# NBVAL_CHECK_OUTPUT", "# (run again)")
                cells.append(nbformat.v4.new_code_cell(source, metadata=dict(INSERTED)))
    if after:
        cells.append(nbformat.v4.new_code_cell(after, metadata=dict(INSERTED)))
    nb.cells = cells
    copy = Path(directory) / Path(path).name
    nbformat.write(nb, copy)
    return copy
