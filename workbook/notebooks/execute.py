"""Notebooks as code: execute them against the real runtime, store clean outputs, check them.

workbook notebooks run [NB...]    execute and save with outputs (metadata stripped), and record
                                  each notebook's run time in notebooks/run_times.json
workbook notebooks check [NB...]  fail on missing outputs, errors, stale metadata, a broken
                                  course structure (objectives, exercises, "Next" link)
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from workbook.config import ROOT
from workbook.notebooks.course import (
    RUN_TIMES,
    learning_path_markdown,
    run_times,
    write_readme_table,
)
from workbook.notebooks.solutions import find_exercises, notebook_number, wrong_answers

NOTEBOOKS = ROOT / "notebooks"
KEPT_NOTEBOOK_METADATA = {"kernelspec", "language_info"}
OBJECTIVES = "In this notebook you will"
NEXT_LINK = re.compile(r"Next:\s*\[[^\]]+\]\((\d\d_[\w]+\.ipynb)\)")
MIN_EXERCISES = 2


def notebook_paths(names: list[str] | None = None) -> list[Path]:
    if names:
        return [Path(n).resolve() for n in names]
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip what changes on every run but says nothing: timings, ids of widgets, versions."""
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in KEPT_NOTEBOOK_METADATA}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells, 1):
        cell.id = f"cell-{index:02d}"  # stable ids keep diffs small
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in {"tags"}}
        for output in cell.get("outputs", []):
            if "metadata" in output:
                output.metadata = {}
    return nb


def execute(path: Path, *, timeout: int = 300) -> tuple[nbformat.NotebookNode, float]:
    """Run every cell as stored in one kernel; return the notebook and the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        seconds = time.monotonic() - started
    return nb, seconds


def record_run_time(name: str, seconds: float) -> None:
    """Update one notebook's entry (re-read first: others may run other notebooks meanwhile)."""
    times = run_times() | {name: round(seconds, 1)}
    partial = RUN_TIMES.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(dict(sorted(times.items())), indent=2) + "\n")
    partial.replace(RUN_TIMES)


def course_problems(path: Path, nb: nbformat.NotebookNode) -> list[str]:
    """What the course asks of every notebook: objectives first, exercises with a WRONG answer
    each, clean-up, a linked "Next", no word a learner cannot know."""
    found = []
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    if not markdown or OBJECTIVES not in nb.cells[0].source:
        found.append(f"the first cell does not state objectives ({OBJECTIVES!r} ...)")
    exercises, structure = find_exercises(nb)
    found += structure
    if len(exercises) < MIN_EXERCISES:
        found.append(f"{len(exercises)} exercise(s); the course asks for at least {MIN_EXERCISES}")
    number = notebook_number(path)
    wrong = wrong_answers(number)
    for exercise in exercises:
        if not exercise.id.startswith(f"{number}."):
            found.append(f"exercise {exercise.id}: its id should start with '{number}.'")
        if exercise.id not in wrong:
            found.append(f"exercise {exercise.id}: no WRONG answer in checks/nb{number:02d}.py")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or "lab.cleanup()" not in code[-1].source:
        found.append("the last code cell is not the clean-up (lab.cleanup())")
    links = NEXT_LINK.findall(markdown[-1].source) if markdown else []
    if not links:
        found.append('the last cell has no linked "Next: [NN · title](NN_file.ipynb)"')
    for link in links:
        if not (path.parent / link).exists():
            found.append(f'"Next" links to {link}, which does not exist')
    text = "\n".join(c.source for c in nb.cells) + "".join(
        o.get("text", "") for c in code for o in c.get("outputs", [])
    )
    if re.search(r"\bseed", text, re.IGNORECASE):
        found.append('the word "seed" appears (name the real document instead)')
    return found


def problems(path: Path) -> list[str]:
    """What is wrong with a stored notebook (empty list: it is clean)."""
    nb = nbformat.read(path, as_version=4)
    found = []
    extra = set(nb.metadata) - KEPT_NOTEBOOK_METADATA
    if extra:
        found.append(f"notebook metadata to strip: {sorted(extra)}")
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    if any(n is None for n in counts) or counts != list(range(1, len(code) + 1)):
        found.append(f"execution counts not 1..{len(code)} in order: {counts}")
    for i, cell in enumerate(code, 1):
        if set(cell.metadata) - {"tags"}:
            found.append(f"code cell {i}: metadata to strip: {sorted(cell.metadata)}")
        for output in cell.outputs:
            if output.output_type == "error":
                found.append(f"code cell {i}: stored error {output.ename}: {output.evalue}")
    if code and not any(c.outputs for c in code):
        found.append("no stored outputs: run `make notebooks` and commit the result")
    return found + course_problems(path, nb)


def main(action: str, names: list[str] | None = None) -> int:
    paths = notebook_paths(names)
    if action == "run":
        return run_and_store(paths)
    failed = 0
    for path in paths:
        for problem in problems(path):
            print(f"{path.name}: {problem}")
            failed += 1
    return 1 if failed else 0


def run_and_store(paths: list[Path]) -> int:
    """Execute and store each notebook, record its time, then refresh what states the times:
    the README's table and notebook 00's learning path (00 runs last, after the others)."""
    start_here = NOTEBOOKS / "00_start_here.ipynb"
    for path in [p for p in paths if p.name != start_here.name]:
        run_one(path)
    if start_here.exists():
        # 00's table states 00's own time, known only once 00 has run: run it again (rarely
        # needed, it takes seconds) until the table it shows is the one the times give.
        for _ in range(3):
            nb = run_one(start_here)
            if learning_path_markdown() in _outputs_text(nb):
                break
    if write_readme_table():
        print("README.md: the notebook table now states the measured run times")
    return 0


def run_one(path: Path) -> nbformat.NotebookNode:
    nb, seconds = execute(path)
    nbformat.write(clean(nb), path)
    record_run_time(path.name, seconds)
    print(f"{path.name}: executed in {seconds:.1f} s, saved")
    return nb


def _outputs_text(nb: nbformat.NotebookNode) -> str:
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.extend(str(v) for v in output.get("data", {}).values())
    return "\n".join(texts)
