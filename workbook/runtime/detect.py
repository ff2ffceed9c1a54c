"""Is a Dapr control-plane service (scheduler, placement) already running on its gRPC port?

A service counts as running only when BOTH hold:
1. its gRPC port accepts a connection and answers an HTTP/2 client preface with a SETTINGS
   frame (a gRPC server does; a plain socket, a web server or a database does not), and
2. one of its candidate health ports answers `GET /healthz` with 200.

The health port is never guessed from one well-known HTTP port alone (any dev server may
answer :8080). Candidates, in order:
- the `--healthz-port` of the process holding the gRPC port, read from its command line with
  psutil (8080, the binaries' default, if it is a scheduler/placement without that flag);
- the health port the workbook recorded when it started a service on that gRPC port
  (`<STATE_DIR>/controlplane/<service>-<port>.json`);
- the port `dapr init` publishes for its container: scheduler 58081, placement 58080.

`find(service, grpc_port)` returns a `Found` (health port, holder), None when the port is free,
and raises `PortTaken` (naming the port, pid and command) when something else holds it.
"""

from __future__ import annotations

import contextlib
import json
import socket
from dataclasses import dataclass
from pathlib import Path

import psutil

from workbook import config
from workbook.runtime.ports import describe_port_holder, port_holder
from workbook.runtime.waiting import WaitTimeout, http_status, wait_until

# Health ports of the containers `dapr init` starts (dapr/cli pkg/standalone/standalone.go).
DAPR_INIT_HEALTH_PORTS = {"scheduler": 58081, "placement": 58080}
BINARY_DEFAULT_HEALTH_PORT = 8080  # both binaries' --healthz-port default
STARTING_PATIENCE = 10.0  # seconds a scheduler/placement binary gets to become healthy

HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS_FRAME = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_FRAME_TYPE = 0x4


class PortTaken(RuntimeError):
    """A port the control plane needs is held by something that is not a healthy Dapr service."""


@dataclass(frozen=True)
class Found:
    service: str
    grpc_port: int
    health_port: int
    holder: str  # 'pid 123 (...)', or who it probably is when psutil cannot see it
    recorded_by_workbook: bool


def is_settings_frame(data: bytes) -> bool:
    """True if `data` starts with an HTTP/2 frame header of type SETTINGS on stream 0."""
    if len(data) < 9:
        return False
    frame_type = data[3]
    stream = int.from_bytes(data[5:9], "big") & 0x7FFFFFFF
    return frame_type == SETTINGS_FRAME_TYPE and stream == 0


def speaks_grpc(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """True if the listener on `port` answers as an HTTP/2 (gRPC) server does."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(HTTP2_PREFACE + EMPTY_SETTINGS_FRAME)
            return is_settings_frame(_read_at_least(conn, 9))
    except OSError:
        return False


def _read_at_least(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def health_port_from_args(args: list[str]) -> int | None:
    """The value of `--healthz-port N` / `--healthz-port=N` in a command line, if any."""
    for i, arg in enumerate(args):
        if arg in ("--healthz-port", "-healthz-port") and i + 1 < len(args):
            with contextlib.suppress(ValueError):
                return int(args[i + 1])
        for prefix in ("--healthz-port=", "-healthz-port="):
            if arg.startswith(prefix):
                with contextlib.suppress(ValueError):
                    return int(arg[len(prefix) :])
    return None


def candidate_health_ports(
    service: str, holder_args: list[str] | None, recorded: int | None
) -> list[int]:
    """Where the health endpoint of the service on a gRPC port may be, most likely first."""
    candidates: list[int] = []
    if holder_args:
        from_args = health_port_from_args(holder_args)
        program = Path(holder_args[0]).name
        if from_args is not None:
            candidates.append(from_args)
        elif program in ("scheduler", "placement"):
            candidates.append(BINARY_DEFAULT_HEALTH_PORT)
    if recorded is not None:
        candidates.append(recorded)
    candidates.append(DAPR_INIT_HEALTH_PORTS[service])
    return list(dict.fromkeys(candidates))  # in order, without repeats


def record_dir() -> Path:
    return config.STATE_DIR / "controlplane"


def record_path(service: str, grpc_port: int) -> Path:
    return record_dir() / f"{service}-{grpc_port}.json"


def write_record(service: str, grpc_port: int, health_port: int, pid: int) -> None:
    path = record_path(service, grpc_port)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"health_port": health_port, "pid": pid}))


def read_record(service: str, grpc_port: int) -> int | None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return int(json.loads(record_path(service, grpc_port).read_text())["health_port"])
    return None


def remove_record(service: str, grpc_port: int, pid: int) -> None:
    """Remove the record if it is the one `pid` wrote."""
    path = record_path(service, grpc_port)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if json.loads(path.read_text())["pid"] == pid:
            path.unlink()


def _healthy_port(candidates: list[int], patience: float) -> int | None:
    """The first candidate whose GET /healthz answers 200, trying for `patience` seconds."""

    def answering():
        for port in candidates:
            if http_status(f"http://127.0.0.1:{port}/healthz", timeout=1.0) == 200:
                return port
        return None

    if patience <= 0:
        return answering()
    with contextlib.suppress(WaitTimeout):
        return wait_until(answering, timeout=patience, what="a health endpoint", interval=0.1)
    return None


def grpc_port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def find(service: str, grpc_port: int) -> Found | None:
    """The healthy `service` on `grpc_port`; None if the port is free; PortTaken otherwise."""
    if not grpc_port_open(grpc_port):
        return None
    holder = port_holder(grpc_port)
    holder_args = None
    if holder is not None:
        with contextlib.suppress(psutil.Error):
            holder_args = holder.cmdline()
    recorded = read_record(service, grpc_port)
    candidates = candidate_health_ports(service, holder_args, recorded)
    who = describe_port_holder(grpc_port)
    if not speaks_grpc(grpc_port):
        raise PortTaken(
            f"port {grpc_port} (the {service}'s gRPC port) is taken by {who}, which does not "
            f"answer as a gRPC server: stop it, or give the {service} another port"
        )
    # A scheduler/placement binary may still be starting (another workbook process started it a
    # moment ago): give it a few seconds to answer before calling the port taken.
    starting = holder_args is not None and Path(holder_args[0]).name == service
    healthy = _healthy_port(candidates, patience=STARTING_PATIENCE if starting else 0)
    if healthy is not None:
        unseen = holder_args is None or Path(holder_args[0]).name == "docker-proxy"
        if unseen and healthy == DAPR_INIT_HEALTH_PORTS[service]:
            who += ", likely the container of `dapr init`"
        return Found(service, grpc_port, healthy, who, healthy == recorded)
    ports = ", ".join(map(str, candidates))
    raise PortTaken(
        f"port {grpc_port} (the {service}'s gRPC port) is taken by {who}, a gRPC server with "
        f"no Dapr health endpoint answering 200 on port {ports}: stop it, or give the "
        f"{service} another port"
    )
