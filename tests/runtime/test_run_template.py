"""`workbook run -f` honours the template as the Dapr CLI does: daprd before its app, daprd
stopped before its app, the CLI's environment, `common:`, placement, log destinations; and a
template it cannot run starts nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from run_helpers import read_until, start_run, started_by, wait_all_gone, workbook_env

from workbook.run.dapr_cli import app_pid
from workbook.runtime.ports import free_port, port_in_use
from workbook.runtime.sidecar import Sidecar

# An app that reports what it sees: its daprd (found by app ID and port), its environment, and
# at SIGTERM whether its daprd is still running.
PROBE = r"""
import http.server, json, os, signal, sys, threading
import psutil

def my_daprd():
    for process in psutil.process_iter(["cmdline"]):
        cmd = process.info["cmdline"] or []
        if cmd and cmd[0].endswith("daprd") and cmd[cmd.index("--app-id") + 1] == os.environ[
            "APP_ID"] and cmd[cmd.index("--dapr-http-port") + 1] == os.environ["DAPR_HTTP_PORT"]:
            return process

daprd = my_daprd()
print("daprd running before the app:", daprd is not None, flush=True)
print("daprd cmdline:", json.dumps(daprd.cmdline()), flush=True)
print("daprd DAPR_HOST_IP:", daprd.environ().get("DAPR_HOST_IP"), flush=True)
keys = ["APP_ID", "APP_PORT", "APP_PROTOCOL", "APP_CHANNEL_ADDRESS", "DAPR_HTTP_PORT",
        "DAPR_GRPC_PORT", "GREETING"]
print("env:", json.dumps({k: os.environ.get(k) for k in keys}), flush=True)

