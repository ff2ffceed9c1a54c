"""Fixtures shared by the runtime tests: the machine's timing baseline (its rules are in
timing_baseline.py), and a control plane and droid actor app per module for the actor tests."""

from __future__ import annotations

import itertools
import statistics
import time

import pytest
from timing_baseline import BASELINE_FIRES, BASELINE_JOBS, DATA, EVERY_S, TimingBaseline

from jobs_client import rfc3339
from workbook.experiments.droid_actor.harness import DroidActor, write_actor_store
from workbook.runtime.apps import unique_name
from workbook.runtime.controlplane import ControlPlane

_measured: list[TimingBaseline] = []


@pytest.fixture(scope="session")
def timing(job_service, request) -> TimingBaseline:
    """Measure trigger lateness on the session scheduler (about 4 s), print it once."""
    # First one trigger end to end: while a run starts its schedulers, etcd may stall on the
    # disk (CI, 2026-12-01: five @every 0.5s fires within 8 ms, 6.4 s late; etcd's "slow
    # fdatasync" of up to 3.2 s in a later run). The baseline measures the steady state.
    warm_up = unique_name("baseline-warm-up")
    try:
        job_service.jobs.schedule(warm_up, due_time="0s", data=DATA)
        job_service.wait_for_trigger(warm_up, timeout=60)
    finally:
        job_service.jobs.delete(warm_up)
    start = time.time() + 1.0
    one_shots = {unique_name("baseline"): rfc3339(start + 0.1 * i) for i in range(BASELINE_JOBS)}
    every = unique_name("baseline-every")
    every_due, every_at = rfc3339(start)
    try:
        for name, (text, _) in one_shots.items():
            job_service.jobs.schedule(name, due_time=text, data=DATA)
        job_service.jobs.schedule(
            every,
            schedule=f"@every {EVERY_S:g}s",
            due_time=every_due,
            repeats=BASELINE_FIRES,
            data=DATA,
        )
        fires = job_service.wait_for_trigger(every, count=BASELINE_FIRES, timeout=30)
        lateness = [t["received_at"] - (every_at + k * EVERY_S) for k, t in enumerate(fires)]
        for name, (_, at) in one_shots.items():
            first = job_service.wait_for_trigger(name, timeout=30)[0]
            lateness.append(first["received_at"] - at)
    finally:
        for name in [*one_shots, every]:
            job_service.jobs.delete(name)
    gaps = [b["received_at"] - a["received_at"] for a, b in itertools.pairwise(fires)]
    baseline = TimingBaseline(lateness=lateness, every_gaps=gaps)
    assert statistics.median(lateness) >= -0.001, "triggers came before their due time"
    _measured.append(baseline)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\n{baseline.describe()}")
    return baseline


def pytest_terminal_summary(terminalreporter):
    for baseline in _measured:
        terminalreporter.write_line(baseline.describe())


# The actor tests (test_actor_reminders.py, test_scheduler_keys.py): per module, a control plane
# of their own (scheduler + placement on free ports) and the droid actor app with its sidecar.
@pytest.fixture(scope="module")
def plane(tmp_path_factory):
    with ControlPlane.isolated(tmp_path_factory.mktemp("plane")) as running:
        yield running


@pytest.fixture(scope="module")
def droid(plane, tmp_path_factory):
    folder = tmp_path_factory.mktemp("droid-actor")
    with DroidActor(plane, resources_path=write_actor_store(folder / "resources")) as running:
        yield running
