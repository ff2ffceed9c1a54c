"""Start processes in their own process group, read their logs, and end the whole group.

Every process started here is remembered until it is stopped, so `stop_all()` (and an atexit
hook) can end whatever a test, a notebook or an interrupted run left behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from workbook.runtime.waiting import wait_until

_running: list[ManagedProcess] = []
_lock = threading.Lock()


class ManagedProcess:
    """One command, its own process group, its output in a log file (and optionally echoed).

    `echo_to` gets every output line prefixed with `echo_prefix`, as `dapr run -f` shows apps.
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
    ):
        self.name = name
        self.args = [str(a) for a in args]
        self.log_path = Path(log_path)
        self.env = env
        self.cwd = cwd
        self.echo_prefix = echo_prefix
        self.echo_to = echo_to
        self.popen: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab", buffering=0)  # noqa: SIM115 - closed by the reader/stop
        echo = self.echo_to is not None or self.echo_prefix is not None
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(self.env or {})}
        self.popen = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if echo else log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we can end it and its children
        )
        if echo:
            self._reader = threading.Thread(target=self._copy_output, args=(log,), daemon=True)
            self._reader.start()
        else:
            log.close()
        with _lock:
            _running.append(self)
        return self

    def _copy_output(self, log) -> None:
        out = self.echo_to or sys.stdout
        prefix = self.echo_prefix or ""
        assert self.popen and self.popen.stdout
        for raw in self.popen.stdout:
            log.write(raw)
            out.write(prefix + raw.decode(errors="replace"))
            out.flush()
        log.close()

    @property
    def pid(self) -> int:
        assert self.popen, f"{self.name} was not started"
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
        if self._reader:
            self._reader.join(timeout=5)
        with _lock:
            if self in _running:
                _running.remove(self)
        return self.popen.returncode

    def detach(self) -> None:
        """Leave it running after this Python process exits (stop_all no longer ends it)."""
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


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, process group) of a process from /proc, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[2])


def pid_alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting to be reaped counts as gone)."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def group_alive(pgid: int) -> bool:
    """True while any process of the group runs (zombies count as gone)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    pids = (int(p) for p in os.listdir("/proc") if p.isdigit())
    return any((stat := _stat(pid)) and stat[1] == pgid and stat[0] != "Z" for pid in pids)


def stop_group(pgid: int, *, timeout: float = 10.0, process: subprocess.Popen | None = None):
    """End a process group: SIGTERM, wait up to `timeout` s, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if process is not None:
                process.poll()  # reap the leader so it does not linger as a zombie
            if not group_alive(pgid):
                return
            time.sleep(0.05)
    if process is not None:
        process.wait(timeout=5)


def stop_all() -> None:
    """Stop every process this Python process started and has not stopped yet (newest first)."""
    with _lock:
        pending = list(reversed(_running))
    for proc in pending:
        proc.stop()


atexit.register(stop_all)


def free_port(start: int = 20000, end: int = 32000) -> int:
    """A free TCP port on loopback below the ephemeral range (so no outgoing socket takes it)."""
    # Spread the search start so parallel callers rarely collide.
    offset = (os.getpid() * 7919 + time.monotonic_ns()) % (end - start)
    for i in range(end - start):
        port = start + (offset + i) % (end - start)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {start} and {end}")


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0
