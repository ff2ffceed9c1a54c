"""Loopback ports: a free one, whether one is taken, and which process holds it (psutil)."""

from __future__ import annotations

import contextlib
import os
import socket
import time

import psutil


def free_port(start: int = 20000, end: int = 32000) -> int:
    """A free TCP port on loopback below the ephemeral range (so no outgoing socket takes it)."""
    # Spread the search start so parallel callers rarely collide.
    offset = (os.getpid() * 7919 + time.monotonic_ns()) % (end - start)
    for i in range(end - start):
        port = start + (offset + i) % (end - start)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {start} and {end}")


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
