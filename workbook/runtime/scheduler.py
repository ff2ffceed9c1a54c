"""The Dapr scheduler service: keeps jobs in its embedded etcd and fires them at sidecars.

`dapr init --slim` starts nothing, so the workbook can start the scheduler itself; one that is
already running on its gRPC port (from `dapr init`, another run of the workbook, or started by
hand) is found by its gRPC port AND its real health endpoint (detect.py), reused, and left
running. Something else on the port is a clear error (detect.PortTaken) naming its pid.

    Scheduler()                  the default one: gRPC 50006, health 58081, metrics 59091,
                                 etcd 2379/2380, all on loopback (the ports of `dapr init`)
    Scheduler.isolated(dir)      free ports and a fresh data directory (tests, experiments)
    .start() / .stop() / .kill() see dapr_service.py; kill() is SIGKILL only (a real crash)
    .address, .healthz_url, .reused, .data_dir, .log_path

The scheduler together with placement, and the background pair of `make scheduler`, are in
controlplane.py (ControlPlane, start_background, stop_background).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from workbook import config
from workbook.runtime.dapr_service import ControlPlaneService
from workbook.runtime.listeners import loopback_listener, service_listeners
from workbook.runtime.processes import free_port

DEFAULT_PORTS = {
    "port": 50006,
    "healthz_port": 58081,
    "metrics_port": 59091,
    "etcd_client_port": 2379,
    "etcd_peer_port": 2380,
}


class Scheduler(ControlPlaneService):
    """One scheduler process with its own ports and etcd data directory."""

    service = "scheduler"
    DEFAULT_PORTS = DEFAULT_PORTS

    def __init__(
        self,
        *,
        data_dir: Path | None = None,
        log_path: Path | None = None,
        scheduler_id: str = "dapr-scheduler-server-0",
        outlive_parent: bool = False,
        **ports: int,
    ):
        self.id = scheduler_id
        self.data_dir = Path(data_dir or config.STATE_DIR / "scheduler" / "data")
        super().__init__(
            log_path=Path(log_path or self.data_dir.parent / "scheduler.log"),
            outlive_parent=outlive_parent,
            **ports,
        )

    @classmethod
    def isolated(cls, base_dir: Path | None = None) -> Scheduler:
        """A scheduler on free ports with a fresh data directory: for tests and experiments."""
        base = Path(base_dir or tempfile.mkdtemp(prefix="scheduler-", dir=config.scratch_dir()))
        ports = {name: free_port() for name in DEFAULT_PORTS}
        return cls(data_dir=base / "data", log_path=base / "scheduler.log", **ports)

    @property
    def scheduler_address(self) -> str:
        return self.address

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def args(self) -> list[str]:
        p = self.ports
        return [
            str(config.dapr_binary("scheduler")),
            *("--id", self.id),
            *service_listeners(p),
            *("--etcd-data-dir", str(self.data_dir)),
            *loopback_listener("etcd-client", p["etcd_client_port"]),
            "--etcd-initial-cluster",
            f"{self.id}=http://127.0.0.1:{p['etcd_peer_port']}",
            "--log-level",
            "info",
        ]


def start_background(timeout: float = 60):
    """Start (or reuse) the default scheduler AND placement, left running: `make scheduler`."""
    from workbook.runtime import controlplane

    return controlplane.start_background(timeout=timeout)


def stop_background(timeout: float = 10) -> bool:
    """Stop what start_background started. True if anything was running."""
    from workbook.runtime import controlplane

    return bool(controlplane.stop_background(timeout=timeout))
