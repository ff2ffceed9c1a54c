"""Helpers for durability experiments: a scheduler HA group, app replicas, listening sockets.

group = SchedulerGroup(3).start()       # three schedulers, one embedded etcd cluster
service = JobService(group, ...)        # daprd gets all three addresses
group.kill(0)                           # SIGKILL one member; group.restart(0) brings it back

replicas = Replicas(scheduler, 3).start()   # 3 x (job_service + daprd), one app ID
replicas.by_replica()                        # which replica got which trigger
"""

from __future__ import annotations

import collections
import ipaddress
import shutil
import tempfile
from pathlib import Path

import httpx
import psutil

from workbook.config import scratch_dir
from workbook.runtime.apps import JobService, unique_name
from workbook.runtime.processes import ManagedProcess, free_port
from workbook.runtime.scheduler import DEFAULT_PORTS, Scheduler
from workbook.runtime.waiting import wait_until


class GroupMember(Scheduler):
    """A scheduler that is one of several etcd peers (same --etcd-initial-cluster list)."""

    def __init__(self, *, initial_cluster: list[str], **kwargs):
        super().__init__(**kwargs)
        self.initial_cluster = initial_cluster

    def args(self) -> list[str]:
        args = super().args()
        args[args.index("--etcd-initial-cluster") + 1] = ",".join(self.initial_cluster)
        return args

    def launch(self) -> None:
        """Start the process without waiting: alone, a member cannot be healthy (no quorum)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(
            f"scheduler[{self.id}]", self.args(), log_path=self.log_path
        ).start()

    def alive(self) -> bool:
        return bool(self.process and self.process.alive())


class SchedulerGroup:
    """`size` schedulers as one highly available group: separate ids, ports and data dirs."""

    def __init__(self, size: int = 3, base_dir: Path | None = None):
        base = Path(base_dir or tempfile.mkdtemp(prefix="scheduler-group-", dir=scratch_dir()))
        ports = [{name: free_port() for name in DEFAULT_PORTS} for _ in range(size)]
        ids = [f"dapr-scheduler-server-{i}" for i in range(size)]
        cluster = [
            f"{id_}=http://127.0.0.1:{p['etcd_peer_port']}"
            for id_, p in zip(ids, ports, strict=True)
        ]
        self.members = [
            GroupMember(
                initial_cluster=cluster,
                scheduler_id=id_,
                data_dir=base / id_ / "data",
                log_path=base / id_ / "scheduler.log",
                **p,
            )
            for id_, p in zip(ids, ports, strict=True)
        ]

    @property
    def address(self) -> str:
        """All members, comma-separated: what daprd's --scheduler-host-address takes."""
        return ",".join(m.address for m in self.members)

    def start(self, timeout: float = 90) -> SchedulerGroup:
        for member in self.members:
            if not member.alive():
                member.launch()
        self.wait_healthy(timeout=timeout)
        return self

    def wait_healthy(self, members: list[int] | None = None, timeout: float = 90) -> None:
        chosen = [self.members[i] for i in members] if members else self.members
        wait_until(
            lambda: all(m._up() for m in chosen),
            timeout=timeout,
            what=f"{len(chosen)} scheduler(s) of the group to answer /healthz",
        )

    def kill(self, index: int) -> None:
        """SIGKILL one member, as a crash would."""
        self.members[index].kill()

    def restart(self, index: int) -> None:
        """Start a killed member again on its ports and data dir (it rejoins the group)."""
        self.members[index].launch()

    def healthy(self) -> list[bool]:
        return [m.healthy() for m in self.members]

    def stop(self) -> None:
        for member in self.members:
            member.stop(timeout=5)

    def __enter__(self) -> SchedulerGroup:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Replicas:
    """`count` instances of job_service, each with its own sidecar, all with ONE app ID.

    With `first`, that running JobService is replica 0 and count - 1 more join its app ID;
    stop() leaves `first` running.
    """

    def __init__(
        self,
        scheduler,
        count: int = 3,
        *,
        app_id: str | None = None,
        log_dir: Path | None = None,
        first: JobService | None = None,
    ):
        self.app_id = first.app_id if first else app_id or unique_name("replicated")
        log_dir = Path(log_dir or tempfile.mkdtemp(prefix="replicas-", dir=scratch_dir()))
        self.owned = [
            JobService(scheduler, app_id=self.app_id, log_dir=log_dir / f"r{i}")
            for i in range(1 if first else 0, count)
        ]
        self.services = ([first] if first else []) + self.owned

    def healthy(self) -> bool:
        return all(s.app.alive() and s.sidecar.healthy() for s in self.services)

    @property
    def jobs(self):
        """The Jobs API of replica 0's sidecar (any replica's would do: same app ID)."""
        return self.services[0].jobs

    def start(self) -> Replicas:
        for service in self.services:
            service.start()
        return self

    def by_replica(self, prefix: str = "") -> list[list[dict]]:
        """Per replica, the triggers it received whose job name starts with `prefix`."""
        return [[r for r in s.received() if r["name"].startswith(prefix)] for s in self.services]

    def delivered(self, prefix: str = "") -> collections.Counter:
        """How many times each job name reached any replica with a 200 answer."""
        return collections.Counter(
            r["name"] for got in self.by_replica(prefix) for r in got if r["status"] == 200
        )

    def arrivals(self, names) -> list[tuple[int, str, float]]:
        """(replica, job name, received_at) of every trigger of these jobs, oldest first."""
        wanted = set(names)
        rows = [
            (i, r["name"], r["received_at"])
            for i, got in enumerate(self.by_replica())
            for r in got
            if r["name"] in wanted
        ]
        return sorted(rows, key=lambda row: row[2])

    def stop(self) -> None:
        """Stop the replicas this object started (a `first` one keeps running)."""
        for service in self.owned:
            service.stop()

    def __enter__(self) -> Replicas:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


