"""Before a run starts anything: end what a killed run left, then check every port is free.

A `workbook run` killed with SIGKILL cannot stop what it started. On Linux its children get a
parent-death signal; elsewhere (or if one ignores it) the process ledger
(workbook/runtime/ledger.py) still holds each of them by pid AND start time, so the next run
ends exactly them, identity checked (processes.end_leftovers), and says so. A port held by
anything else is refused with the holder's pid and command and the command that frees it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import psutil

from workbook import config
from workbook.run.template import RunTemplate, TemplateError, template_path
from workbook.runtime import ledger, processes
from workbook.runtime.ports import describe_port_holder, port_holder


class RunRefused(RuntimeError):
    """The run cannot start; the message is one line that says what to do."""


def port_taken(port: int) -> bool:
    """True if the port cannot be bound on loopback or someone listens on it anywhere."""
    import socket

    with socket.socket() as sock:
        # As servers do (uvicorn, Go): connections of an earlier run in TIME_WAIT do not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return port_holder(port) is not None


def stop_command_of(starter: ledger.Starter) -> str:
    """The command that stops the workbook process `starter` (a run, or anything else)."""
    argv = starter.cmdline
    if "run" in argv or "quickstart" in argv:
        for flag in ("-f", "--run-file"):
            if flag in argv[:-1]:
                given = Path(argv[argv.index(flag) + 1])
                with contextlib.suppress(psutil.Error, OSError, ValueError):
                    given = Path(psutil.Process(starter.pid).cwd()) / given
                with contextlib.suppress(TemplateError):
                    return f"workbook stop -f {template_path(given)}"
        for flag in ("-a", "--app-id"):
            if flag in argv[:-1]:
                return f"workbook stop --app-id {argv[argv.index(flag) + 1]}"
        if "quickstart" in argv:
            return f"workbook stop -f {config.ROOT / 'dapr.yaml'}"
    return f"kill {starter.pid}"


def how_to_free(port: int) -> str:
    """Who holds the port, and the exact command that frees it."""
    holder = port_holder(port)
    if holder is None:
        return f"held by {describe_port_holder(port)}: find it with `ss -ltnp` or `lsof -i :{port}`"
    live = {entry.pid: entry for entry in ledger.prune()}
    entry = live.get(holder.pid)
    if entry and ledger.starter_alive(entry):
        return (
            f"held by {entry.name} (pid {holder.pid}) of a workbook process that is still "
            f"running (pid {entry.started_by.pid}): stop it with "
            f"`{stop_command_of(entry.started_by)}`"
        )
    if entry:  # a leftover that would not end: give the exact command
        return f"held by {entry.name} (pid {holder.pid}), left by a killed run: end it with " + (
            f"`{processes.leftovers_command([entry])}`"
        )
    return f"held by {describe_port_holder(port)}: end it with `kill {holder.pid}`"


def check_ports(template: RunTemplate) -> None:
    """Every fixed port of the template free, or RunRefused naming the first one that is not."""
    for app in template.apps:
        for name, port in app.ports().items():
            if port_taken(port):
                how = " ".join(how_to_free(port).split())  # one line
                raise RunRefused(f"port {port} ({app.app_id}.{name} in {template.path}) is {how}")


def end_leftovers(say) -> int:
    """End (identity checked) what killed workbook runs left; return how many."""
    found = processes.end_leftovers(report=None)
    for entry in found:
        say(f"ended {entry.name} (pid {entry.pid}), left running by a killed workbook run")
    return len(found)
