"""Start processes in their own process group, read their logs, and end the whole group.

Nothing the workbook starts is left behind, and nothing it did not start is ever signalled:

- Every process started through `ManagedProcess` is remembered in memory (`stop_all()` and an
  atexit hook end it) and in the ledger on disk (workbook/runtime/ledger.py: pid, start time,
  command line, who started it). `stop()` removes the entry.
- On Linux each child gets a parent-death signal (prctl PR_SET_PDEATHSIG, SIGTERM): if the
  Python process that started it dies, even by SIGKILL (a notebook kernel that crashed), the
  child is told to stop. Children are forked from the main thread or from one long-lived
  thread, because Linux sends that signal when the forking *thread* ends.
  `WORKBOOK_NO_PARENT_DEATH_SIGNAL=1` turns this off (to test the portable path below).
- Elsewhere (macOS), or when the signal was turned off, the ledger is the fallback: the next
  start calls `end_leftovers()`, which ends what a killed predecessor left, or lists them with
  `leftovers()`.
- Before any signal, the target's identity is checked with psutil: the pid must still be the
  process that was started (same create_time and command), never a reused pid.
- `on_stop_signals(callback)` installs one handler for SIGHUP, SIGINT and SIGTERM.
- A `DAPR_API_TOKEN` or `APP_API_TOKEN` in this process's environment is never passed on to a
  child unless the caller puts it in `env=` itself (a token in the learner's shell must not turn
  on auth in the sidecars the workbook starts); the first time one is held back, a line says so.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

import psutil

from workbook.runtime import ledger
from workbook.runtime.ports import (  # noqa: F401 - re-exported: callers import them from here
    describe_port_holder,
    free_port,
    port_holder,
    port_in_use,
)
from workbook.runtime.spawning import TOKEN_VARIABLES, child_environment, spawn  # noqa: F401
from workbook.runtime.waiting import wait_until

STOP_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)

_running: list[ManagedProcess] = []
_lock = threading.Lock()


class ManagedProcess:
    """One command, its own process group, its output in a log file (and optionally echoed).

    `echo_to` gets every output line prefixed with `echo_prefix`, as `dapr run -f` shows apps.
    `outlive_parent=True` is for background services (`make scheduler`): no parent-death
    signal, and the ledger marks it detached (stop it with its owner's stop command).
    """

    def __init__(
        self,
        name: str,
        args: Sequence[str | os.PathLike],
        *,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        echo_prefix: str | None = None,
        echo_to: TextIO | None = None,
        outlive_parent: bool = False,
    ):
        self.name = name
        self.args = [str(a) for a in args]
        self.log_path = Path(log_path)
        self.env = env
        self.cwd = cwd
        self.echo_prefix = echo_prefix
        self.echo_to = echo_to
        self.outlive_parent = outlive_parent
        self.popen: subprocess.Popen | None = None
        self.entry: ledger.Entry | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # Logs may hold tokens (JupyterLab prints its URL): readable by this user only.
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        log = os.fdopen(fd, "ab", buffering=0)
        echo = self.echo_to is not None or self.echo_prefix is not None
        try:
            self.popen = spawn(
                self.args,
                cwd=self.cwd,
                env=child_environment(self.env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if echo else log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: we can end it and its children
                parent_death_signal=not self.outlive_parent,
            )
        except BaseException:
            log.close()
            raise
        self.entry = ledger.record(
            self.popen.pid,
            name=self.name,
            args=self.args,
            detached=self.outlive_parent,
            log_path=self.log_path,
        )
        if echo:
            self._reader = threading.Thread(
                target=self._copy_output, args=(self.popen.stdout, log), daemon=True
            )
            self._reader.start()
        else:
            log.close()
        with _lock:
            _running.append(self)
        return self

    def _copy_output(self, stream: BinaryIO, log: BinaryIO) -> None:
        """Copy the child's output pipe to its log and the echo until the pipe closes, then
        close both ends we hold (the pipe too: its reader is the only one left)."""
        out = self.echo_to or sys.stdout
        prefix = self.echo_prefix or ""
        try:
            for raw in stream:
                log.write(raw)
                out.write(prefix + raw.decode(errors="replace"))
                out.flush()
        finally:
            stream.close()
            log.close()

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError(f"{self.name} was not started")
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern: str, *, timeout: float, after: int = 0) -> re.Match:
        """Wait until the log (from character `after` on) matches the regular expression."""
        regex = re.compile(pattern)

        def found():
            if not self.alive() and not regex.search(self.log_text(), after):
                raise RuntimeError(
                    f"{self.name} exited ({self.popen.returncode}) before "
                    f"logging /{pattern}/; its log:\n{self.tail()}"
                )
            return regex.search(self.log_text(), after)

        return wait_until(found, timeout=timeout, what=f"{self.name} to log /{pattern}/")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the process group, then SIGKILL what is left after `timeout` seconds."""
        if self.popen is None:
            return None
        stop_group(self.popen.pid, timeout=timeout, process=self.popen)
        self._finish()
        return self.popen.returncode

    def kill(self) -> int | None:
        """SIGKILL the process group and nothing before it: a crash, not a shutdown."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:  # not reaped yet, so the pid is certainly still ours
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        stop_group(self.popen.pid, timeout=0, process=self.popen)  # SIGKILL any straggler
        self._finish()
        return self.popen.returncode

    def _finish(self) -> None:
        if self._reader:
            self._reader.join(timeout=5)
        if self.entry:
            ledger.forget(self.entry)
        with _lock:
            if self in _running:
                _running.remove(self)

    def detach(self) -> None:
        """Leave it running after this Python process exits (stop_all no longer ends it).

        Start it with `outlive_parent=True`, or the parent-death signal still ends it."""
        if self.entry and not self.entry.detached:
            self.entry = ledger.mark_detached(self.entry)
        with _lock:
            if self in _running:
                _running.remove(self)

    def __enter__(self) -> ManagedProcess:
        return self.start() if self.popen is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.alive() else "stopped"
        return f"<{self.name} pid={self.popen.pid if self.popen else None} {state}>"


# --- liveness and stopping, with every target's identity checked --------------------------


def pid_alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting to be reaped counts as gone)."""
    return ledger.identity(pid) is not None


def group_members(pgid: int) -> list[psutil.Process]:
    """Live (non-zombie) processes of process group `pgid`."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return []
    except PermissionError:
        pass
    members = []
    for process in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, OSError):
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == pgid:
                members.append(process)
    return members


def group_alive(pgid: int) -> bool:
    """True while any process of the group runs (zombies count as gone)."""
    return bool(group_members(pgid))


class NotOurs(RuntimeError):
    """A pid or group that is not (or no longer) the process the workbook started."""


def _check_group(pgid: int, create_time: float | None, process: subprocess.Popen | None) -> bool:
    """True if signalling group `pgid` reaches only what we started; False if it is empty.

    Raises NotOurs when its leader is a different process than the one recorded."""
    if process is not None and process.poll() is None:
        return True  # our unreaped child: its pid cannot have been reused
    members = group_members(pgid)
    if not members:
        return False
    leader = next((m for m in members if m.pid == pgid), None)
    if leader is None:
        return True  # the leader exited; the kernel keeps its number while members remain
    if create_time is None:
        entry = next((e for e in ledger.entries() if e.pid == pgid), None)
        if entry is None:
            raise NotOurs(f"pid {pgid} is not in the workbook's ledger: not signalling it")
        create_time = entry.create_time
    if not ledger.is_same_process(pgid, create_time):
        raise NotOurs(f"pid {pgid} is now another process: not signalling it")
    return True


def stop_group(
    pgid: int,
    *,
    timeout: float = 10.0,
    process: subprocess.Popen | None = None,
    create_time: float | None = None,
) -> None:
    """End a process group: SIGTERM, wait up to `timeout` s, then SIGKILL (`timeout=0`:
    SIGKILL at once).

    Its leader's identity is checked before each signal: `process` (our own Popen), or
    `create_time`, or else the ledger's entry for `pgid`. Raises NotOurs for anything else."""
    steps = [(signal.SIGKILL, 5.0)]
    if timeout > 0:
        steps.insert(0, (signal.SIGTERM, timeout))
    for sig, wait in steps:
        if not _check_group(pgid, create_time, process):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        if _wait_group_gone(pgid, wait, process):
            break
    if process is not None:
        process.wait(timeout=5)


def _wait_group_gone(pgid: int, wait: float, process: subprocess.Popen | None) -> bool:
    deadline = time.monotonic() + wait
    while True:
        if process is not None:
            process.poll()  # reap the leader so it does not linger as a zombie
        if not group_alive(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def stop_entry(entry: ledger.Entry, timeout: float = 10.0) -> bool:
    """Stop a ledger entry's process group if it is still that very process. True if it was."""
    if ledger.running(entry) is None:
        ledger.forget(entry)
        return False
    stop_group(entry.pid, timeout=timeout, create_time=entry.create_time)
    ledger.forget(entry)
    return True


def stop_all() -> None:
    """Stop every process this Python process started and has not stopped yet (newest first)."""
    with _lock:
        pending = list(reversed(_running))
    for proc in pending:
        proc.stop()


atexit.register(stop_all)


def leftovers() -> list[ledger.Entry]:
    """Processes the workbook started whose starter is gone (killed) but which still run.

    Each is verified: same pid AND same start time AND same command as recorded. Detached
    services (`make scheduler`) are not leftovers: `make stop` ends them."""
    return [
        entry for entry in ledger.prune() if not entry.detached and not ledger.starter_alive(entry)
    ]


def end_leftovers(report: Callable[[str], None] | None = print) -> list[ledger.Entry]:
    """End every leftover (SIGTERM, then SIGKILL), saying what each was. Returns them."""
    found = leftovers()
    for entry in reversed(found):  # newest first: apps and sidecars before the scheduler
        if report:
            report(
                f"[workbook] ending {entry.name} (pid {entry.pid}), left running by "
                f"pid {entry.started_by.pid} which was killed: {entry.command[:120]}"
            )
        with contextlib.suppress(NotOurs):
            stop_entry(entry, timeout=10)
    return found


def leftovers_command(found: list[ledger.Entry]) -> str:
    """The exact shell command that ends these entries (for a refusal message)."""
    return "kill -TERM " + " ".join(f"-{entry.pid}" for entry in found)


def on_stop_signals(callback: Callable[[int], None]) -> dict[int, object]:
    """Call `callback(signum)` on SIGHUP, SIGINT and SIGTERM (main thread only).

    Returns the previous handlers, for `restore_signals()`."""
    previous = {}
    for sig in STOP_SIGNALS:
        previous[sig] = signal.signal(sig, lambda signum, _frame: callback(signum))
    return previous


def restore_signals(previous: dict[int, object]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
