"""Run a Dapr multi-app run template (dapr.yaml) the way `dapr run -f .` does.

The Dapr CLI module is not served by the package registry this project builds from, so the
workbook reads the same template and starts each app with its own daprd. App output is shown
prefixed `== APP - <appID> ==`; daprd and app logs go to `<appDirPath>/.dapr/logs/`.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from workbook import config
from workbook.runtime.processes import ManagedProcess, pid_alive, stop_group
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar


@dataclass
class AppSpec:
    app_id: str
    app_dir: Path
    command: list[str]
    app_port: int | None = None
    http_port: int | None = None
    grpc_port: int | None = None
    app_protocol: str = "http"
    env: dict[str, str] = field(default_factory=dict)


def load_template(path: Path) -> list[AppSpec]:
    """The apps of a multi-app run template (a file, or a folder holding dapr.yaml)."""
    path = Path(path)
    if path.is_dir():
        path = path / "dapr.yaml"
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict) or doc.get("version") != 1 or not doc.get("apps"):
        raise ValueError(f"{path}: expected a version 1 template with a list of apps")
    common = doc.get("common") or {}
    apps = []
    for entry in doc["apps"]:
        merged = {**common, **entry, "env": {**common.get("env", {}), **entry.get("env", {})}}
        command = merged.get("command")
        if not command or "appID" not in merged:
            raise ValueError(f"{path}: every app needs appID and command")
        apps.append(
            AppSpec(
                app_id=merged["appID"],
                app_dir=(path.parent / merged.get("appDirPath", ".")).resolve(),
                command=shlex.split(command) if isinstance(command, str) else list(command),
                app_port=merged.get("appPort"),
                http_port=merged.get("daprHTTPPort"),
                grpc_port=merged.get("daprGRPCPort"),
                app_protocol=merged.get("appProtocol", "http"),
                env={k: str(v) for k, v in merged["env"].items()},
            )
        )
    return apps


class MultiAppRun:
    """Scheduler (reused if one is healthy), then every app with its sidecar; stop() ends all."""

    def __init__(self, apps: list[AppSpec], *, scheduler: Scheduler | None = None):
        self.apps = apps
        self.scheduler = scheduler or Scheduler()
        self.sidecars: list[Sidecar] = []
        self.processes: dict[str, ManagedProcess] = {}

    def start(self) -> None:
        self.scheduler.start()
        note = "reused the running" if self.scheduler.reused else "started the"
        say(f"{note} scheduler at {self.scheduler.address}")
        stamp = time.strftime("%Y%m%d%H%M%S")
        for app in self.apps:
            logs = app.app_dir / ".dapr" / "logs"
            sidecar = Sidecar(
                app.app_id,
                scheduler_address=self.scheduler.address,
                app_port=app.app_port,
                http_port=app.http_port,
                grpc_port=app.grpc_port,
                app_protocol=app.app_protocol,
                log_path=logs / f"{app.app_id}_daprd_{stamp}.log",
            )
            self.sidecars.append(sidecar)
            shown = logs.relative_to(Path.cwd()) if logs.is_relative_to(Path.cwd()) else logs
            say(f"starting {app.app_id} (sidecar HTTP port {sidecar.http_port}); logs in {shown}")
            self.processes[app.app_id] = ManagedProcess(
                app.app_id,
                app.command,
                cwd=app.app_dir,
                log_path=logs / f"{app.app_id}_app_{stamp}.log",
                env={**app.env, **sidecar.app_env()},
                echo_prefix=f"== APP - {app.app_id} == ",
            ).start()
            sidecar.launch()
        for sidecar in self.sidecars:
            sidecar.wait_ready(timeout=60)
        say("all sidecars are healthy")

    def wait(self, exit_with: str | None, stop: threading.Event) -> int:
        """Until `exit_with` exits (its code is returned), every app exits, or `stop` is set."""
        while not stop.wait(0.1):
            if exit_with and not self.processes[exit_with].alive():
                return self.processes[exit_with].popen.returncode
            if not any(p.alive() for p in self.processes.values()):
                return 0
        return 0

    def stop(self) -> None:
        for app_id, process in self.processes.items():
            process.stop()
            say(f"stopped {app_id}")
        for sidecar in self.sidecars:
            sidecar.stop()
        self.scheduler.stop()


def say(line: str) -> None:
    print(f"[workbook] {line}", flush=True)


def pid_file(key: str) -> Path:
    """Where a run notes its pid: keyed by the template's path or by the single app's id."""
    safe = key.strip("/").replace("/", "_")
    return config.STATE_DIR / "runs" / f"{safe}.pid"


def run(apps: list[AppSpec], key: str, exit_with: str | None = None) -> int:
    """Run the apps until `exit_with` exits, all exit, or SIGINT/SIGTERM; then stop all."""
    if exit_with and exit_with not in {a.app_id for a in apps}:
        raise SystemExit(f"--exit-with {exit_with}: no app with that appID")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    pidf = pid_file(key)
    pidf.parent.mkdir(parents=True, exist_ok=True)
    pidf.write_text(str(os.getpid()))
    runner = MultiAppRun(apps)
    code = 1
    try:
        runner.start()
        code = runner.wait(exit_with, stop)
    finally:
        runner.stop()
        pidf.unlink(missing_ok=True)
        say("everything stopped")
    return code


def stop_run(key: str, timeout: float = 30) -> bool:
    """End the `workbook run` noted under `key` (it tears down its apps itself)."""
    pidf = pid_file(key)
    try:
        pid = int(pidf.read_text())
    except (FileNotFoundError, ValueError):
        print(f"no run of {key} is active", file=sys.stderr)
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pidf.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.05)
    if pid_alive(pid):
        stop_group(os.getpgid(pid), timeout=1)
    return True
