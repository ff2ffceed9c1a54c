"""Every notebook runs top to bottom against the real runtime (the core ones twice in one
kernel), leaves no job behind, and is stored clean (outputs of a real run, no errors, no noisy
metadata)."""

from __future__ import annotations

import json

import pytest

from workbook.notebooks.execute import execute, notebook_paths, problems
from workbook.runtime.scheduler import Scheduler

NOTEBOOKS = notebook_paths()
CHECK_JOBS_GONE = """
import json
import workbook.lessons.lab as lab
print(json.dumps(lab.jobs_left(lab.last_cleanup["app_id"], lab.last_cleanup["names"])))
"""


@pytest.fixture(scope="module")
def shared_scheduler():
    """One scheduler on the default ports for all notebooks (they reuse a running one)."""
    with Scheduler() as scheduler:
        yield scheduler


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


# The core notebooks run twice in one kernel (a learner re-runs them); the long deeper ones
# once, to keep `make test` within its time budget.
TWICE = ("01_", "02_", "03_")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_cleans_up(path, shared_scheduler):
    runs = 2 if path.name.startswith(TWICE) else 1
    _, seconds, outputs = execute(path, runs=runs, after=CHECK_JOBS_GONE)
    print(f"{path.name}: {runs} run(s) in {seconds:.1f} s")
    text = "".join(o.get("text", "") for o in outputs)
    assert json.loads(text) == [], f"jobs left behind: {text}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_is_clean(path):
    assert problems(path) == []
