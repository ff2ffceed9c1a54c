"""The exercises of a notebook, found from its cell tags, and the CI run that proves each one.

An exercise is a code cell tagged `exercise` (the learner's code), the next code cell tagged
`check` (`ex.check("3.1", ...)`), and the next markdown cell tagged `solution` (a fenced
```python block). `run_with_answers` executes the notebook in one kernel; at each exercise it
runs the plausible mistake from `workbook.lessons.checks.nbNN.WRONG` and the check (which must
fail), then the solution and the check (which must pass); every other cell runs as stored.
"""

from __future__ import annotations

import ast
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from workbook.config import ROOT

CHECKS = ROOT / "workbook" / "lessons" / "checks"
CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d+\.\d+)["']""")
SOLUTION_CODE = re.compile(r"```python\n(.*?)```", re.DOTALL)
YOUR_TURN = re.compile(r"^###\s+Your turn (\d+\.\d+)\b", re.MULTILINE)


@dataclass
class Exercise:
    id: str
    exercise_cell: int  # index in nb.cells
    check_cell: int
    solution: str


@dataclass
class Outcome:
    id: str
    wrong: tuple[bool, str] | None = None  # the check's result on the WRONG code
    solved: tuple[bool, str] | None = None  # the check's result on the solution
    wrong_code_error: str | None = None  # the WRONG code itself raised (allowed, reported)


@dataclass
class AnswerRun:
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    after_output: str = ""


def notebook_number(path: Path) -> int:
    return int(Path(path).name[:2])


def tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def find_exercises(nb: nbformat.NotebookNode) -> tuple[list[Exercise], list[str]]:
    """The notebook's exercises, and what is wrong with their structure (empty if nothing)."""
    found, problems = [], []
    cells = nb.cells
    for index, cell in enumerate(cells):
        if "exercise" not in tags(cell):
            continue
        where = f"cell {index + 1} (tagged exercise)"
        if cell.cell_type != "code":
            problems.append(f"{where} is not a code cell")
            continue
        check = next((i for i in range(index + 1, len(cells)) if "check" in tags(cells[i])), None)
        if check is None or cells[check].cell_type != "code":
            problems.append(f"{where}: no code cell tagged check after it")
            continue
        match = CHECK_CALL.search(cells[check].source)
        if not match:
            problems.append(f'{where}: its check cell does not call ex.check("N.k", ...)')
            continue
        exercise_id = match.group(1)
        between = [c for c in cells[index + 1 : check] if "exercise" in tags(c)]
        if between:
            problems.append(f"{where}: another exercise cell before its check")
        solution = next(
            (i for i in range(check + 1, len(cells)) if "solution" in tags(cells[i])), None
        )
        code = SOLUTION_CODE.search(cells[solution].source) if solution is not None else None
        if solution is None or cells[solution].cell_type != "markdown" or not code:
            problems.append(f"{where}: no markdown cell tagged solution with a ```python block")
            continue
        if "<details>" not in cells[solution].source:
            problems.append(f"exercise {exercise_id}: the solution is not folded in <details>")
        headings = YOUR_TURN.findall("\n".join(c.source for c in cells[:index]))
        if exercise_id not in headings:
            problems.append(f"exercise {exercise_id}: no '### Your turn {exercise_id}' before it")
        found.append(Exercise(exercise_id, index, check, code.group(1)))
    ids = [e.id for e in found]
    if len(set(ids)) != len(ids):
        problems.append(f"exercise ids repeat: {ids}")
    return found, problems


def wrong_answers(number: int) -> dict[str, str]:
    """WRONG of workbook/lessons/checks/nbNN.py, read as a literal (the harness does not
    import the lessons); {} when the module does not exist yet."""
    path = CHECKS / f"nb{number:02d}.py"
    if not path.exists():
        return {}
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "WRONG" for t in targets):
            try:
                return dict(ast.literal_eval(node.value))
            except ValueError:
                raise ValueError(f"{path.name}: WRONG must be a dict of string literals") from None
    return {}


class _Kernel:
    """One kernel running a notebook's cells, plus code of the harness's own in between."""

    def __init__(self, nb, path: Path, timeout: int):
        self.nb = nb
        self.client = NotebookClient(
            nb,
            kernel_name="python3",
            timeout=timeout,
            resources={"metadata": {"path": str(path.parent)}},
        )

    def run_cell(self, index: int, source: str | None = None):
        cell = self.nb.cells[index]
        if source is not None:
            cell = nbformat.v4.new_code_cell(source, metadata=dict(cell.metadata))
        self.client.execute_cell(cell, index)

    def run_code(self, code: str) -> str:
        """Run harness code in the kernel (not stored anywhere); return its printed text."""
        extra = nbformat.v4.new_code_cell(code)
        self.nb.cells.append(extra)
        try:
            self.client.execute_cell(extra, len(self.nb.cells) - 1)
        finally:
            self.nb.cells.pop()
        return "".join(o.get("text", "") for o in extra.get("outputs", []))

    def result(self, exercise_id: str) -> tuple[bool, str] | None:
        text = self.run_code(
            "import json as _json\nfrom workbook.lessons import exercises as _ex\n"
            f"print(_json.dumps(_ex.results.pop({exercise_id!r}, None)))"
        )
        value = json.loads(text)
        return tuple(value) if value is not None else None


def run_with_answers(
    path: Path, *, timeout: int = 300, rerun: bool = False, after: str | None = None
) -> AnswerRun:
    """Execute the notebook with a wrong answer, then the solution, at each exercise."""
    nb = nbformat.read(path, as_version=4)
    exercises, problems = find_exercises(nb)
    if problems:
        raise ValueError(f"{path.name}: " + "; ".join(problems))
    wrong = wrong_answers(notebook_number(path))
    missing = [e.id for e in exercises if e.id not in wrong]
    if missing:
        raise ValueError(f"{path.name}: no WRONG answer for exercise(s) {missing}")
    by_cell = {e.exercise_cell: e for e in exercises}
    check_cells = {e.check_cell for e in exercises}  # run right after their exercise
    kernel = _Kernel(nb, path, timeout)
    outcomes = []
    started = time.monotonic()
    with kernel.client.setup_kernel():
        for index in range(len(nb.cells)):
            if nb.cells[index].cell_type != "code" or index in check_cells:
                continue
            exercise = by_cell.get(index)
            if exercise is None:
                kernel.run_cell(index)
                continue
            outcome = Outcome(exercise.id)
            try:
                kernel.run_cell(index, wrong[exercise.id])
            except CellExecutionError as error:
                outcome.wrong_code_error = str(error).strip().splitlines()[-1]
            kernel.run_cell(exercise.check_cell)
            outcome.wrong = kernel.result(exercise.id)
            kernel.run_cell(index, exercise.solution)
            kernel.run_cell(exercise.check_cell)
            outcome.solved = kernel.result(exercise.id)
            outcomes.append(outcome)
        if rerun:  # a learner runs the notebook again in the same kernel: it must still work
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    kernel.run_cell(index)
        seconds = time.monotonic() - started
        after_output = kernel.run_code(after) if after else ""
    return AnswerRun(seconds, outcomes, after_output)
