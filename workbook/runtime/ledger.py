"""A record, on disk, of every process the workbook started and has not stopped yet.

Each entry names one process by what cannot be faked or reused: its pid AND its start time
(psutil's `create_time`), plus its command line and who started it (that starter's own pid,
start time and command). A process killed with SIGKILL cannot clean up after itself; its
entries stay behind, and the next start finds what it left (`leftovers()` in processes.py).

One JSON file per process under `<STATE_DIR>/processes/`, written atomically, so several
workbook processes (a lab, its kernels, a test run) never overwrite each other's entries.

    entry = record(pid, name="scheduler", args=[...])   # at start
    forget(entry)                                       # at stop
    entries()                                           # every entry still on disk
    running(entry) -> psutil.Process | None             # the live process, identity checked
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import psutil

from workbook import config

# psutil derives start times from the boot time, which moves by up to a second when the clock is
# set; a pid reused by another process started within that second is not a practical risk.
CREATE_TIME_TOLERANCE = 1.0


def ledger_dir() -> Path:
    return config.STATE_DIR / "processes"


@dataclass(frozen=True)
class Starter:
    """The process that started an entry's process."""

    pid: int
    create_time: float
    cmdline: list[str]

    @classmethod
    def this_process(cls) -> Starter:
        me = psutil.Process()
        return cls(os.getpid(), me.create_time(), me.cmdline())


@dataclass(frozen=True)
class Entry:
    pid: int
    create_time: float
    name: str
    args: list[str]
    started_by: Starter
    detached: bool = False  # meant to outlive its starter (`make scheduler`)
    started_at: float = field(default_factory=time.time)
    log_path: str | None = None

    @property
    def command(self) -> str:
        return " ".join(self.args)

    @property
    def file_name(self) -> str:
        return f"{self.pid}-{round(self.create_time * 1000)}.json"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Entry:
        data = json.loads(text)
        data["started_by"] = Starter(**data["started_by"])
        return cls(**data)


def identity(pid: int) -> tuple[float, list[str]] | None:
    """(create_time, cmdline) of a live process; None if it is gone or a zombie."""
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            return process.create_time(), process.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        return psutil.Process(pid).create_time(), []


def same_command(recorded: list[str], actual: list[str]) -> bool:
    """True when `actual` is still the command that was started as `recorded`.

    Equal lists, or the same last argument: some programs re-exec themselves under another
    name (`python -m jupyter lab` becomes `python .../jupyter-lab` with the same options).
    """
    if not recorded or not actual:
        return False
    return actual == recorded or actual[-1] == recorded[-1]


def is_same_process(pid: int, create_time: float, args: list[str] | None = None) -> bool:
    """True only if `pid` is alive, started at `create_time`, and (if given) runs `args`."""
    found = identity(pid)
    if found is None:
        return False
    started, cmdline = found
    if abs(started - create_time) > CREATE_TIME_TOLERANCE:
        return False
    return args is None or same_command(args, cmdline)


def running(entry: Entry) -> psutil.Process | None:
    """The entry's process if it still runs and is really that process (pid reuse refused)."""
    if is_same_process(entry.pid, entry.create_time, entry.args):
        return psutil.Process(entry.pid)
    return None


def starter_alive(entry: Entry) -> bool:
    s = entry.started_by
    return is_same_process(s.pid, s.create_time)


def record(
    pid: int,
    *,
    name: str,
    args: list[str],
    create_time: float | None = None,
    detached: bool = False,
    log_path: Path | None = None,
    directory: Path | None = None,
) -> Entry:
    """Write an entry for a process this process just started."""
    if create_time is None:
        create_time = psutil.Process(pid).create_time()  # a zombie still has one
    entry = Entry(
        pid=pid,
        create_time=create_time,
        name=name,
        args=[str(a) for a in args],
        started_by=Starter.this_process(),
        detached=detached,
        log_path=str(log_path) if log_path else None,
    )
    _write(entry, directory)
    return entry


def mark_detached(entry: Entry, directory: Path | None = None) -> Entry:
    detached = replace(entry, detached=True)
    _write(detached, directory)
    return detached


def forget(entry: Entry, directory: Path | None = None) -> None:
    (Path(directory or ledger_dir()) / entry.file_name).unlink(missing_ok=True)


def entries(directory: Path | None = None) -> list[Entry]:
    """Every entry on disk, oldest first (unreadable files are skipped)."""
    folder = Path(directory or ledger_dir())
    found = []
    for path in sorted(folder.glob("*.json")):
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            found.append(Entry.from_json(path.read_text()))
    return sorted(found, key=lambda e: e.started_at)


def prune(directory: Path | None = None) -> list[Entry]:
    """Drop entries whose process is gone; return the ones still running."""
    alive = []
    for entry in entries(directory):
        if running(entry):
            alive.append(entry)
        else:
            forget(entry, directory)
    return alive


def _write(entry: Entry, directory: Path | None) -> None:
    folder = Path(directory or ledger_dir())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / entry.file_name
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(entry.to_json())
    os.replace(tmp, path)
