"""The course, checked against the real runtime:

- every notebook runs once under nbval with its exercises answered: at each exercise, after the
  stored cells, a plausible mistake (its check must say "not yet"), then the solution (its check
  must pass); the stored outputs of the marked cells are what the runtime produces today; no job
  is left at the end;
- every notebook is stored clean and built as the course asks (objectives, >= 2 exercises,
  clean-up, linked "Next"), with at least 20 exercises in all;
- each notebook's measured run time is the one notebook 00 and the README state.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import nbformat
import pytest

from workbook.config import ROOT
from workbook.lessons.lab import SCHEDULER_PORTS_ENV
from workbook.notebooks.answered import answered_copy
from workbook.notebooks.course import learning_path_markdown, run_times
from workbook.notebooks.execute import notebook_paths, problems
from workbook.notebooks.solutions import find_exercises
from workbook.runtime.scheduler import Scheduler

EXPECTED_NOTEBOOKS = [
    "00_start_here.ipynb",
    "01_schedule_get_delete.ipynb",
    "02_handling_triggers.ipynb",
    "03_schedules.ipynb",
    "04_failure_policies.ipynb",
    "05_overwrite_and_errors.ipynb",
    "06_python_sdk.ipynb",
    "07_durability_and_replicas.ipynb",
    "08_jobs_vs_cron_binding.ipynb",
    "09_performance.ipynb",
    "10_to_production.ipynb",
    "11_listing_metrics_tokens.ipynb",
    "12_inside_the_scheduler.ipynb",
]
NOTEBOOKS = notebook_paths()
SANITIZER = ROOT / "tests" / "docs" / "nbval_sanitize.cfg"
MIN_EXERCISES_IN_ALL = 20
JOBS_GONE = """
# inserted by the answered run: no job of the notebook's app ID is left
import workbook.lessons.lab as _lab
_left = _lab.jobs_left(_lab.last_cleanup["app_id"], _lab.last_cleanup["names"])
assert _left == [], f"jobs left behind: {_left}"
"""
# Notebook 01 also runs a second time in the same kernel (a learner re-runs it); the others
# once, to keep `make test` within its time budget: lab.start() is the same code in all.
RERUN = ("01_",)


@pytest.fixture(scope="module")
def shared_scheduler(monkeypatch_module):
    """A scheduler of this test process's own, on free ports, for its notebooks: kernels and
    nbval's subprocesses find it through WORKBOOK_SCHEDULER_PORTS (see lab.lab_scheduler), so
    notebooks can run side by side with other tests (pytest-xdist) without sharing one."""
    with Scheduler.isolated() as scheduler:
        monkeypatch_module.setenv(SCHEDULER_PORTS_ENV, json.dumps(scheduler.ports))
        yield scheduler


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def ids(path):
    return path.stem


def test_the_course_is_these_notebooks():
    assert [p.name for p in NOTEBOOKS] == EXPECTED_NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_stored_outputs_hold_and_each_exercise_fails_wrong_and_passes_solved(
    path, shared_scheduler, tmp_path
):
    """One execution, under nbval in lax mode, of the notebook as stored plus, after each
    exercise's check, the plausible mistake with its check (must say "not yet") and the solution
    with its check (must pass): cells marked `# NBVAL_CHECK_OUTPUT` must print what they printed
    in the stored run (up to the sanitizer's patterns), every cell must run, and no job may be
    left at the end (workbook/notebooks/answered.py)."""
    copy = answered_copy(path, tmp_path, rerun=path.name.startswith(RERUN), after=JOBS_GONE)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval-lax",
        "--nbval-current-env",
        f"--nbval-sanitize-with={SANITIZER}",
        "-p",
        "no:cacheprovider",
        "-q",
        str(copy),
    ]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    tail = done.stdout[-8000:] + done.stderr[-2000:]
    print(f"{path.name}: answered run under nbval in {time.monotonic() - started:.1f} s")
    print(tail.splitlines()[-1] if tail.strip() else "(no output)")
    assert done.returncode == 0, tail


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_stored_notebook_is_clean(path):
    assert problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_some_outputs_are_checked_by_nbval(path):
    nb = nbformat.read(path, as_version=4)
    marked = [c for c in nb.cells if c.cell_type == "code" and "# NBVAL_CHECK_OUTPUT" in c.source]
    assert len(marked) >= 2, f"{path.name}: {len(marked)} cells marked # NBVAL_CHECK_OUTPUT"


def test_at_least_20_exercises_in_all():
    counts = {p.name: len(find_exercises(nbformat.read(p, as_version=4))[0]) for p in NOTEBOOKS}
    for name, count in counts.items():
        print(f"{name}: {count} exercises")
    print(f"total: {sum(counts.values())}")
    assert sum(counts.values()) >= MIN_EXERCISES_IN_ALL, counts


def test_every_notebook_has_a_measured_run_time():
    measured = run_times()
    assert sorted(measured) == EXPECTED_NOTEBOOKS, measured


def test_the_readme_states_the_learning_path_as_measured():
    """The README's notebook table is notebook 00's learning path: objectives, exercise
    counts and the run times measured by the last `workbook notebooks run`."""
    assert learning_path_markdown("notebooks/") in (ROOT / "README.md").read_text()
