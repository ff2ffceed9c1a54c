"""The ledger, identity checks, token stripping, stop signals and SIGKILL-only crashes, with
ordinary processes (`sleep`, small Python scripts): no Dapr runtime needed."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from workbook import config
from workbook.runtime import ledger, processes, spawning
from workbook.runtime.processes import ManagedProcess, NotOurs
from workbook.runtime.waiting import wait_until


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path, monkeypatch):
    """Each test with its own ledger (other runs' entries are never touched)."""
    monkeypatch.setattr(config, "STATE_DIR", tmp_path / "state")


def sleeper(tmp_path, name="sleeper", seconds=60) -> ManagedProcess:
    return ManagedProcess(name, ["sleep", str(seconds)], log_path=tmp_path / f"{name}.log").start()


def dead_starter() -> ledger.Starter:
    """The identity of a process that has exited (a killed workbook run, say)."""
    gone = subprocess.Popen(["true"])
    created = psutil.Process(gone.pid).create_time()
    gone.wait()
    return ledger.Starter(gone.pid, created, ["workbook", "lab"])


def entry_for(pid: int, *, create_time: float, starter: ledger.Starter, args, detached=False):
    entry = ledger.Entry(
        pid=pid,
        create_time=create_time,
        name="orphan",
        args=args,
        started_by=starter,
        detached=detached,
    )
    ledger._write(entry, None)
    return entry


def test_a_started_process_is_recorded_and_forgotten_when_stopped(tmp_path):
    proc = sleeper(tmp_path)
    [entry] = ledger.entries()
    assert entry.pid == proc.pid
    assert entry.args == ["sleep", "60"]
    assert entry.create_time == pytest.approx(psutil.Process(proc.pid).create_time(), abs=0.01)
    assert entry.started_by.pid == os.getpid()
    assert entry.detached is False
    assert ledger.running(entry) is not None

    assert proc.stop() == -signal.SIGTERM
    assert ledger.entries() == []


def test_identity_needs_the_same_pid_start_time_and_command(tmp_path):
    proc = sleeper(tmp_path)
    started = psutil.Process(proc.pid).create_time()
    assert ledger.is_same_process(proc.pid, started, ["sleep", "60"])
    assert not ledger.is_same_process(proc.pid, started - 3600)  # a reused pid
    assert not ledger.is_same_process(proc.pid, started, ["python", "-m", "job_service"])
    proc.stop()
    assert not ledger.is_same_process(proc.pid, started)  # gone


def test_same_command_accepts_a_program_that_re_executed_itself():
    started_as = ["python", "-m", "jupyter", "lab", "--no-browser", "--ServerApp.port=8888"]
    now = ["python", "/venv/bin/jupyter-lab", "--no-browser", "--ServerApp.port=8888"]
    assert ledger.same_command(started_as, now)
    assert not ledger.same_command(started_as, ["sleep", "60"])
    assert not ledger.same_command(started_as, [])  # a zombie or a process we may not read


def test_a_process_whose_starter_was_killed_is_a_leftover_and_is_ended(tmp_path):
    orphan = subprocess.Popen(["sleep", "60"], start_new_session=True)
    created = psutil.Process(orphan.pid).create_time()
    entry_for(orphan.pid, create_time=created, starter=dead_starter(), args=["sleep", "60"])
    mine = sleeper(tmp_path, "mine")  # its starter (this process) is alive: not a leftover

    assert [e.pid for e in processes.leftovers()] == [orphan.pid]
    said = []
    ended = processes.end_leftovers(report=said.append)
    assert [e.pid for e in ended] == [orphan.pid]
    assert orphan.wait(timeout=10) == -signal.SIGTERM
    assert len(said) == 1
    assert f"(pid {orphan.pid})" in said[0]
    assert mine.alive()
    assert [e.pid for e in ledger.entries()] == [mine.pid]
    mine.stop()


def test_a_detached_service_is_not_a_leftover(tmp_path):
    service = subprocess.Popen(["sleep", "60"], start_new_session=True)
    created = psutil.Process(service.pid).create_time()
    entry_for(
        service.pid,
        create_time=created,
        starter=dead_starter(),
        args=["sleep", "60"],
        detached=True,
    )
    assert processes.leftovers() == []
    service.kill()
    service.wait()


def test_a_reused_pid_is_never_signalled():
    """A ledger entry with the right pid but another start time: an unrelated process now."""
    foreign = subprocess.Popen(["sleep", "60"], start_new_session=True)
    real_start = psutil.Process(foreign.pid).create_time()
    entry_for(foreign.pid, create_time=real_start - 500, starter=dead_starter(), args=["sleep"])

    assert processes.leftovers() == []
    assert processes.end_leftovers(report=None) == []
    with pytest.raises(NotOurs, match=f"pid {foreign.pid} is now another process"):
        processes.stop_group(foreign.pid, create_time=real_start - 500, timeout=1)
    assert foreign.poll() is None  # still running: nothing was sent to it
    assert ledger.entries() == []  # the stale entry was dropped
    foreign.kill()
    foreign.wait()


def test_a_group_not_in_the_ledger_is_never_signalled():
    foreign = subprocess.Popen(["sleep", "60"], start_new_session=True)
    with pytest.raises(NotOurs, match="not in the workbook's ledger"):
        processes.stop_group(foreign.pid, timeout=1)
    assert foreign.poll() is None
    foreign.kill()
    foreign.wait()


TRAPS_SIGTERM = """
import pathlib, signal, sys, time
def on_term(*_):
    pathlib.Path(sys.argv[1]).write_text("got SIGTERM")
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
time.sleep(60)
"""


def test_kill_sends_sigkill_and_no_sigterm_first(tmp_path):
    marker = tmp_path / "marker"
    proc = ManagedProcess(
        "traps-term",
        [sys.executable, "-c", TRAPS_SIGTERM, str(marker)],
        log_path=tmp_path / "traps.log",
    ).start()
    proc.wait_for_log("ready", timeout=10)
    assert proc.kill() == -signal.SIGKILL
    assert not marker.exists()
    assert ledger.entries() == []


def test_stop_sends_sigterm_first(tmp_path):
    marker = tmp_path / "marker"
    proc = ManagedProcess(
        "traps-term",
        [sys.executable, "-c", TRAPS_SIGTERM, str(marker)],
        log_path=tmp_path / "traps.log",
    ).start()
    proc.wait_for_log("ready", timeout=10)
    assert proc.stop() == 0
    assert marker.read_text() == "got SIGTERM"


def test_inherited_api_tokens_are_held_back_unless_given(monkeypatch, capsys):
    monkeypatch.setenv("DAPR_API_TOKEN", "from-the-shell")
    monkeypatch.setenv("APP_API_TOKEN", "also-from-the-shell")
    monkeypatch.setattr(spawning, "_token_note_shown", False)
    env = processes.child_environment({"DAPR_HTTP_PORT": "3500"})
    assert "DAPR_API_TOKEN" not in env
    assert "APP_API_TOKEN" not in env
    assert env["DAPR_HTTP_PORT"] == "3500"
    note = capsys.readouterr().err
    assert note.count("are not passed to the sidecars") == 1
    assert "DAPR_API_TOKEN and APP_API_TOKEN" in note

    explicit = processes.child_environment({"DAPR_API_TOKEN": "asked-for"})
    assert explicit["DAPR_API_TOKEN"] == "asked-for"
    assert "APP_API_TOKEN" not in explicit
    assert capsys.readouterr().err == ""  # said once only


def test_echoed_output_reaches_log_and_echo_and_its_pipe_is_closed(tmp_path):
    echo = io.StringIO()
    command = ["sh", "-c", "echo R2-D2; echo C-3PO"]
    process = ManagedProcess(
        "droids", command, log_path=tmp_path / "droids.log", echo_to=echo, echo_prefix="> "
    ).start()
    assert process.popen.wait(timeout=10) == 0
    process.stop()  # joins the reader: the whole output is copied by then
    assert echo.getvalue() == "> R2-D2\n> C-3PO\n"
    assert process.log_text() == "R2-D2\nC-3PO\n"
    assert process.popen.stdout.closed  # no pipe left for the garbage collector


def test_log_files_are_readable_by_their_owner_only(tmp_path):
    proc = sleeper(tmp_path)
    assert proc.log_path.stat().st_mode & 0o777 == 0o600
    proc.stop()


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGINT, signal.SIGTERM])
def test_on_stop_signals_calls_back_for_each_stop_signal(sig):
    got = []
    previous = processes.on_stop_signals(got.append)
    try:
        os.kill(os.getpid(), sig)
        wait_until(lambda: got, timeout=5, what=f"the handler of {sig.name}")
    finally:
        processes.restore_signals(previous)
    assert got == [sig]
    assert signal.getsignal(sig) == previous[sig]


STARTS_CHILDREN = """
import sys, threading, time
from pathlib import Path
from workbook.runtime.processes import ManagedProcess
log = Path(sys.argv[1])
main = ManagedProcess("from-main", ["sleep", "61"], log_path=log / "main.log").start()
box = []
worker = threading.Thread(target=lambda: box.append(
    ManagedProcess("from-thread", ["sleep", "62"], log_path=log / "thread.log").start()))
worker.start()
worker.join()  # the thread has ended: its child must live on
time.sleep(0.5)
print(main.pid, box[0].pid, box[0].alive(), flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_children_outlive_the_thread_that_started_them_but_not_their_process(tmp_path):
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTS_CHILDREN, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "WORKBOOK_STATE_DIR": str(tmp_path / "state")},
    )
    main_pid, thread_pid, alive_after_thread = starter.stdout.readline().split()
    assert alive_after_thread == "True"
    children = [psutil.Process(int(main_pid)), psutil.Process(int(thread_pid))]
    starter.kill()  # SIGKILL: no atexit, no clean-up of its own
    starter.wait()
    starter.stdout.close()
    start = time.monotonic()
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []
    assert time.monotonic() - start < 5
