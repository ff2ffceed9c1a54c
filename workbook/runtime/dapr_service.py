"""What the scheduler and placement services share: ports, start-or-reuse, health, stop, crash.

A subclass names its binary (`service`), its `DEFAULT_PORTS` (a `port` for gRPC and a
`healthz_port` at least) and its command line (`args()`).

    service.start()    reuse the healthy one already on `port` (see detect.py), else start one
                       and wait for GET /healthz = 200; something else on the port: PortTaken
    service.reused     True if it was already running (then stop() leaves it alone)
    service.stop()     SIGTERM then SIGKILL, only if this object started it
    service.kill()     SIGKILL only, as a crash would
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from workbook.runtime import detect
from workbook.runtime.processes import ManagedProcess, describe_port_holder, port_in_use
from workbook.runtime.waiting import http_status, wait_until


class ControlPlaneService:
    service = "?"  # the binary's name in ~/.dapr/bin, and the name in messages
    DEFAULT_PORTS: ClassVar[dict[str, int]] = {}

    def __init__(self, *, log_path: Path, outlive_parent: bool = False, **ports: int):
        unknown = set(ports) - set(self.DEFAULT_PORTS)
        if unknown:
            raise TypeError(f"unknown port names: {sorted(unknown)}")
        self.ports = {**self.DEFAULT_PORTS, **ports}
        self.log_path = Path(log_path)
        self.outlive_parent = outlive_parent  # a background service: no parent-death signal
        self.process: ManagedProcess | None = None
        self.reused = False
        self.found: detect.Found | None = None  # what was reused, if anything
        self.rebound = False  # started a second time after losing a bind race

    @property
    def address(self) -> str:
        """host:port of its gRPC API (what daprd's --scheduler/placement-host-address take)."""
        return f"127.0.0.1:{self.ports['port']}"

    @property
    def healthz_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['healthz_port']}/healthz"

    def healthy(self) -> bool:
        return http_status(self.healthz_url, timeout=0.5) == 200

    def args(self) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Create what the process needs before it starts (e.g. a data directory)."""

    def find_running(self) -> detect.Found | None:
        """The healthy service already on this gRPC port (PortTaken if something else is)."""
        return detect.find(self.service, self.ports["port"])

    def check_ports_free(self) -> None:
        """PortTaken, naming the holder, for any of its ports already in use."""
        for name, port in self.ports.items():
            if port_in_use(port):
                raise detect.PortTaken(
                    f"port {port} (the {self.service}'s {name}) is taken by "
                    f"{describe_port_holder(port)}: stop it, or give the {self.service} "
                    "another port"
                )

    def launch(self) -> ControlPlaneService:
        """Reuse a running one, or start the process without waiting for it to be healthy."""
        found = self.find_running()
        if found:
            self.reused, self.found = True, found
            self.ports["healthz_port"] = found.health_port
            return self
        self.check_ports_free()
        self.prepare()
        self._spawn()
        self.rebound = False
        return self

    def _spawn(self) -> None:
        self.process = ManagedProcess(
            self.service, self.args(), log_path=self.log_path, outlive_parent=self.outlive_parent
        ).start()
        detect.write_record(
            self.service, self.ports["port"], self.ports["healthz_port"], self.process.pid
        )
        self.reused, self.found = False, None

    def wait_healthy(self, timeout: float = 60) -> ControlPlaneService:
        if self.reused:
            return self
        wait_until(self._up, timeout=timeout, what=f"the {self.service} at {self.healthz_url}")
        return self

    def start(self, timeout: float = 60):
        """Start it and wait for /healthz; reuse a healthy one already on this gRPC port."""
        return self.launch().wait_healthy(timeout)

    def _up(self) -> bool:
        if self.process and not self.process.alive():
            if self._lost_a_bind_race():
                return False
            raise RuntimeError(self.exit_report())
        return self.healthy() and detect.grpc_port_open(self.ports["port"])

    def _lost_a_bind_race(self) -> bool:
        """Most default ports (50005, 50006, 58080...) lie in Linux's ephemeral range, so an
        outgoing connection of another process (the scheduler's own etcd client, say) may hold
        one as its source port for a moment: the bind fails although nothing listens there.
        Start once more if that is what happened and the ports are free now."""
        if self.rebound or "address already in use" not in self.process.log_text():
            return False
        if any(port_in_use(port) for port in self.ports.values()):
            return False
        print(
            f"[workbook] the {self.service} could not bind a port a moment ago (held by an "
            "outgoing connection, nothing listens there): starting it once more",
            flush=True,
        )
        self.rebound = True
        lost = self.process
        lost.stop(timeout=1)
        detect.remove_record(self.service, self.ports["port"], lost.pid)
        self._spawn()
        return True

    def exit_report(self) -> str:
        """Why it exited, decisive lines first: its exit code and its fatal/error lines, then
        the end of its log (a long log is cut by whoever shows it: the cause must come first)."""
        code = self.process.popen.returncode if self.process and self.process.popen else None
        log = self.process.log_text() if self.process else ""
        errors = [
            line for line in log.splitlines() if "level=fatal" in line or "level=error" in line
        ]
        report = [f"the {self.service} exited (exit code {code})"]
        if errors:
            report += ["its errors:", *errors[-5:]]
        report += ["the end of its log:", self.process.tail(15) if self.process else ""]
        return "\n".join(report)

    def stop(self, timeout: float = 10) -> None:
        """Stop it if this object started it (a reused one keeps running)."""
        if self.process:
            pid = self.process.pid
            self.process.stop(timeout=timeout)
            detect.remove_record(self.service, self.ports["port"], pid)
            self.process = None

    def kill(self) -> None:
        """SIGKILL only, as a crash would (for durability experiments)."""
        if self.process:
            pid = self.process.pid
            self.process.kill()
            detect.remove_record(self.service, self.ports["port"], pid)
            self.process = None

    def describe(self) -> str:
        """One line: what runs where, and whether it was reused."""
        if self.reused and self.found:
            return (
                f"{self.service} already running ({self.found.holder}), reused at "
                f"{self.address}, health {self.healthz_url}"
            )
        pid = self.process.pid if self.process else None
        return f"{self.service} started (pid {pid}) at {self.address}, health {self.healthz_url}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
