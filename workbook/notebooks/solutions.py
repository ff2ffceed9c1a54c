"""The exercises of a notebook, found from its cell tags, and the CI run that proves each one.

An exercise is a code cell tagged `exercise` (the learner's code), the next code cell tagged
`check` (`ex.check("3.1", ...)`), and the next markdown cell tagged `solution` (a fenced
```python block). The plausible mistake for each exercise is `WRONG[id]` in
`workbook/lessons/checks/nbNN.py`. answered.py builds, from these, the copy that CI executes.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

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
