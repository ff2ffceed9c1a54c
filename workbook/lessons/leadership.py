"""What a scheduler's own log says about its leadership lease, and how a process ended (nb 07).

The scheduler's job engine (go-etcd-cron) claims an etcd key, `dapr/leadership/<scheduler id>`,
bound to a lease with a 20 s time-to-live, before it fires anything. It logs
"attempting to get initial leadership" when it tries and "fetched initial leadership" once the
key is its own. A scheduler that stops cleanly revokes its lease (the key goes with it); one
that is SIGKILLed cannot, so its successor waits until the old lease expires.
"""

from __future__ import annotations

import json
import signal
from datetime import datetime
from pathlib import Path

ATTEMPT = "attempting to get initial leadership"
FETCHED = "fetched initial leadership"
SHUTDOWN = "beginning shutdown"


def json_log_entries(log_path: Path) -> list[tuple[float, dict]]:
    """(time, entry) of a scheduler's JSON log lines (etcd and the job engine log JSON)."""
    entries = []
    for line in Path(log_path).read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
            when = datetime.fromisoformat(entry["ts"].replace("Z", "+00:00")).timestamp()
        except (ValueError, KeyError, TypeError):
            continue
        entries.append((when, entry))
    return entries


def _events(log_path: Path) -> list[tuple[float, str]]:
    """(time, message) of the scheduler's JSON log lines."""
    return [(when, str(entry.get("msg", ""))) for when, entry in json_log_entries(log_path)]


def leadership_times(log_path: Path, after: float) -> tuple[float | None, float | None]:
    """When the scheduler started after `after` tried to claim leadership, and when it got it."""
    attempt = fetched = None
    for when, message in _events(log_path):
        if when < after:
            continue
        if message.startswith(ATTEMPT) and attempt is None:
            attempt = when
        elif message.startswith(FETCHED) and attempt is not None and fetched is None:
            fetched = when
    return attempt, fetched


def logged_shutdown(log_path: Path, after_line: int = 0) -> bool:
    """Whether the scheduler logged a clean shutdown ("Received signal ...; beginning shutdown")
    in its log after line `after_line`."""
    lines = Path(log_path).read_text(errors="replace").splitlines()[after_line:]
    return any(SHUTDOWN in line for line in lines)


def log_length(log_path: Path) -> int:
    """How many lines the log has now (to look only at what comes after)."""
    path = Path(log_path)
    return len(path.read_text(errors="replace").splitlines()) if path.exists() else 0


def how_it_ended(returncode: int | None) -> str:
    """'killed by SIGKILL', 'exited with code 0', ... for a Popen return code."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"
