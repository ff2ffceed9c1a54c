"""The real Dapr CLI, wherever it is installed: find it, and tell the quickstart with it.

`make run` calls `workbook quickstart`, which uses the CLI when `dapr --version` prints
"CLI version: 1.18.x" (dapr/cli `cmd/version.go`), and the stand-in `workbook run` otherwise.

With the CLI, `dapr run -f .` starts each app's daprd with `--placement-host-address
localhost:50005 --scheduler-host-address localhost:50006` and starts neither service itself
(`pkg/standalone/run.go`; `dapr init --slim` runs none), so the control plane
(workbook/runtime/controlplane.py) is started or reused first. The CLI keeps running after its
apps exit (`cmd/run.go` executeRun waits for a signal), so the run is ended here once
job-scheduler's process is gone (its pid is read from its sidecar's metadata, where the CLI
puts `appPID`), with `dapr stop -f .`, the CLI's own way.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import psutil

from workbook import config
from workbook.run import preflight
from workbook.run.multiapp import say
from workbook.run.template import RunTemplate
from workbook.runtime.controlplane import ControlPlane
from workbook.runtime.detect import PortTaken
from workbook.runtime.processes import ManagedProcess, on_stop_signals, restore_signals
from workbook.runtime.waiting import WaitTimeout, wait_until

SUPPORTED = "1.18."
VERSION_LINE = re.compile(r"CLI version:\s*(\S+)")
APP_FAILED = "The App process exited with error code"


def cli_version(dapr: str | None = None) -> str | None:
    """The version `dapr --version` reports, or None when there is no working `dapr`."""
    dapr = dapr or shutil.which("dapr")
    if not dapr:
        return None
    try:
        out = subprocess.run(
            [dapr, "--version"], capture_output=True, text=True, timeout=15, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = VERSION_LINE.search(out)
    return found.group(1) if found else None


def supported_cli() -> str | None:
    """Path of a Dapr CLI 1.18.x on PATH, or None."""
    dapr = shutil.which("dapr")
    version = cli_version(dapr) if dapr else None
    return dapr if version and version.startswith(SUPPORTED) else None


def app_pid(http_port: int) -> int | None:
    """The app pid the CLI stored in its sidecar's metadata (putAppProcessIDInMeta)."""
    try:
        extended = httpx.get(f"http://127.0.0.1:{http_port}/v1.0/metadata", timeout=1).json()
        return int(extended.get("extended", {}).get("appPID") or 0) or None
    except (httpx.HTTPError, ValueError, TypeError):
        return None


class CliRun:
    """`dapr run -f TEMPLATE` as a child, its output echoed as it comes."""

    def __init__(self, dapr: str, template: RunTemplate):
        self.dapr = dapr
        self.template = template
        stamp = time.strftime("%Y%m%d%H%M%S")
        self.process = ManagedProcess(
            "dapr run",
            [dapr, "run", "-f", str(template.path)],
            cwd=template.path.parent,
            log_path=config.STATE_DIR / "logs" / f"dapr-run_{stamp}.log",
            echo_prefix="",
        )

    def output(self) -> str:
        return self.process.log_text()

    def wait_for_app_exit(self, app_id: str, stop: threading.Event, timeout: float) -> bool:
        """Until `app_id`'s process is gone (True) or a stop signal / the CLI ending (False)."""
        app = next(a for a in self.template.apps if a.app_id == app_id)
        deadline = time.monotonic() + timeout
        pid = None
        while not stop.wait(0.1):
            if not self.process.alive() or time.monotonic() > deadline:
                return False
            if pid is None:
                pid = app_pid(app.http_port) if app.http_port else None
                continue
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    return True
            except psutil.NoSuchProcess:
                return True
        return False

    def stop(self) -> None:
        """`dapr stop -f TEMPLATE` (SIGTERM to the CLI's process group), then wait for the CLI."""
        if self.process.alive():
            subprocess.run(
                [self.dapr, "stop", "-f", str(self.template.path)],
                cwd=self.template.path.parent,
                check=False,
                timeout=60,
            )
            try:
                wait_until(lambda: not self.process.alive(), timeout=30, what="`dapr run` to end")
            except WaitTimeout:
                say("`dapr run` did not end after `dapr stop`: stopping it")
        self.process.stop(timeout=10)


def quickstart_with_cli(
    dapr: str, template: RunTemplate, exit_with: str = "job-scheduler", timeout: float = 300
) -> int:
    """The storyline under the real CLI; 0 when `exit_with` ended well and all is stopped."""
    stop = threading.Event()
    previous = on_stop_signals(lambda _signum: stop.set())
    plane = ControlPlane()
    cli = CliRun(dapr, template)
    ok = False
    try:
        preflight.end_leftovers(say)
        preflight.check_ports(template)
        plane.start()
        for line in plane.describe():
            say(line)
        say(f"dapr run -f {template.path.parent} (the Dapr CLI at {dapr})")
        cli.process.start()
        done = cli.wait_for_app_exit(exit_with, stop, timeout)
        ok = done and APP_FAILED not in cli.output()
        if done:
            say(f"{exit_with} is done: dapr stop -f {template.path.parent}")
    except (preflight.RunRefused, PortTaken, FileNotFoundError) as error:
        say(f"not started: {error}")
    finally:
        cli.stop()
        _wait_ports_free(template)
        plane.stop()
        restore_signals(previous)
        say("everything stopped")
    return 0 if ok else 1


def _wait_ports_free(template: RunTemplate) -> None:
    ports = [port for app in template.apps for port in app.ports().values()]
    try:
        wait_until(
            lambda: not any(preflight.port_taken(p) for p in ports),
            timeout=15,
            what="the apps' ports to be free",
        )
    except WaitTimeout as error:
        say(str(error))


def quickstart(root: Path = config.ROOT, *, stand_in: bool = False) -> int:
    """`make run`: the real CLI if a 1.18 one is on PATH, else `workbook run -f .`."""
    from workbook.run import multiapp
    from workbook.run.template import TemplateError, load_template

    try:
        template = load_template(root)
    except TemplateError as error:
        say(str(error))
        return 1
    dapr = None if stand_in else supported_cli()
    if dapr:
        say(f"the Dapr CLI {cli_version(dapr)} is on PATH: the quickstart runs under it")
        return quickstart_with_cli(dapr, template)
    say("no Dapr CLI 1.18 on PATH: workbook run -f . --exit-with job-scheduler (the stand-in)")
    return multiapp.run(template, exit_with="job-scheduler")
