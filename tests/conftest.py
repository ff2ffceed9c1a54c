"""Shared fixtures: one real scheduler per test session, job_service with its sidecar, and a
check that nothing the tests started is still running when the session ends."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import psutil
import pytest
from hypothesis import settings

from workbook.runtime.apps import JobService, unique_name
from workbook.runtime.processes import stop_all
from workbook.runtime.scheduler import Scheduler

# Every property test (hypothesis): no deadline, since an example's time follows the load of a
# shared 2-core machine rather than the code; no example database, so every run starts afresh
# and writes nothing; hypothesis' own 100 examples unless a test asks for another number.
settings.register_profile("workbook", deadline=None, database=None)
settings.load_profile("workbook")

# Every process started during the tests inherits this mark; the orphan check looks for it.
RUN_MARK = f"WORKBOOK_TEST_RUN={uuid.uuid4().hex}"
os.environ["WORKBOOK_TEST_RUN"] = RUN_MARK.split("=", 1)[1]


@pytest.fixture(scope="session")
def scheduler(tmp_path_factory) -> Scheduler:
    """A scheduler of the tests' own: free ports, fresh data directory."""
    with Scheduler.isolated(tmp_path_factory.mktemp("scheduler")) as running:
        yield running


@pytest.fixture(scope="session")
def job_service(scheduler, tmp_path_factory) -> JobService:
    with JobService(scheduler, log_dir=tmp_path_factory.mktemp("job-service")) as service:
        yield service


@pytest.fixture
def job_name(job_service):
    """Make unique job names; each is deleted when the test ends."""
    names: list[str] = []

    def make(prefix: str = "job") -> str:
        names.append(unique_name(prefix))
        return names[-1]

    yield make
    for name in names:
        job_service.jobs.delete(name)


FOLDER_MARKS = {"unit", "runtime", "docs", "k8s"}


# Tests that use the fixed ports of dapr.yaml (6200, 6280, ...), the default control plane
# (50005, 50006, ...) or JupyterLab's: under pytest-xdist (make test runs tests side by side)
# they carry the mark default_ports and run after the others, one at a time (make test); every
# other test uses free ports of its own and runs side by side with the rest.
DEFAULT_PORT_TESTS = {
    "test_quickstart.py",
    "test_real_cli.py",
    "test_run_signals.py",
    "test_run_template.py",
    "test_controlplane.py",
    "test_lab_signals.py",
    "test_readme.py",
    "test_jupyterlab_browser.py",
}


def pytest_itemcollected(item):
    """Each test carries the mark of its folder (tests/unit, tests/runtime or tests/docs), and
    the tests on default ports are marked default_ports."""
    folder = Path(item.path).relative_to(Path(__file__).parent).parts[0]
    if folder in FOLDER_MARKS:
        item.add_marker(getattr(pytest.mark, folder))
    if Path(item.path).name in DEFAULT_PORT_TESTS:
        item.add_marker(pytest.mark.default_ports)


def marked_processes() -> list[psutil.Process]:
    """Live processes (zombies excluded) that carry this test run's mark in their environment."""
    mark_name, mark_value = RUN_MARK.split("=", 1)
    found = []
    for process in psutil.process_iter(["pid", "status"]):
        if process.pid == os.getpid() or process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        with contextlib.suppress(psutil.Error):
            if process.environ().get(mark_name) == mark_value:
                found.append(process)
    return found


def describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid}: {' '.join(process.cmdline())[:120]}"
    except psutil.Error:
        return f"{process.pid}: (gone)"


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any process a test started outlived it (then end them)."""
    stop_all()
    left = marked_processes()
    if left:
        print("\nORPHANS: these processes started by the tests are still running:")
        print("\n".join(f"  {describe(process)}" for process in left))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        for process in left:
            # psutil checks the pid still names the process it found (same create_time).
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
