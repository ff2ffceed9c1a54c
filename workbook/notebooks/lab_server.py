"""`workbook lab` / `make lab`: the control plane plus JupyterLab on loopback, at notebook 00.

Start: end what a killed earlier lab left running (processes.end_leftovers), then start or
reuse the scheduler and placement (controlplane.ControlPlane), then JupyterLab. Its token is
in a file only this user may read (JUPYTER_TOKEN_FILE), never on a command line.

Stop: SIGINT (Ctrl-C), SIGTERM or SIGHUP (the terminal closed) stops JupyterLab, which shuts
down its kernels; each kernel's exit stops the sidecars and apps its notebook started; then
the services this command started stop (reused ones keep running). If this process is killed
outright (SIGKILL), its children get a parent-death signal (Linux), and the ledger lets the
next start end whatever is left.

Kernels find the control plane in WORKBOOK_SCHEDULER_ADDRESS / WORKBOOK_PLACEMENT_ADDRESS.
`WORKBOOK_CONTROL_PLANE=isolated` puts both services on free ports (for tests).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import threading
from pathlib import Path

from workbook import config
from workbook.runtime.controlplane import ControlPlane
from workbook.runtime.processes import (
    ManagedProcess,
    end_leftovers,
    free_port,
    on_stop_signals,
    port_in_use,
    restore_signals,
)
from workbook.runtime.waiting import http_status, wait_until

FIRST_NOTEBOOK = "00_start_here.ipynb"
SETTINGS_DIR = config.STATE_DIR / "jupyterlab" / "user-settings"
# Workbook defaults: render every cell (long outputs scroll smoothly, screenshots show them),
# and no news or update checks (the notebooks need no internet).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def write_settings() -> None:
    for relative, values in LAB_SETTINGS.items():
        path = SETTINGS_DIR / relative
        if not path.exists():  # a learner's own changes win
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2))


def lab_command(port: int, root: Path) -> list[str]:
    as_root = ["--allow-root"] if os.geteuid() == 0 else []  # CI machines run as root
    return [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}",
        f"--LabApp.user_settings_dir={SETTINGS_DIR}",
        f"--LabApp.workspaces_dir={SETTINGS_DIR.parent / 'workspaces'}",
        # The workbook's own notebooks need no news or update checks from the internet.
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *as_root,
    ]


def say(line: str) -> None:
    """Print a status line; a closed terminal (SIGHUP) must not stop the clean-up."""
    with contextlib.suppress(OSError, ValueError):
        print(f"[workbook] {line}", flush=True)


def write_token_file(token: str) -> Path:
    path = config.STATE_DIR / "jupyterlab" / "token"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    return path


def control_plane() -> ControlPlane:
    if os.environ.get("WORKBOOK_CONTROL_PLANE") == "isolated":
        return ControlPlane.isolated()
    return ControlPlane()


def run_lab(port: int = 8888, root: Path | None = None) -> int:
    if port_in_use(port):
        port = free_port()
    stop = threading.Event()
    previous = on_stop_signals(lambda signum: stop.set())
    plane: ControlPlane | None = None
    jupyter: ManagedProcess | None = None
    token_file: Path | None = None
    try:
        end_leftovers(report=say)
        plane = control_plane().start()
        for line in plane.describe():
            say(line)
        root = Path(root or config.ROOT / "notebooks").resolve()
        write_settings()
        token = secrets.token_hex(16)
        token_file = write_token_file(token)
        jupyter = ManagedProcess(
            "jupyterlab",
            lab_command(port, root),
            log_path=config.STATE_DIR / "logs" / "jupyterlab.log",
            env={
                "JUPYTER_TOKEN": "",  # one exported in the shell would win over the file
                "JUPYTER_TOKEN_FILE": str(token_file),
                "WORKBOOK_SCHEDULER_ADDRESS": plane.scheduler_address,
                "WORKBOOK_PLACEMENT_ADDRESS": plane.placement_address,
            },
        ).start()

        def ready():
            if not jupyter.alive():
                raise RuntimeError(f"JupyterLab exited; its log:\n{jupyter.tail()}")
            return stop.is_set() or http_status(f"http://127.0.0.1:{port}/api") == 200

        wait_until(ready, timeout=120, what="JupyterLab to start")
        if stop.is_set():
            return 0
        say(f"JupyterLab is ready: http://127.0.0.1:{port}/lab/tree/{FIRST_NOTEBOOK}?token={token}")
        say("Ctrl-C stops JupyterLab, its kernels and everything they started")
        while not stop.wait(0.5):
            if not jupyter.alive():
                say(f"JupyterLab exited; its log:\n{jupyter.tail()}")
                return 1
        return 0
    finally:
        if jupyter:
            jupyter.stop(timeout=20)  # SIGTERM: the server shuts its kernels down first
        if plane:
            plane.stop()
        if token_file:
            token_file.unlink(missing_ok=True)
        stopped = [s.service for s in (plane.services if plane else ()) if not s.reused]
        say("JupyterLab stopped" + "".join(f", {name} stopped" for name in stopped))
        restore_signals(previous)
