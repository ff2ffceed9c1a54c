"""Every notebook runs top to bottom twice in one kernel against the real runtime, leaves no job
behind, and is stored clean (outputs of a real run, no errors, no noisy metadata)."""

from __future__ import annotations

import json

import pytest

from workbook.nbtools import execute, notebook_paths, problems
from workbook.scheduler import Scheduler

NOTEBOOKS = notebook_paths()
CHECK_JOBS_GONE = """
import json, workbook.lab as lab
print(json.dumps(lab.jobs_left(lab.last_cleanup["app_id"], lab.last_cleanup["names"])))
"""


@pytest.fixture(scope="module")
def shared_scheduler():
    """One scheduler on the default ports for all notebooks (they reuse a running one)."""
    with Scheduler() as scheduler:
        yield scheduler


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_twice_and_cleans_up(path, shared_scheduler):
    _, seconds, outputs = execute(path, runs=2, after=CHECK_JOBS_GONE)
    print(f"{path.name}: two runs in {seconds:.1f} s")
    text = "".join(o.get("text", "") for o in outputs)
    assert json.loads(text) == [], f"jobs left behind: {text}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_is_clean(path):
    assert problems(path) == []
