"""`workbook run`: a Dapr run template (or one app) the way `dapr run` starts it.

The Dapr CLI's Go module is not served by the package registry this project builds from, so
the workbook brings this stand-in. It follows dapr/cli `cmd/run.go` (executeRun,
startDaprdAndAppProcesses, stopDaprdAndAppProcesses) where the README, notebooks and tests
rely on it:

- apps one after another, in template order; for each, daprd first, then the app (after
  waiting for daprd's HTTP and gRPC ports when the app has no appPort, as the CLI does);
- app output prefixed `== APP - <appID> ==` in template mode, bare in single-app mode;
  daprd's output to `<appDirPath>/.dapr/logs/` (per daprdLogDestination/appLogDestination);
- the run lasts until SIGINT/SIGTERM (and SIGHUP: the terminal closed), even when every app
  has exited; `--exit-with APP_ID` (the workbook's own addition) ends it when that app exits;
- on stop, per app in start order: daprd first, then the app.

What the workbook adds: the control plane (scheduler and placement, reused if running) is
started first and stopped at the end if this run started it; ports are checked before
anything starts; what a killed run left is ended first. Differences: README, "A note on the
Dapr CLI".
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from workbook import config
from workbook.run import preflight
from workbook.run.launch import TemplateSidecar, app_process, chosen_ports, log_paths
from workbook.run.template import AppSpec, RunTemplate
from workbook.runtime import ledger
from workbook.runtime.controlplane import ControlPlane
from workbook.runtime.detect import PortTaken
from workbook.runtime.processes import ManagedProcess, on_stop_signals, restore_signals

DAPRD_PORT_WAIT_S = 60  # runtimeWaitTimeoutInSeconds in cmd/run.go


def say(line: str) -> None:
    """A status line of the runner (never fails: the terminal may be gone)."""
    with contextlib.suppress(OSError, ValueError):
        print(f"[workbook] {line}", flush=True)


class Started:
    """One app of the run: its sidecar and (once started) its process."""

    def __init__(self, app: AppSpec, sidecar: TemplateSidecar):
        self.app = app
        self.sidecar = sidecar
        self.process: ManagedProcess | None = None
        self.exit_reported = False


class MultiAppRun:
    """Control plane, then every app (daprd, then the app); stop() ends all in CLI order."""

    def __init__(self, template: RunTemplate, *, single_app: bool = False):
        self.template = template
        self.single_app = single_app
        self.control_plane: ControlPlane | None = None
        self.started: list[Started] = []

    def start(self) -> None:
        self.control_plane = ControlPlane()
        self.control_plane.start()
        for line in self.control_plane.describe():
            say(line)
        stamp = time.strftime("%Y%m%d%H%M%S")
        for app in self.template.apps:
            self._start_app(app, stamp)

    def _start_app(self, app: AppSpec, stamp: str) -> None:
        say(f"Validating config and starting app {app.app_id!r}")
        ports = chosen_ports(app)
        app_log, daprd_log = log_paths(app, stamp)
        if self.single_app:  # single-app `dapr run`: both outputs on the console, no prefix
            app_log = config.STATE_DIR / "logs" / f"{app.app_id}_app_{stamp}.log"
            daprd_log = config.STATE_DIR / "logs" / f"{app.app_id}_daprd_{stamp}.log"
        daprd_console = self.single_app or app.daprd_log_destination != "file"
        app_console = self.single_app or app.app_log_destination != "file"
        sidecar = TemplateSidecar(
            app,
            ports,
            log_path=daprd_log if app.daprd_log_destination != "console" else Path(os.devnull),
            echo=daprd_console,
            template_mode=not self.single_app,
        )
        entry = Started(app, sidecar)
        self.started.append(entry)
        sidecar.launch()
        if not app.app_port:  # the CLI waits only then: otherwise daprd waits for the app
            self._wait_for_ports(sidecar)
        prefix = "" if self.single_app else f"== APP - {app.app_id} == "
        entry.process = app_process(
            app,
            ports,
            log_path=app_log if app.app_log_destination != "console" else Path(os.devnull),
            echo=app_console,
            prefix=prefix,
        ).start()
        say(
            f"Started Dapr with app id {app.app_id!r}. HTTP Port: {ports['daprHTTPPort']}. "
            f"gRPC Port: {ports['daprGRPCPort']}"
        )
        if not self.single_app:
            say(f"Writing log files to directory : {_shown(app_log.parent)}")

    def _wait_for_ports(self, sidecar: TemplateSidecar) -> None:
        """IsDaprListeningOnPort: a TCP connect, once per interval, up to 60 s per port."""
        for port in (sidecar.http_port, sidecar.grpc_port):
            deadline = time.monotonic() + DAPRD_PORT_WAIT_S
            while not _listening(port):
                if sidecar.process and not sidecar.process.alive():
                    raise preflight.RunRefused(
                        f"daprd for {sidecar.app_id} exited at start; the end of its log "
                        f"({sidecar.log_path}):\n{sidecar.process.tail(8)}"
                    )
                if time.monotonic() > deadline:
                    say(f"Dapr sidecar of {sidecar.app_id} might not be responding")
                    return
                time.sleep(0.05)

    def wait(self, exit_with: str | None, stop: threading.Event) -> int:
        """Until `stop` is set (a signal), or `exit_with` (single-app: the app) has exited."""
        while not stop.wait(0.1):
            for entry in self.started:
                if entry.process and not entry.process.alive() and not entry.exit_reported:
                    entry.exit_reported = True
                    say(_exit_line(entry))
                    if self.single_app or entry.app.app_id == exit_with:
                        return 0 if entry.process.popen.returncode == 0 else 1
        return 0

    def stop(self) -> None:
        """stopDaprdAndAppProcesses, per app in start order: daprd, then the app."""
        for entry in self.started:
            entry.sidecar.stop()
            say(f"Exited Dapr successfully: {entry.app.app_id}")
            if entry.process:
                still_running = entry.process.alive()
                entry.process.stop()
                if still_running or not entry.exit_reported:
                    say(f"Exited App successfully: {entry.app.app_id}")
        if self.control_plane:
            self.control_plane.stop()


def _exit_line(entry: Started) -> str:
    code = entry.process.popen.returncode
    if code == 0:
        return f"Exited App successfully: {entry.app.app_id}"
    status = f"signal {-code}" if code < 0 else f"exit status {code}"
    return f"The App process exited with error code: {status}: {entry.app.app_id}"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _shown(path: Path) -> Path:
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


# --- the run as a whole: signals, its record (for `workbook stop`), preflight ------------------


def run_key(template: RunTemplate, single_app: bool) -> str:
    """`-f .` and `-f dapr.yaml` name the same run: the template file's absolute path."""
    return template.apps[0].app_id if single_app else str(template.path)


