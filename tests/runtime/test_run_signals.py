"""Everyday accidents with `workbook run -f .`: the terminal closed (SIGHUP), the run killed
(SIGKILL), a port already taken, and `stop -f dapr.yaml` for a run started as `-f .`."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time

from run_helpers import (
    DROID_JOBS,
    assert_ports_free,
    end_run,
    read_until,
    remove_jobs,
    start_run,
    started_by,
    wait_all_gone,
    workbook_env,
)

from workbook.config import ROOT
from workbook.runtime import ledger
from workbook.runtime.ports import port_in_use
from workbook.runtime.waiting import wait_until

TEMPLATE = ROOT / "dapr.yaml"


def names(entries: list[ledger.Entry]) -> set[str]:
    return {entry.name for entry in entries}


def wait_for_all_started(pid: int) -> list[ledger.Entry]:
    """Both apps and both sidecars of the run, from the ledger (plus the control plane if the
    run started it)."""
    return wait_until(
        lambda: (
            (found := started_by(pid))
            and {"daprd[job-service]", "job-service", "daprd[job-scheduler]", "job-scheduler"}
            <= names(found)
            and found
        ),
        timeout=60,
        what="the run to start both apps and their sidecars",
    )


def run_started(**env: str) -> tuple[subprocess.Popen, list[ledger.Entry]]:
    """`workbook run -f .` once its first job is scheduled and both apps and sidecars run."""
    run = start_run("-f", ".", env=workbook_env(**env))
    read_until(run, "Job Scheduled: R2-D2")  # without it, read_until ends the run
    try:
        return run, wait_for_all_started(run.pid)
    except BaseException:
        end_run(run)
        raise


def workbook(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`workbook ARGS` in the repository, as typed in a terminal; its output as text."""
    return subprocess.run(
        ["workbook", *args],
        cwd=ROOT,
        env=workbook_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_all_ended(started: list[ledger.Entry], timeout: float = 5) -> None:
    """Every process of the run gone, the quickstart's ports free, its jobs removed."""
    wait_all_gone(started, timeout=timeout)
    assert_ports_free()
    remove_jobs("job-service", DROID_JOBS)


def test_closing_the_terminal_stops_everything():
    """SIGHUP as a real terminal sends it: the run's pty is closed under it."""
    controller, terminal = pty.openpty()

    def take_terminal():  # in the child, after setsid: the pty becomes its controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    run = subprocess.Popen(
        ["workbook", "run", "-f", "."],
        cwd=ROOT,
        env=workbook_env(),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        preexec_fn=take_terminal,
    )
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + 60
    while b"Job Scheduled: C-3PO" not in seen:
        assert time.monotonic() < deadline, seen.decode(errors="replace")
        ready, _, _ = select.select([controller], [], [], 1)
        if ready:
            seen += os.read(controller, 65536)
    started = wait_for_all_started(run.pid)
    os.close(controller)  # the terminal window is closed: the kernel sends SIGHUP
    assert run.wait(timeout=60) == 0
    assert_all_ended(started)
    assert started_by(run.pid) == []


def test_a_killed_run_is_ended_by_the_parent_death_signal():
    run, started = run_started()
    os.kill(run.pid, signal.SIGKILL)
    run.communicate(timeout=30)
    assert_all_ended(started, timeout=30)  # each child was told by the kernel when its parent died


def killed_run_without_parent_death_signal() -> tuple[subprocess.Popen, list[ledger.Entry]]:
    """The portable path (macOS has no parent-death signal): SIGKILL leaves everything running."""
    run, started = run_started(WORKBOOK_NO_PARENT_DEATH_SIGNAL="1")
    os.kill(run.pid, signal.SIGKILL)
    run.communicate(timeout=30)
    assert all(ledger.running(entry) for entry in started), "they should have survived"
    return run, started


def ended_lines(output: str) -> set[str]:
    return {
        line for line in output.splitlines() if " left running by a killed workbook run" in line
    }


