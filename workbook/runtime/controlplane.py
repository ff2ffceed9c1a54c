"""The control plane, as `dapr init` provides it: the scheduler AND placement, on loopback.

    with ControlPlane() as plane:        # or plane = ControlPlane().start() ... plane.stop()
        plane.scheduler_address          # "127.0.0.1:50006": daprd --scheduler-host-address
        plane.placement_address          # "127.0.0.1:50005": daprd --placement-host-address
        plane.describe()                 # one line per service: started or reused, where

Each service already running on its gRPC port (from `dapr init`, another run of the workbook,
or started by hand) is found by that port AND its real health endpoint (detect.py) and
reused; what is missing is started, and both are waited on until healthy. `stop()` stops
only what this object started. A port held by something else raises detect.PortTaken,
naming the port, the pid and its command.

    ControlPlane.isolated(dir)           both on free ports (tests; see Scheduler.isolated)
    ControlPlane(scheduler=Scheduler(...), placement=Placement(...))   chosen ports

In the background, for `make scheduler` / `make stop` (`workbook scheduler start|stop|status`):

    start_background()   ends what a killed workbook left running (processes.end_leftovers),
                         then starts or reuses both; what it started outlives this process
    stop_background()    stops the services a start_background started, nothing else
    status()             one line per service: running where, or not running
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from workbook.runtime import detect, ledger
from workbook.runtime.dapr_service import ControlPlaneService
from workbook.runtime.placement import Placement
from workbook.runtime.processes import end_leftovers, stop_entry
from workbook.runtime.scheduler import Scheduler

SERVICES = ("scheduler", "placement")


class ControlPlane:
    def __init__(
        self,
        *,
        scheduler: Scheduler | None = None,
        placement: Placement | None = None,
        outlive_parent: bool = False,
    ):
        self.scheduler = scheduler or Scheduler(outlive_parent=outlive_parent)
        self.placement = placement or Placement(outlive_parent=outlive_parent)

    @classmethod
    def isolated(cls, base_dir: Path | None = None) -> ControlPlane:
        """Scheduler and placement on free ports (a fresh scheduler data directory)."""
        return cls(scheduler=Scheduler.isolated(base_dir), placement=Placement.isolated(base_dir))

    @property
    def services(self) -> tuple[ControlPlaneService, ...]:
        return (self.scheduler, self.placement)

    @property
    def scheduler_address(self) -> str:
        return self.scheduler.address

    @property
    def placement_address(self) -> str:
        return self.placement.address

    @property
    def address(self) -> str:
        """The scheduler's address: a ControlPlane can stand where a Scheduler is expected."""
        return self.scheduler.address

    @property
    def reused(self) -> bool:
        """True if both services were already running (this object started nothing)."""
        return all(service.reused for service in self.services)

    def start(self, timeout: float = 60) -> ControlPlane:
        """Start (or reuse) both side by side and wait until both are healthy."""
        try:
            for service in self.services:
                service.launch()
            for service in self.services:
                service.wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop what this object started; reused services keep running."""
        for service in self.services:
            service.stop(timeout=timeout)

    def describe(self) -> list[str]:
        return [service.describe() for service in self.services]

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_background(timeout: float = 60) -> ControlPlane:
    """Start (or reuse) the default control plane and leave it running after this process."""
    end_leftovers()
    plane = ControlPlane(outlive_parent=True).start(timeout=timeout)
    for service in plane.services:
        if service.process:
            service.process.detach()
    return plane


def background_entries() -> list[ledger.Entry]:
    """Ledger entries of running services that start_background started."""
    return [e for e in ledger.prune() if e.detached and e.name in SERVICES]


def stop_background(timeout: float = 10) -> list[str]:
    """Stop the services start_background started (identity checked); return their names."""
    stopped = []
    for entry in background_entries():
        if stop_entry(entry, timeout=timeout):
            stopped.append(entry.name)
            for service in SERVICES:
                detect.remove_record(service, _grpc_port(entry.args), entry.pid)
    return stopped


def _grpc_port(args: list[str]) -> int:
    with contextlib.suppress(ValueError, IndexError):
        return int(args[args.index("--port") + 1])
    return -1


def status() -> list[tuple[str, bool, str]]:
    """(service, running, one line) for the default scheduler and placement."""
    lines = []
    for service in (Scheduler(), Placement()):
        try:
            found = detect.find(service.service, service.ports["port"])
        except detect.PortTaken as error:
            lines.append((service.service, False, str(error)))
            continue
        if found is None:
            lines.append((service.service, False, f"{service.service} not running"))
        else:
            lines.append(
                (
                    service.service,
                    True,
                    f"{service.service} healthy at {service.address} (health port "
                    f"{found.health_port}; {found.holder})",
                )
            )
    return lines
