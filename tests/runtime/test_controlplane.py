"""The control plane with the real scheduler and placement binaries: cold start, reuse of one
already running with other health ports, an occupied port, a real crash (SIGKILL), the
background pair of `make scheduler`, a notebook kernel that dies, tokens from the shell."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from workbook import config
from workbook.runtime import detect, ledger, processes
from workbook.runtime.apps import JobService
from workbook.runtime.controlplane import ControlPlane
from workbook.runtime.placement import Placement
from workbook.runtime.scheduler import Scheduler


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    """A ledger and records of this test's own (in this process and its children)."""
    state = tmp_path / "state"
    monkeypatch.setattr(config, "STATE_DIR", state)
    monkeypatch.setenv("WORKBOOK_STATE_DIR", str(state))
    return state


def running_services(port: int) -> list[psutil.Process]:
    """scheduler/placement processes whose command line has `--port <port>`."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        args = process.info["cmdline"] or []
        if process.info["name"] in ("scheduler", "placement") and str(port) in args:
            found.append(process)
    return found


def test_cold_start_both_healthy_then_stop_leaves_nothing(state_dir, tmp_path):
    plane = ControlPlane.isolated(tmp_path)
    started = time.monotonic()
    plane.start()
    took = time.monotonic() - started
    print(f"\ncold start of scheduler + placement: {took:.2f} s")
    try:
        assert not plane.scheduler.reused
        assert not plane.placement.reused
        assert httpx.get(plane.scheduler.healthz_url).status_code == 200
        assert httpx.get(plane.placement.healthz_url).status_code == 200
        assert detect.speaks_grpc(plane.scheduler.ports["port"])
        assert detect.speaks_grpc(plane.placement.ports["port"])
        assert sorted(e.name for e in ledger.entries()) == ["placement", "scheduler"]
        assert plane.describe()[1].startswith(
            f"placement started (pid {plane.placement.process.pid})"
        )
    finally:
        plane.stop()
    assert ledger.entries() == []
    for service in plane.services:
        for port in service.ports.values():
            assert not processes.port_in_use(port), port


def test_a_running_pair_with_other_health_ports_is_reused_not_started_again(state_dir, tmp_path):
    """As `dapr init` runs them (health 58081/58080, not 8080): found through the holder's
    command line, reused, and left running by the object that reused it."""
    first = ControlPlane.isolated(tmp_path).start()
    try:
        (state_dir / "controlplane").rename(tmp_path / "no-records")  # as if not ours
        wrong_health = {"healthz_port": processes.free_port()}
        second = ControlPlane(
            scheduler=Scheduler(**{**first.scheduler.ports, **wrong_health}),
            placement=Placement(**{**first.placement.ports, **wrong_health}),
        )
        started = time.monotonic()
        second.start()
        print(f"\nwarm start (both reused): {time.monotonic() - started:.2f} s")
        assert second.reused
        assert second.scheduler.process is None
        assert second.placement.process is None
        assert second.scheduler.ports["healthz_port"] == first.scheduler.ports["healthz_port"]
        assert second.placement.ports["healthz_port"] == first.placement.ports["healthz_port"]
        assert second.describe()[0].startswith(
            f"scheduler already running (pid {first.scheduler.process.pid} "
        )
        assert len(running_services(first.scheduler.ports["port"])) == 1
        assert len(running_services(first.placement.ports["port"])) == 1
        second.stop()
        assert first.scheduler.process.alive()
        assert first.placement.process.alive()
    finally:
        first.stop()


def test_an_occupied_port_is_refused_with_its_pid_and_nothing_is_left(state_dir, tmp_path):
    plane = ControlPlane.isolated(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", plane.placement.ports["port"]))
        holder.listen()
        with pytest.raises(detect.PortTaken) as refused:
            plane.start()
    port = plane.placement.ports["port"]
    assert str(refused.value).startswith(
        f"port {port} (the placement's gRPC port) is taken by pid {os.getpid()} ("
    )
    # The scheduler it had launched meanwhile was stopped again.
    assert plane.scheduler.process is None
    assert ledger.entries() == []
    assert running_services(plane.scheduler.ports["port"]) == []


def test_a_taken_health_port_is_refused_before_anything_starts(state_dir, tmp_path):
    scheduler = Scheduler.isolated(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", scheduler.ports["healthz_port"]))
        holder.listen()
        with pytest.raises(detect.PortTaken) as refused:
            scheduler.start()
    assert str(refused.value).startswith(
        f"port {scheduler.ports['healthz_port']} (the scheduler's healthz_port) is taken by "
        f"pid {os.getpid()} ("
    )
    assert scheduler.process is None
    assert ledger.entries() == []


def test_kill_is_a_real_crash(state_dir, tmp_path):
    scheduler = Scheduler.isolated(tmp_path).start()
    scheduler.stop()
    stopped_log = scheduler.log_path.read_text()
    assert "Scheduler service shut down gracefully" in stopped_log  # what SIGTERM gives

    scheduler.start()
    process = scheduler.process
    scheduler.kill()
    assert process.popen.returncode == -signal.SIGKILL
    after_kill = scheduler.log_path.read_text()[len(stopped_log) :]
    assert "Starting Dapr Scheduler Service" in after_kill
    assert "shut down" not in after_kill  # no SIGTERM first: no last words
    assert not processes.port_in_use(scheduler.ports["port"])
    assert ledger.entries() == []


BACKGROUND = """
import sys
from workbook.runtime import controlplane, placement, scheduler
scheduler.DEFAULT_PORTS.update(zip(scheduler.DEFAULT_PORTS, map(int, sys.argv[2:7])))
placement.DEFAULT_PORTS.update(zip(placement.DEFAULT_PORTS, map(int, sys.argv[7:11])))
if sys.argv[1] == "start":
    plane = controlplane.start_background()
    print(plane.scheduler.process.pid, plane.placement.process.pid, flush=True)
