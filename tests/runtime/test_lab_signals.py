"""`workbook lab` stopped by SIGHUP (a closed terminal), SIGINT (Ctrl-C) or SIGTERM, or killed
outright (SIGKILL): nothing it started keeps running (JupyterLab, a kernel, the scheduler,
placement), its ports are free, and after a SIGKILL on a platform without a parent-death
signal the next `workbook lab` finds the leftovers and ends them.

Each lab gets its own state folder (so its own ledger) and a control plane on free ports
(WORKBOOK_CONTROL_PLANE=isolated): the default ports stay free for the quickstart's tests.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from workbook import config
from workbook.runtime import processes
from workbook.runtime.waiting import wait_until

WORKBOOK = Path(sys.executable).parent / "workbook"
READY = re.compile(r"JupyterLab is ready: http://127\.0\.0\.1:(\d+)/lab/tree/\S+\?token=(\w+)")
SERVICE = re.compile(r"(scheduler|placement) started \(pid (\d+)\) at 127\.0\.0\.1:(\d+), health")


@dataclass
class Lab:
    process: subprocess.Popen
    lines: queue.Queue
    output: list[str] = field(default_factory=list)
    port: int = 0
    token: str = ""
    service_ports: dict[str, int] = field(default_factory=dict)

    def wait_for(self, pattern: re.Pattern, timeout: float = 120) -> re.Match:
        def seen():
            while True:
                try:
                    line = self.lines.get_nowait()
                except queue.Empty:
                    break
                self.output.append(line)
            for line in self.output:
                if match := pattern.search(line):
                    return match
            if self.process.poll() is not None:
                raise AssertionError("workbook lab exited early:\n" + "".join(self.output))
            return None

        return wait_until(seen, timeout=timeout, what=f"workbook lab to print /{pattern.pattern}/")

    def everything_started(self) -> list[psutil.Process]:
        """The lab and every process below it (JupyterLab, kernels, scheduler, placement)."""
        me = psutil.Process(self.process.pid)
        return [me, *me.children(recursive=True)]

    def start_kernel(self) -> psutil.Process:
        response = httpx.post(
            f"http://127.0.0.1:{self.port}/api/kernels",
            headers={"Authorization": f"token {self.token}"},
            json={"name": "python3"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return wait_until(
            lambda: next(
                (p for p in self.everything_started() if "ipykernel_launcher" in command_line(p)),
                None,
            ),
            timeout=60,
            what="the kernel's process",
        )


def command_line(process: psutil.Process) -> str:
    """The command line, or "" for a process that is gone or a zombie (make's short-lived
    children come and go while we look)."""
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def start_lab(state: Path, root: Path, command: list | None = None, **env: str) -> Lab:
    process = subprocess.Popen(
        command or [WORKBOOK, "lab", "--port", str(processes.free_port()), "--root", root],
        cwd=config.ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # as a terminal would: signals reach it only when we send them
        env={
            **os.environ,
            "WORKBOOK_STATE_DIR": str(state),
            "WORKBOOK_CONTROL_PLANE": "isolated",
            **env,
        },
    )
    lines: queue.Queue = queue.Queue()

    def copy_output():
        with process.stdout:  # closed at the end of the output
            for line in process.stdout:
                lines.put(line)

    threading.Thread(target=copy_output, daemon=True).start()
    lab = Lab(process, lines)
    ready = lab.wait_for(READY)
    lab.port, lab.token = int(ready.group(1)), ready.group(2)
    for line in lab.output:
        if match := SERVICE.search(line):
            lab.service_ports[match.group(1)] = int(match.group(3))
    assert sorted(lab.service_ports) == ["placement", "scheduler"]
    return lab


def assert_all_gone(started: list[psutil.Process], lab: Lab, state: Path) -> None:
    _gone, alive = psutil.wait_procs(started, timeout=40)
    assert alive == [], [p.cmdline() for p in alive]
    for port in (lab.port, *lab.service_ports.values()):
        assert not processes.port_in_use(port), port


def ledger_files(state: Path) -> list[Path]:
    return sorted((state / "processes").glob("*.json"))


@pytest.fixture
def notebooks(tmp_path) -> Path:
    root = tmp_path / "notebooks"
    root.mkdir()
    return root


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_ends_jupyterlab_its_kernels_and_the_control_plane(sig, tmp_path, notebooks):
    state = tmp_path / "state"
    lab = start_lab(state, notebooks)
    kernel = lab.start_kernel()
    started = lab.everything_started()
    names = {p.name() for p in started}
    assert {"scheduler", "placement"} <= names
    assert kernel in started
    assert len(ledger_files(state)) == 3  # JupyterLab, scheduler, placement

    lab.process.send_signal(sig)
    assert lab.process.wait(timeout=60) == 0
    lab.wait_for(re.compile(r"JupyterLab stopped, scheduler stopped, placement stopped"))
    assert_all_gone(started, lab, state)
    assert ledger_files(state) == []


def test_jupyterlabs_token_is_not_on_any_command_line(tmp_path, notebooks):
    lab = start_lab(tmp_path / "state", notebooks)
    try:
        for process in lab.everything_started():
            assert lab.token not in command_line(process)
        token_file = tmp_path / "state" / "jupyterlab" / "token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert token_file.read_text() == lab.token
        # The token is what JupyterLab asks for.
        api = f"http://127.0.0.1:{lab.port}/api/kernels"
        assert httpx.get(api).status_code == 403
        assert httpx.get(api, headers={"Authorization": f"token {lab.token}"}).status_code == 200
    finally:
        lab.process.send_signal(signal.SIGTERM)
        lab.process.wait(timeout=60)
    assert not token_file.exists()


def test_sigkill_leaves_nothing_running_where_a_parent_death_signal_exists(tmp_path, notebooks):
    state = tmp_path / "state"
    lab = start_lab(state, notebooks)
    lab.start_kernel()
    started = lab.everything_started()[1:]
    lab.process.kill()
    lab.process.wait()
    assert_all_gone(started, lab, state)


def test_after_sigkill_the_next_lab_ends_what_the_killed_one_left(tmp_path, notebooks):
    """Without a parent-death signal (as on macOS) a SIGKILL leaves everything running;
    the ledger lets the next start find each leftover (pid AND start time) and end it."""
    state = tmp_path / "state"
    first = start_lab(state, notebooks, WORKBOOK_NO_PARENT_DEATH_SIGNAL="1")
    kernel = first.start_kernel()
    left = first.everything_started()[1:]
    first.process.kill()
    first.process.wait()
    second = None
    try:
        assert all(p.is_running() for p in left)  # nothing told them to stop
        jupyter = next(p for p in left if "jupyter" in command_line(p) and p != kernel)

        second = start_lab(state, notebooks)
        ended = "".join(second.output)
        for name in ("jupyterlab", "scheduler", "placement"):
            assert re.search(
                rf"ending {name} \(pid \d+\), left running by pid {first.process.pid}", ended
            )
        assert f"ending jupyterlab (pid {jupyter.pid})" in ended
        _gone, alive = psutil.wait_procs(left, timeout=40)
        assert alive == []
    finally:
        for process in left:
            if process.is_running():
                process.kill()
        if second and sys.exc_info()[0]:  # a failed check: still stop the second lab
            second.process.send_signal(signal.SIGTERM)
            second.process.wait(timeout=60)
    second.process.send_signal(signal.SIGHUP)
    assert second.process.wait(timeout=60) == 0
    assert ledger_files(state) == []


# `make lab` without its set-up step (the environment and runtime are in place for the tests).
MAKE_LAB = [
    "make",
    "-s",
    "-o",
    "setup",
    "-o",
    "venv",
    "-o",
    "runtime",
    "-o",
    ".venv/.installed",
    "lab",
]


@pytest.mark.parametrize("send", ["SIGHUP to its process group", "SIGTERM to make"])
def test_make_lab_leaves_nothing_running(send, tmp_path):
    """A closed terminal sends SIGHUP to the whole foreground group; `kill <make's pid>` sends
    SIGTERM to make alone, which passes it on to `workbook lab`."""
    state = tmp_path / "state"
    lab = start_lab(state, tmp_path, command=MAKE_LAB)
    lab.start_kernel()
    started = lab.everything_started()
    assert "workbook" in " ".join(started[1].cmdline())  # make -> workbook lab -> ...
    if send.startswith("SIGHUP"):
        os.killpg(lab.process.pid, signal.SIGHUP)
    else:
        lab.process.send_signal(signal.SIGTERM)
    lab.process.wait(timeout=60)
    assert_all_gone(started, lab, state)
    assert ledger_files(state) == []
