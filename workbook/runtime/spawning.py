"""How the workbook forks a child: no inherited API tokens, and a parent-death signal.

- `child_environment(explicit)`: this process's environment without `DAPR_API_TOKEN` /
  `APP_API_TOKEN` (unless given in `explicit`); the first time one is held back, a line says so.
- `spawn(args, parent_death_signal=True, **popen_options)`: subprocess.Popen; on Linux the
  child gets PR_SET_PDEATHSIG (SIGTERM), so it is told to stop when this process dies, even by
  SIGKILL. Linux sends that signal when the forking *thread* ends, so children are forked from
  the main thread or from one daemon thread that lives as long as the process.
  `WORKBOOK_NO_PARENT_DEATH_SIGNAL=1` turns it off (to test the ledger fallback).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

TOKEN_VARIABLES = ("DAPR_API_TOKEN", "APP_API_TOKEN")

_lock = threading.Lock()
_token_note_shown = False


def child_environment(explicit: dict[str, str] | None) -> dict[str, str]:
    """This process's environment without inherited API tokens, plus `explicit` on top."""
    global _token_note_shown
    explicit = explicit or {}
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    held_back = [name for name in TOKEN_VARIABLES if name in env and name not in explicit]
    for name in held_back:
        del env[name]
    if held_back and not _token_note_shown:
        _token_note_shown = True
        print(
            f"[workbook] {' and '.join(held_back)} from your environment "
            f"{'is' if len(held_back) == 1 else 'are'} not passed to the sidecars and apps the "
            "workbook starts (give api_token=/app_api_token= to use one)",
            file=sys.stderr,
            flush=True,
        )
    return {**env, **explicit}


# --- starting: a parent-death signal, forked from a thread that lives as long as we do -------

_libc = None
PR_SET_PDEATHSIG = 1


def _load_prctl():
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def parent_death_signal_supported() -> bool:
    return os.environ.get("WORKBOOK_NO_PARENT_DEATH_SIGNAL") != "1" and _load_prctl() is not None


def _die_with(parent_pid: int) -> Callable[[], None]:
    libc = _libc
    sigterm = int(signal.SIGTERM)

    def in_child() -> None:  # runs in the child between fork and exec: no imports, no locks
        libc.prctl(PR_SET_PDEATHSIG, sigterm)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return in_child


class _Spawner(threading.Thread):
    """One daemon thread that forks for every other thread (it ends only with the process)."""

    def __init__(self):
        super().__init__(name="workbook-spawner", daemon=True)
        self.requests: queue.Queue = queue.Queue()

    def run(self) -> None:
        while True:
            kwargs, done = self.requests.get()
            try:
                done.put((subprocess.Popen(**kwargs), None))
            except BaseException as error:  # handed back to the caller's thread
                done.put((None, error))


_spawner: _Spawner | None = None


def spawn(args: list[str], *, parent_death_signal: bool = True, **popen_options):
    """subprocess.Popen, with the parent-death signal where the platform has one."""
    global _spawner
    if not (parent_death_signal and parent_death_signal_supported()):
        return subprocess.Popen(args, **popen_options)
    popen_options["preexec_fn"] = _die_with(os.getpid())
    if threading.current_thread() is threading.main_thread():
        return subprocess.Popen(args, **popen_options)
    with _lock:
        if _spawner is None:
            _spawner = _Spawner()
            _spawner.start()
    done: queue.Queue = queue.Queue(maxsize=1)
    _spawner.requests.put(({"args": args, **popen_options}, done))
    popen, error = done.get()
    if error:
        raise error
    return popen