def on_term(*_):
    alive = daprd.is_running() and daprd.status() != psutil.STATUS_ZOMBIE
    print("daprd still running at SIGTERM:", alive, flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
if os.environ.get("APP_PORT"):
    server = http.server.HTTPServer(("127.0.0.1", int(os.environ["APP_PORT"])),
                                    http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
signal.pause()
"""


@pytest.fixture
def template(tmp_path) -> tuple[Path, dict[str, int]]:
    ports = {"web_app": free_port(), "web_http": free_port(), "worker_http": free_port()}
    for folder in ("web", "worker"):
        (tmp_path / folder).mkdir()
    (tmp_path / "probe.py").write_text(PROBE)
    (tmp_path / "dapr.yaml").write_text(
        f"""version: 1
common:
  logLevel: debug
  env: {{GREETING: common}}
apps:
  - appDirPath: ./web/
    appPort: {ports["web_app"]}
    daprHTTPPort: {ports["web_http"]}
    daprdLogDestination: console
    command: [python, ../probe.py]
  - appDirPath: ./worker/
    daprHTTPPort: {ports["worker_http"]}
    placementHostAddress: ""
    env: {{GREETING: app}}
    command: ["python", "../probe.py"]
"""
    )
    return tmp_path, ports


def probe_lines(out: str, app_id: str, label: str) -> list[str]:
    prefix = f"== APP - {app_id} == {label}: "
    return [line.removeprefix(prefix) for line in out.splitlines() if line.startswith(prefix)]


def test_a_template_is_run_the_way_the_cli_runs_it(template):
    folder, ports = template
    env = workbook_env()
    env.pop("DAPR_HOST_IP", None)
    run = start_run("-f", str(folder), env=env)
    # The apps start one after the other, but either may print "ready" first (seen: worker's
    # line before web's, under load): wait for both, in any order.
    seen = read_until(run, "== APP - web == ready")
    if not any("== APP - worker == ready" in line for line in seen):
        seen += read_until(run, "== APP - worker == ready")
    started = started_by(run.pid)
    os.kill(run.pid, signal.SIGTERM)
    rest, _ = run.communicate(timeout=60)
    out = "".join(seen) + rest
    assert run.returncode == 0, out

    for app in ("web", "worker"):
        assert probe_lines(out, app, "daprd running before the app") == ["True"]
        assert probe_lines(out, app, "daprd still running at SIGTERM") == ["False"]
        assert probe_lines(out, app, "daprd DAPR_HOST_IP") == ["127.0.0.1"]

    web = json.loads(probe_lines(out, "web", "env")[0])
    worker = json.loads(probe_lines(out, "worker", "env")[0])
    assert web == {
        "APP_ID": "web",  # the folder's name
        "APP_PORT": str(ports["web_app"]),
        "APP_PROTOCOL": "http",
        "APP_CHANNEL_ADDRESS": "",
        "DAPR_HTTP_PORT": str(ports["web_http"]),
        "DAPR_GRPC_PORT": web["DAPR_GRPC_PORT"],
        "GREETING": "common",
    }
    assert int(web["DAPR_GRPC_PORT"]) > 0
    assert (worker["APP_ID"], worker["APP_PORT"], worker["GREETING"]) == ("worker", None, "app")

    web_daprd = json.loads(probe_lines(out, "web", "daprd cmdline")[0])
    worker_daprd = json.loads(probe_lines(out, "worker", "daprd cmdline")[0])
    flag = lambda args, name: args[args.index(name) + 1]  # noqa: E731
    assert flag(web_daprd, "--log-level") == flag(worker_daprd, "--log-level") == "debug"
    assert flag(web_daprd, "--placement-host-address") == "localhost:50005"
    assert flag(worker_daprd, "--placement-host-address") == ""
    assert flag(web_daprd, "--scheduler-host-address") == "localhost:50006"
    assert flag(worker_daprd, "--app-port") == "0"

    # daprdLogDestination: console puts web's daprd log on the console, bare, and in no file;
    # worker's goes to its file only (the default); app output goes to both (the default).
    lines = out.splitlines()
    assert any(line.startswith("time=") and "app_id=web " in line for line in lines)
    assert not any(line.startswith("time=") and "app_id=worker " in line for line in lines)
    web_logs = sorted(p.name.split("_")[1] for p in (folder / "web/.dapr/logs").iterdir())
    assert web_logs == ["app"]
    worker_logs = sorted((folder / "worker/.dapr/logs").iterdir())
    assert [p.name.split("_")[1] for p in worker_logs] == ["app", "daprd"]
    assert "daprd running before the app: True" in worker_logs[0].read_text().splitlines()
    assert "app_id=worker" in worker_logs[1].read_text()

    wait_all_gone(started, timeout=5)
    assert not any(port_in_use(port) for port in ports.values())


BROKEN = {
    "yaml error": ("version: 1\napps: [\n", "not valid YAML (line 3, column 1)"),
    "missing folder": (
        "version: 1\napps:\n  - appDirPath: ./gone/\n    command: [x]\n",
        "apps[0].appDirPath: ./gone/ does not exist",
    ),
    "empty env": (
        "version: 1\napps:\n  - appDirPath: .\n    command: [x]\n    env:\n",
        "apps[0].env is empty",
    ),
    "unsupported field": (
        "version: 1\napps:\n  - appDirPath: .\n    command: [x]\n    unixDomainSocket: /tmp\n",
        "apps[0].unixDomainSocket is not supported by workbook run",
    ),
    "wrong type": (
        "version: 1\napps:\n  - appDirPath: .\n    command: [x]\n    appPort: [1]\n",
        "apps[0].appPort: input should be a valid integer (got [1])",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_template_it_cannot_run_is_one_line_and_starts_nothing(tmp_path, case):
    text, expected = BROKEN[case]
    (tmp_path / "dapr.yaml").write_text(text)
    result = subprocess.run(
        ["workbook", "run", "-f", str(tmp_path)],
        env=workbook_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"workbook run: {tmp_path / 'dapr.yaml'}: {expected}")
    assert result.stderr.count("\n") == 1, result.stderr


def test_the_cli_driver_reads_the_app_pid_the_cli_puts_in_sidecar_metadata(scheduler):
    """`make run` under the real CLI ends the run when job-scheduler's process is gone; it finds
    that process as the CLI records it: `PUT /v1.0/metadata/appPID` (cmd/run.go)."""
    with Sidecar("probe", scheduler_address=scheduler.address) as sidecar:
        assert app_pid(sidecar.http_port) is None
        put = httpx.put(f"{sidecar.http_url}/v1.0/metadata/appPID", content=str(os.getpid()))
        assert put.status_code == 204
        assert app_pid(sidecar.http_port) == os.getpid()
    assert app_pid(sidecar.http_port) is None  # nothing answers any more
