"""Shared fixtures: one real scheduler per test session, job_service with its sidecar, and a
check that nothing the tests started is still running when the session ends."""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from pathlib import Path

import pytest

from workbook.runtime.apps import JobService, unique_name
from workbook.runtime.processes import pid_alive, stop_all
from workbook.runtime.scheduler import Scheduler

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


FOLDER_MARKS = {"unit", "runtime", "docs"}


def pytest_collection_modifyitems(config, items):
    """Each test carries the mark of its folder: tests/unit, tests/runtime or tests/docs."""
    for item in items:
        folder = Path(item.path).relative_to(Path(__file__).parent).parts[0]
        if folder in FOLDER_MARKS:
            item.add_marker(getattr(pytest.mark, folder))


def marked_processes() -> list[str]:
    """Live processes that carry this test run's mark in their environment."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            if RUN_MARK.encode() not in environ:
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        except OSError:
            continue
        if pid_alive(int(entry.name)):
            found.append(f"{entry.name}: {cmd}")
    return found


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any process a test started outlived it (then end them)."""
    stop_all()
    left = marked_processes()
    if left:
        print("\nORPHANS: these processes started by the tests are still running:")
        print("\n".join(f"  {line}" for line in left))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        for line in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split(":")[0]), signal.SIGKILL)
