"""`workbook lab` / `make lab`: the scheduler plus JupyterLab on loopback, opened at notebook 01.

Ctrl-C (or SIGTERM) stops JupyterLab, which shuts down its kernels; each kernel's exit stops
the sidecars and apps its notebook started; then the scheduler this command started stops.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

from workbook import config
from workbook.runtime.processes import ManagedProcess, free_port, port_in_use
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.waiting import http_status, wait_until

FIRST_NOTEBOOK = "01_schedule_get_delete.ipynb"
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


def lab_command(port: int, token: str, root: Path) -> list[str]:
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
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}",
        f"--LabApp.user_settings_dir={SETTINGS_DIR}",
        f"--LabApp.workspaces_dir={SETTINGS_DIR.parent / 'workspaces'}",
        # The workbook's own notebooks need no news or update checks from the internet.
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *as_root,
    ]


def run_lab(port: int = 8888, root: Path | None = None) -> int:
    if port_in_use(port):
        port = free_port()
    token = secrets.token_hex(16)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    scheduler = Scheduler().start()
    print(
        f"[workbook] scheduler {'reused' if scheduler.reused else 'started'} "
        f"at {scheduler.address}",
        flush=True,
    )
    root = Path(root or config.ROOT / "notebooks").resolve()
    write_settings()
    jupyter = ManagedProcess(
        "jupyterlab",
        lab_command(port, token, root),
        log_path=config.STATE_DIR / "logs" / "jupyterlab.log",
    ).start()
    try:

        def ready():
            if not jupyter.alive():
                raise RuntimeError(f"JupyterLab exited; its log:\n{jupyter.tail()}")
            return stop.is_set() or http_status(f"http://127.0.0.1:{port}/api") == 200

        wait_until(ready, timeout=120, what="JupyterLab to start")
        if stop.is_set():
            return 0
        print(
            f"[workbook] JupyterLab is ready: http://127.0.0.1:{port}/lab/tree/"
            f"{FIRST_NOTEBOOK}?token={token}",
            flush=True,
        )
        print(
            "[workbook] Ctrl-C stops JupyterLab, its kernels and everything they started",
            flush=True,
        )
        while not stop.wait(0.5):
            if not jupyter.alive():
                print(f"[workbook] JupyterLab exited; its log:\n{jupyter.tail()}", flush=True)
                return 1
        return 0
    finally:
        jupyter.stop(timeout=20)  # SIGTERM: the server shuts its kernels down first
        scheduler.stop()
        print(
            "[workbook] JupyterLab stopped" + ("" if scheduler.reused else ", scheduler stopped"),
            flush=True,
        )