def record_path(key: str) -> Path:
    safe = key.strip("/").replace("/", "_") or "root"
    return config.STATE_DIR / "runs" / f"{safe}.json"


def run(template: RunTemplate, *, exit_with: str | None = None, single_app: bool = False) -> int:
    """Run until a stop signal (or `exit_with` exits); then stop everything. The exit code."""
    if exit_with and exit_with not in {a.app_id for a in template.apps}:
        say(f"--exit-with {exit_with}: no app with that appID in {template.path}")
        return 2
    stop = threading.Event()
    previous = on_stop_signals(lambda signum: _on_signal(signum, stop))
    runner = MultiAppRun(template, single_app=single_app)
    record = record_path(run_key(template, single_app))
    code = 1
    try:
        preflight.end_leftovers(say)
        preflight.check_ports(template)
        _write_record(record, template)
        if stop.is_set():
            return 130
        runner.start()
        code = runner.wait(exit_with, stop)
    except (preflight.RunRefused, PortTaken, FileNotFoundError) as error:
        say(f"not started: {error}")
        code = 1
    finally:
        if stop.is_set():
            say("Received signal to stop Dapr and app processes. Shutting down.")
        runner.stop()
        _remove_record(record)
        restore_signals(previous)
        say("everything stopped")
    return code


def _on_signal(signum: int, stop: threading.Event) -> None:
    if signum == signal.SIGHUP:
        # The terminal is gone: further output would fail, so send it nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                os.dup2(devnull, fd)
        os.close(devnull)
    stop.set()


def _write_record(path: Path, template: RunTemplate) -> None:
    me = ledger.Starter.this_process()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"pid": me.pid, "create_time": me.create_time, "template": str(template.path)}
    path.write_text(json.dumps(data))


def _remove_record(path: Path) -> None:
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text())["pid"] == os.getpid():
            path.unlink()


def stop_run(key: str, timeout: float = 60) -> int:
    """End the `workbook run` recorded under `key`, identity checked; or what a killed one left."""
    path = record_path(key)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = None
    if data and ledger.is_same_process(data["pid"], data["create_time"]):
        os.kill(data["pid"], signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while ledger.is_same_process(data["pid"], data["create_time"]):
            if time.monotonic() > deadline:
                print(f"the run (pid {data['pid']}) did not stop in {timeout:g} s", file=sys.stderr)
                return 1
            time.sleep(0.05)
        print(f"stopped the run of {key} (pid {data['pid']})")
        return 0
    path.unlink(missing_ok=True)
    if preflight.end_leftovers(lambda line: print(f"[workbook] {line}")):
        print(f"the run of {key} had been killed: ended what it left running")
        return 0
    print(f"no run of {key} is active", file=sys.stderr)
    return 1