_replica_sets: dict[str, Replicas] = {}


def replicas_of(service: JobService, scheduler, count: int = 3) -> Replicas:
    """`count` replicas of `service`'s app, `service` being replica 0; idempotent."""
    current = _replica_sets.get(service.app_id)
    if current and current.healthy():
        return current
    if current:
        current.stop()
    _replica_sets[service.app_id] = Replicas(scheduler, count, first=service).start()
    return _replica_sets[service.app_id]


def schedule_many(
    sidecar_url: str, names: list[str], body: dict, *, api_token: str | None = None
) -> list[int]:
    """POST the same job body under many names (one connection); return the status codes."""
    headers = {"dapr-api-token": api_token} if api_token else {}
    with httpx.Client(base_url=f"{sidecar_url}/v1.0/jobs/", headers=headers, timeout=30) as http:
        return [http.post(name, json=body).status_code for name in names]


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket process `pid` listens on (psutil, so not only on
    Linux). IPv6 addresses are written out in full ("0000:...:0000" for all interfaces), an
    IPv4-mapped one as "::ffff:a.b.c.d"."""
    found = set()
    for conn in psutil.Process(pid).net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN:
            found.add((_written_out(conn.laddr.ip), conn.laddr.port))
    return sorted(found)


def _written_out(ip: str) -> str:
    address = ipaddress.ip_address(ip.split("%", 1)[0])  # drop an IPv6 zone ("%eth0")
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped:
        return f"::ffff:{address.ipv4_mapped}"
    return address.exploded


# --- for notebook 07: a scheduler of its own, since it is killed on purpose ------------------

_playground: dict = {}


def playground() -> tuple[Scheduler, JobService]:
    """A private scheduler (free ports, fresh data dir) and job_service on it; idempotent.

    Never kill a scheduler others use: the notebook kills this one."""
    scheduler, service = _playground.get("scheduler"), _playground.get("service")
    if scheduler and service and scheduler.healthy() and service.sidecar.healthy():
        return scheduler, service
    close_playground(quiet=True)
    scheduler = Scheduler.isolated().start()
    service = JobService(scheduler, log_dir=scheduler.data_dir.parent).start()
    _playground.update(scheduler=scheduler, service=service)
    print(
        f"private scheduler at {scheduler.address} (data in {scheduler.data_dir}); "
        f"job_service '{service.app_id}', its sidecar at {service.sidecar.http_url}"
    )
    return scheduler, service


def close_playground(quiet: bool = False) -> None:
    """Stop the private scheduler and job_service, and delete the scheduler's data dir."""
    scheduler, service = _playground.pop("scheduler", None), _playground.pop("service", None)
    if service:
        service.stop()
    if scheduler:
        scheduler.stop()
        shutil.rmtree(scheduler.data_dir.parent, ignore_errors=True)
    if not quiet:
        print(
            "private scheduler and job_service stopped, data dir removed"
            if scheduler
            else "no private scheduler was running"
        )
