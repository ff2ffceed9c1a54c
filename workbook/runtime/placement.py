"""The Dapr placement service: the actor placement table daprd waits for before it is ready.

The Jobs API does not use actors, but daprd started with a `--placement-host-address` (as
`dapr run` always passes: localhost:50005) reports `ERR_HEALTH_NOT_READY ...
[internal-placement-service]` until it reaches placement. `dapr init` runs placement in a
container; `dapr init --slim` runs nothing, so the workbook starts it (controlplane.py).

    Placement()               gRPC 50005, health 58080, metrics 59090, raft 8201, loopback
    Placement.isolated()      free ports (tests, experiments)
    .start() / .stop() / .kill() / .address / .reused   as for the scheduler (dapr_service.py)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from workbook import config
from workbook.runtime.dapr_service import ControlPlaneService
from workbook.runtime.listeners import service_listeners
from workbook.runtime.processes import free_port

DEFAULT_PORTS = {
    "port": 50005,
    "healthz_port": 58080,
    "metrics_port": 59090,
    "raft_port": 8201,
}


class Placement(ControlPlaneService):
    """One placement process (in-memory raft store: nothing on disk)."""

    service = "placement"
    DEFAULT_PORTS = DEFAULT_PORTS

    def __init__(
        self,
        *,
        log_path: Path | None = None,
        placement_id: str = "dapr-placement-0",
        outlive_parent: bool = False,
        **ports: int,
    ):
        self.id = placement_id
        super().__init__(
            log_path=Path(log_path or config.STATE_DIR / "placement" / "placement.log"),
            outlive_parent=outlive_parent,
            **ports,
        )

    @classmethod
    def isolated(cls, base_dir: Path | None = None) -> Placement:
        """A placement service on free ports, logging into `base_dir`."""
        base = Path(base_dir or tempfile.mkdtemp(prefix="placement-", dir=config.scratch_dir()))
        ports = {name: free_port() for name in DEFAULT_PORTS}
        return cls(log_path=base / "placement.log", **ports)

    @property
    def placement_address(self) -> str:
        return self.address

    def args(self) -> list[str]:
        p = self.ports
        return [
            str(config.dapr_binary("placement")),
            *("--id", self.id),
            *service_listeners(p),
            "--initial-cluster",
            f"{self.id}=127.0.0.1:{p['raft_port']}",
            "--log-level",
            "info",
        ]
