"""What a scheduler holds, read with the real etcd client (etcdctl) from its embedded etcd.

The scheduler keeps every job, actor reminder and workflow timer in an embedded etcd, served
on its --etcd-client-port. etcdctl (built by runtime/extras.sh, `make extras`) reads it:

    store = SchedulerStore(scheduler)              # a Scheduler (its etcd client port)
    store.keys()                                   # every key under "dapr/", sorted
    store.entries("dapr/jobs/")                    # [(key, value bytes)], values are protobuf
    store.status()                                 # {"db_size": ..., "db_size_in_use": ...}
    store.snapshot(path)                           # `etcdctl snapshot save`: a backup file
    restore_snapshot(path, other_scheduler)        # `etcdctl snapshot restore` for its --id
    store.command("get", "dapr/jobs/", "--prefix", "--keys-only")   # the command line shown

`parse_key(key)` splits a job key into its parts (kind, namespace, app ID or actor, name).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from workbook import config

EXTRAS_STAMP = ".workbook-extras"
ROOT_PREFIX = "dapr/"
# The empty file a scheduler writes beside its etcd member folder; without it, the scheduler
# deletes the member folder's contents at start ("No existing cluster data found").
EXISTING_CLUSTER_MARKER = "dapr-scheduler-existing-cluster"


def extras_bin() -> Path:
    """Where runtime/extras.sh puts sentry and etcdctl (the same rule as its --print-bin):
    the Dapr home's bin when the workbook built that home, else the workbook's own folder."""
    if (config.DAPR_BIN / ".workbook-runtime-version").is_file():
        return config.DAPR_BIN
    return config.workbook_home() / f"extras-{config.RUNTIME_VERSION}" / "bin"


def extras_binary(name: str) -> Path:
    """Path of sentry or etcdctl; a clear error naming the command that builds them."""
    path = extras_bin() / name
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"{path} is missing: build it with `make extras` (runtime/extras.sh builds sentry "
            "and etcdctl from their Go modules; `make test` does it too)."
        )
    return path


@dataclass(frozen=True)
class JobKey:
    """One key of the scheduler's job table, split at its "||" separators."""

    key: str
    kind: str  # "app" (a job) or "actorreminder" (an actor reminder, workflow timers too)
    namespace: str
    owner: str  # the app ID of a job; "<actor type>||<actor id>" of a reminder
    name: str


def parse_key(key: str) -> JobKey:
    """Split "dapr/jobs/app||default||my-app||job-1" (or an actorreminder key) into parts."""
    table, _, rest = key.partition("||")
    kind = table.rsplit("/", 1)[-1]
    parts = rest.split("||")
    if kind == "app" and len(parts) >= 3:
        return JobKey(key, kind, parts[0], parts[1], "||".join(parts[2:]))
    if kind == "actorreminder" and len(parts) >= 4:
        return JobKey(key, kind, parts[0], f"{parts[1]}||{parts[2]}", "||".join(parts[3:]))
    raise ValueError(f"not a job key of the scheduler: {key!r}")


class SchedulerStore:
    """etcdctl pointed at one scheduler's embedded etcd."""

    def __init__(self, scheduler, *, timeout: float = 30):
        self.endpoint = f"127.0.0.1:{scheduler.ports['etcd_client_port']}"
        self.timeout = timeout

    def command(self, *args: str) -> list[str]:
        return [str(extras_binary("etcdctl")), f"--endpoints={self.endpoint}", *args]

    def run(self, *args: str) -> str:
        # etcdctl from the workbook's own build, an argument list, no shell
        command = self.command(*args)
        out = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout)  # noqa: S603
        if out.returncode != 0:
            raise RuntimeError(f"etcdctl {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def entries(self, prefix: str = ROOT_PREFIX) -> list[tuple[str, bytes]]:
        """(key, value) pairs under `prefix`, sorted by key (etcdctl's JSON, base64 decoded)."""
        reply = json.loads(self.run("get", prefix, "--prefix", "-w", "json"))
        pairs = [
            (base64.b64decode(kv["key"]).decode(), base64.b64decode(kv.get("value", "")))
            for kv in reply.get("kvs", [])
        ]
        return sorted(pairs)

    def keys(self, prefix: str = ROOT_PREFIX) -> list[str]:
        return [key for key, _ in self.entries(prefix)]

    def count(self, prefix: str = ROOT_PREFIX) -> int:
        reply = json.loads(self.run("get", prefix, "--prefix", "--keys-only", "-w", "json"))
        return int(reply.get("count", 0))

    def status(self) -> dict:
        """The database's size as etcd reports it: the file (db_size) and the part in use."""
        reply = json.loads(self.run("endpoint", "status", "-w", "json"))[0]["Status"]
        return {
            "db_size": int(reply["dbSize"]),
            "db_size_in_use": int(reply.get("dbSizeInUse", reply["dbSize"])),
            "revision": int(reply["header"]["revision"]),
            "version": reply["version"],
        }

    def snapshot(self, path: Path) -> Path:
        """A point-in-time copy of the database (`etcdctl snapshot save`), taken while it runs."""
        self.run("snapshot", "save", str(path))
        return Path(path)


def directory_bytes(folder: Path) -> int:
    """Bytes of all files under `folder` (the scheduler's data directory on disk)."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def member_dir(scheduler) -> Path:
    """Where a self-hosted scheduler keeps its etcd member: named after namespace and --id."""
    return scheduler.data_dir / f"default-{scheduler.id}" / "dapr-0.1"


def restore_snapshot(snapshot: Path, scheduler) -> list[str]:
    """`etcdctl snapshot restore` into the member folder `scheduler` (not running) will open,
    for its own --id and peer port; returns the command line it ran. The scheduler still wipes
    that folder at start unless its marker file (EXISTING_CLUSTER_MARKER) is there too."""
    peer = f"http://127.0.0.1:{scheduler.ports['etcd_peer_port']}"
    command = [
        str(extras_binary("etcdctl")),
        "snapshot",
        "restore",
        str(snapshot),
        f"--name={scheduler.id}",
        f"--initial-cluster={scheduler.id}={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--data-dir={member_dir(scheduler)}",
    ]
    subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)  # noqa: S603
    return command
