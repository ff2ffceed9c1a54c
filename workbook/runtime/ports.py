"""Loopback ports: a free one, whether one is taken, and which process holds it (psutil)."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import time
from pathlib import Path

import psutil

# Ports handed out recently, by any process of this user (test workers side by side, another
# clone's tests): a port is free for the next caller only after the one it was handed to had
# time to bind it. One empty file per port; its age is the reservation.
RESERVATIONS = Path(tempfile.gettempdir()) / f"dapr-jobs-workbook-ports-{os.getuid()}"
RESERVED_FOR_S = 600.0


def free_port(start: int = 20000, end: int = 32000) -> int:
    """A free TCP port on loopback below the ephemeral range (so no outgoing socket takes it),
    not handed out to any process of this user in the last ten minutes."""
    RESERVATIONS.mkdir(mode=0o700, exist_ok=True)
    # Spread the search start so parallel callers rarely even look at the same ports.
    offset = (os.getpid() * 7919 + time.monotonic_ns()) % (end - start)
    for i in range(end - start):
        port = start + (offset + i) % (end - start)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        if _reserve(port):
            return port
    raise RuntimeError(f"no free port between {start} and {end}")


def _reserve(port: int) -> bool:
    """Claim `port` (atomically: O_EXCL); a claim older than RESERVED_FOR_S is taken over."""
    path = RESERVATIONS / str(port)
    for _ in range(2):
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return True
        except FileExistsError:
            with contextlib.suppress(FileNotFoundError):
                if time.time() - path.stat().st_mtime < RESERVED_FOR_S:
                    return False
                path.unlink()  # a stale claim; if another caller got here first, O_EXCL decides
    return False


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def port_holder(port: int) -> psutil.Process | None:
    """The process listening on TCP `port`, if psutil may see it (not another user's, on macOS
    not without root, not inside a container)."""
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            listening = conn.status == psutil.CONN_LISTEN and conn.laddr
            if listening and conn.laddr.port == port and conn.pid:
                return psutil.Process(conn.pid)
    return None


def describe_port_holder(port: int) -> str:
    """'pid 123 (python3 -m http.server 50006)', or why the holder is unknown."""
    holder = port_holder(port)
    if holder is None:
        return "a process this user cannot see (another user's, or a container's)"
    try:
        command = " ".join(holder.cmdline()) or holder.name()
    except psutil.Error:
        command = "?"
    return f"pid {holder.pid} ({command[:160]})"
