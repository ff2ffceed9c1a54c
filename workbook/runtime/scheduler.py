"""The Dapr scheduler service: keeps jobs in its embedded etcd and fires them at sidecars.

`dapr init --slim` starts nothing, so the workbook starts the scheduler itself. One that is
already healthy on the same ports is reused and left running.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from workbook import config
from workbook.runtime.processes import ManagedProcess, free_port, group_alive, stop_group
from workbook.runtime.waiting import http_status, wait_until

DEFAULT_PORTS = {
    "port": 50006,
    "healthz_port": 8080,
    "metrics_port": 9090,
    "etcd_client_port": 2379,
    "etcd_peer_port": 2380,
}


class Scheduler:
    """One scheduler process with its own ports and etcd data directory."""

    def __init__(
        self,
        *,
        data_dir: Path | None = None,
        log_path: Path | None = None,
        scheduler_id: str = "dapr-scheduler-server-0",
        **ports: int,
    ):
        unknown = set(ports) - set(DEFAULT_PORTS)
        if unknown:
            raise TypeError(f"unknown port names: {sorted(unknown)}")
        self.ports = {**DEFAULT_PORTS, **ports}
        self.id = scheduler_id
        self.data_dir = Path(data_dir or config.STATE_DIR / "scheduler" / "data")
        self.log_path = Path(log_path or self.data_dir.parent / "scheduler.log")
        self.process: ManagedProcess | None = None
        self.reused = False

    @classmethod
    def isolated(cls, base_dir: Path | None = None) -> Scheduler:
        """A scheduler on free ports with a fresh data directory: for tests and experiments."""
        base = Path(base_dir or tempfile.mkdtemp(prefix="scheduler-", dir=_tmp_root()))
        ports = {name: free_port() for name in DEFAULT_PORTS}
        return cls(data_dir=base / "data", log_path=base / "scheduler.log", **ports)

    @property
    def address(self) -> str:
        """What daprd's --scheduler-host-address takes."""
        return f"127.0.0.1:{self.ports['port']}"

    @property
    def healthz_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['healthz_port']}/healthz"

    def healthy(self) -> bool:
        return http_status(self.healthz_url, timeout=0.5) == 200

    def args(self) -> list[str]:
        p = self.ports
        return [
            str(config.dapr_binary("scheduler")),
            "--id",
            self.id,
            "--port",
            str(p["port"]),
            "--listen-address",
            "127.0.0.1",
            "--healthz-port",
            str(p["healthz_port"]),
            "--healthz-listen-address",
            "127.0.0.1",
            "--metrics-port",
            str(p["metrics_port"]),
            "--metrics-listen-address",
            "127.0.0.1",
            "--etcd-data-dir",
            str(self.data_dir),
            "--etcd-client-port",
            str(p["etcd_client_port"]),
            "--etcd-client-listen-address",
            "127.0.0.1",
            "--etcd-initial-cluster",
            f"{self.id}=http://127.0.0.1:{p['etcd_peer_port']}",
            "--log-level",
            "info",
        ]

    def start(self, timeout: float = 60) -> Scheduler:
        """Start it and wait for /healthz; reuse one that already answers on these ports."""
        if self.healthy():
            self.reused = True
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess("scheduler", self.args(), log_path=self.log_path).start()
        wait_until(self._up, timeout=timeout, what=f"the scheduler at {self.healthz_url}")
        self.reused = False
        return self

    def _up(self) -> bool:
        if self.process and not self.process.alive():
            raise RuntimeError(f"the scheduler exited; its log:\n{self.process.tail()}")
        return self.healthy()

    def stop(self, timeout: float = 10) -> None:
        """Stop it if this object started it (a reused scheduler keeps running)."""
        if self.process:
            self.process.stop(timeout=timeout)
            self.process = None

    def kill(self) -> None:
        """SIGKILL, as a crash would: for durability experiments."""
        if self.process:
            self.process.stop(timeout=0)
            self.process = None

    def __enter__(self) -> Scheduler:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _tmp_root() -> Path:
    root = config.STATE_DIR / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return root


# --- a scheduler in the background, for `make scheduler` / `make stop` and JupyterLab ---------

PID_FILE = config.STATE_DIR / "scheduler" / "scheduler.pid"


def start_background(timeout: float = 60) -> Scheduler:
    """Start the default scheduler and leave it running after this process exits."""
    scheduler = Scheduler()
    scheduler.start(timeout=timeout)
    if scheduler.process:
        PID_FILE.write_text(str(scheduler.process.pid))
        scheduler.process.detach()
    return scheduler


def stop_background(timeout: float = 10) -> bool:
    """Stop a scheduler that start_background started. True if one was running."""
    try:
        pgid = int(PID_FILE.read_text())
    except (FileNotFoundError, ValueError):
        return False
    if not group_alive(pgid):
        PID_FILE.unlink(missing_ok=True)
        return False
    stop_group(pgid, timeout=timeout)
    PID_FILE.unlink(missing_ok=True)
    return True