else:
    print(",".join(controlplane.stop_background()))
"""


def test_the_background_pair_outlives_its_starter_and_stops_with_make_stop(state_dir):
    ports = [str(processes.free_port()) for _ in range(9)]

    def run(action):
        return subprocess.run(
            [sys.executable, "-c", BACKGROUND, action, *ports],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        ).stdout.split()

    pids = [int(pid) for pid in run("start")]
    try:
        assert all(processes.pid_alive(pid) for pid in pids)  # its starter has exited
        entries = ledger.entries()
        assert {e.pid for e in entries} == set(pids)
        assert all(e.detached for e in entries)
        assert processes.leftovers() == []  # not leftovers: `make stop` ends them
    finally:
        stopped = run("stop")
    assert stopped == ["scheduler,placement"]
    assert psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], 10)[1] == []
    assert ledger.entries() == []


KERNEL = """
import json, sys, time
from workbook.runtime.apps import JobService
from workbook.runtime.controlplane import ControlPlane
plane = ControlPlane.isolated().start()
service = JobService(plane).start()
pids = [plane.scheduler.process.pid, plane.placement.process.pid,
        service.sidecar.process.pid, service.app.pid]
print(json.dumps(pids), flush=True)
time.sleep(300)
"""


def start_kernel_stand_in(env) -> tuple[subprocess.Popen, list[psutil.Process]]:
    kernel = subprocess.Popen(
        [sys.executable, "-c", KERNEL],
        stdout=subprocess.PIPE,
        text=True,
        cwd=config.ROOT,
        env={**os.environ, **env},
    )
    pids = json.loads(kernel.stdout.readline())
    return kernel, [psutil.Process(pid) for pid in pids]


def test_a_kernel_that_dies_takes_its_sidecar_app_and_services_with_it(state_dir):
    kernel, children = start_kernel_stand_in({})
    kernel.kill()
    kernel.wait()
    kernel.stdout.close()
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert alive == []
    assert len(gone) == 4


def test_without_a_parent_death_signal_the_next_start_ends_the_leftovers(state_dir):
    """The portable path (macOS has no PR_SET_PDEATHSIG): the ledger."""
    kernel, children = start_kernel_stand_in({"WORKBOOK_NO_PARENT_DEATH_SIGNAL": "1"})
    kernel.kill()
    kernel.wait()
    kernel.stdout.close()
    try:
        assert all(child.is_running() for child in children)
        found = processes.leftovers()
        assert sorted(e.pid for e in found) == sorted(c.pid for c in children)
        assert {e.started_by.pid for e in found} == {kernel.pid}
        said = []
        processes.end_leftovers(report=said.append)
        assert len(said) == 4
        _gone, alive = psutil.wait_procs(children, timeout=15)
        assert alive == []
        assert ledger.entries() == []
    finally:
        for child in children:
            if child.is_running():
                child.kill()


def test_a_token_in_the_shell_does_not_turn_on_auth(state_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DAPR_API_TOKEN", "exported-in-the-shell")
    monkeypatch.setenv("APP_API_TOKEN", "exported-too")
    with ControlPlane.isolated(tmp_path) as plane, JobService(plane) as service:
        # No token sent, and none needed: the sidecar did not inherit one.
        response = httpx.get(f"{service.sidecar.http_url}/v1.0-alpha1/jobs/none-such")
        assert response.status_code != 401
        for pid in (service.sidecar.process.pid, service.app.pid):
            environment = psutil.Process(pid).environ()
            assert "DAPR_API_TOKEN" not in environment
            assert "APP_API_TOKEN" not in environment
        assert "--placement-host-address" in service.sidecar.args()
        assert plane.placement_address in service.sidecar.args()


def test_a_sidecar_with_placement_is_ready(state_dir, tmp_path):
    """Under `dapr run` daprd gets --placement-host-address; with our placement it gets ready."""
    with ControlPlane.isolated(tmp_path) as plane, JobService(plane) as service:
        assert httpx.get(f"{service.sidecar.http_url}/v1.0/healthz").status_code == 204
        log = service.sidecar.process.log_text()
        assert f'msg="Connected to placement {plane.placement_address}"' in log


def test_leftover_check_is_quick_with_an_empty_ledger(state_dir):
    started = time.monotonic()
    assert processes.leftovers() == []
    assert time.monotonic() - started < 1.0