def expected_ended(started: list[ledger.Entry]) -> set[str]:
    return {
        f"[workbook] ended {e.name} (pid {e.pid}), left running by a killed workbook run"
        for e in started
    }


def test_stop_ends_what_a_killed_run_left():
    _, started = killed_run_without_parent_death_signal()
    stop = workbook("stop", "-f", "dapr.yaml", timeout=90)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert ended_lines(stop.stdout) == expected_ended(started)
    assert stop.stdout.splitlines()[-1] == (
        f"the run of {TEMPLATE} had been killed: ended what it left running"
    )
    assert_all_ended(started)


def test_the_next_run_ends_what_a_killed_run_left_and_tells_the_whole_storyline():
    """The orphaned job-service must not take the new run's triggers (issue 16)."""
    _, started = killed_run_without_parent_death_signal()
    rerun = workbook("run", "-f", ".", "--exit-with", "job-scheduler", timeout=120)
    out = rerun.stdout
    assert rerun.returncode == 0, out + rerun.stderr
    assert ended_lines(out) == expected_ended(started)
    assert all(ledger.running(entry) is None for entry in started)
    for line in (
        "== APP - job-service == Starting droid: R2-D2",
        "== APP - job-service == Starting droid: C-3PO",
        "== APP - job-scheduler == All droid jobs done.",
    ):
        assert line in out.splitlines(), out
    assert_ports_free()


def test_a_taken_port_is_refused_naming_its_holder_and_nothing_starts():
    listener = subprocess.Popen(
        [sys.executable, "-m", "http.server", "6280", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_in_use(6280), timeout=10, what="the listener on 6280")
        result = workbook("run", "-f", ".")
    finally:
        listener.kill()
        listener.wait()
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"[workbook] not started: port 6280 (job-service.daprHTTPPort in {TEMPLATE}) is held by "
        f"pid {listener.pid} ({sys.executable} -m http.server 6280 --bind 127.0.0.1): end it "
        f"with `kill {listener.pid}`",
        "[workbook] everything stopped",
    ]
    assert result.stderr == ""
    for port in (6200, 6281, 6380, 6381):  # nothing was started
        assert not port_in_use(port)


def test_a_port_held_by_another_run_names_the_command_that_stops_it():
    single = subprocess.Popen(
        ["workbook", "run", "--app-id", "job-service", "--app-port", "6200",
         "--dapr-http-port", "6280", "--", "python", "-m", "job_service"],
        cwd=ROOT, env=workbook_env(), text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    read_until(single, "[workbook] Started Dapr with app id 'job-service'")
    wait_until(lambda: port_in_use(6200), timeout=30, what="job-service on 6200")
    holder = next(e for e in started_by(single.pid) if e.name == "job-service")
    refused = workbook("run", "-f", ".")
    stop = workbook("stop", "--app-id", "job-service")
    single.communicate(timeout=30)
    assert refused.returncode == 1
    assert refused.stdout.splitlines()[0] == (
        f"[workbook] not started: port 6200 (job-service.appPort in {TEMPLATE}) is held by "
        f"job-service (pid {holder.pid}) of a workbook process that is still running (pid "
        f"{single.pid}): stop it with `workbook stop --app-id job-service`"
    )
    assert stop.stdout == f"stopped the run of job-service (pid {single.pid})\n"
    assert_ports_free()


def test_stop_dash_f_dapr_yaml_stops_a_run_started_with_dash_f_dot():
    run, started = run_started()
    stop = workbook("stop", "-f", "dapr.yaml", timeout=90)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert stop.stdout == f"stopped the run of {TEMPLATE} (pid {run.pid})\n"
    rest, _ = run.communicate(timeout=30)
    assert run.returncode == 0
    assert rest.rstrip().endswith("[workbook] everything stopped")
    assert_all_ended(started)


def test_stop_without_a_run_says_so():
    stop = workbook("stop", "-f", ".")
    assert (stop.returncode, stop.stdout, stop.stderr) == (
        1,
        "",
        f"no run of {TEMPLATE} is active\n",
    )
