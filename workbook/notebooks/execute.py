"""Notebooks as code: execute them against the real runtime, store clean outputs, check them.

workbook notebooks run [NB...]    execute and save with outputs (metadata stripped)
workbook notebooks check [NB...]  fail on missing outputs, errors, stale metadata
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from workbook.config import ROOT

NOTEBOOKS = ROOT / "notebooks"
KEPT_NOTEBOOK_METADATA = {"kernelspec", "language_info"}


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


def execute(
    path: Path, *, timeout: int = 300, runs: int = 1, after: str | None = None
) -> tuple[nbformat.NotebookNode, float, list]:
    """Run every cell `runs` times in one kernel (a re-run must work too), then the code
    `after` if given; return the notebook, the seconds it took, and the outputs of `after`."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    extra = nbformat.v4.new_code_cell(after or "")
    with client.setup_kernel():
        for _ in range(runs):
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        seconds = time.monotonic() - started
        if after:
            nb.cells.append(extra)
            client.execute_cell(extra, len(nb.cells) - 1)
            nb.cells.pop()
    return nb, seconds, extra.get("outputs", [])


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
    return found


def main(action: str, names: list[str] | None = None) -> int:
    paths = notebook_paths(names)
    failed = 0
    for path in paths:
        if action == "run":
            nb, seconds, _ = execute(path)
            nbformat.write(clean(nb), path)
            print(f"{path.name}: executed in {seconds:.1f} s, saved")
        else:
            for problem in problems(path):
                print(f"{path.name}: {problem}")
                failed += 1
    return 1 if failed else 0
