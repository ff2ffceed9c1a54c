"""What notebook 10 (to production) uses: an HA group of three schedulers with job_service on
it, trigger counting per second, the scheduler topology of Dapr's rendered Helm chart, and the
size of a scheduler's data directory.

    group, service = ha_group()              # 3 schedulers (free ports) + job_service on all 3
    rate(service, names, since, until)       # triggers per second of these jobs in a window
    chart = chart_topology()                 # k8s/rendered/dapr-ha.yaml, read with PyYAML
    data_dir_sizes(scheduler.data_dir)       # the etcd files and their sizes
"""

from __future__ import annotations

import collections
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from workbook.config import ROOT, scratch_dir
from workbook.experiments.faults import SchedulerGroup
from workbook.lessons.leadership import json_log_entries
from workbook.runtime.apps import JobService
from workbook.runtime.scheduler import Scheduler

DATA = {"droid": "R2-D2", "task": "Oil Change"}
RENDERED = ROOT / "k8s" / "rendered" / "dapr-ha.yaml"
HOSTS_LINE = "received scheduler hosts addresses"


def ha_group() -> tuple[SchedulerGroup, JobService]:
    """Three schedulers as one HA group on free ports, and job_service whose daprd is given
    all three addresses (--scheduler-host-address a,b,c)."""
    base = Path(tempfile.mkdtemp(prefix="ha-group-", dir=scratch_dir()))
    group = SchedulerGroup(3, base).start()
    try:
        service = JobService(group, log_dir=base / "service").start()
    except Exception:
        group.stop()
        raise
    for i, member in enumerate(group.members):
        print(f"member {i}: --id {member.id}, gRPC {member.address}, data {member.data_dir}")
    print(f"job_service '{service.app_id}', its sidecar at {service.sidecar.http_url}")
    print(f"  daprd --scheduler-host-address {service.sidecar.scheduler_address}")
    return group, service


def remove_group(group: SchedulerGroup) -> None:
    """Stop every member and delete the group's directory (data dirs, logs): three etcd
    write-ahead logs are 64 MB each."""
    group.stop()
    shutil.rmtree(group.members[0].data_dir.parent.parent, ignore_errors=True)


def hosts_lines(log_path: Path) -> list[str]:
    """The scheduler addresses daprd says it received, one entry per time it said so."""
    found = []
    for line in Path(log_path).read_text(errors="replace").splitlines():
        if HOSTS_LINE in line and "[" in line:
            found.append(line.split("[", 1)[1].split("]", 1)[0])
    return found


def raft_leader_events(log_path: Path, after: float) -> list[tuple[float, str]]:
    """(time, message) of a scheduler's etcd raft leader changes logged after `after`."""
    events = []
    for when, entry in json_log_entries(log_path):
        message = str(entry.get("msg", ""))
        if when > after and entry.get("logger") == "raft" and "leader" in message:
            events.append((when, message))
    return events


def arrivals(service: JobService, names) -> list[dict]:
    """The triggers of these jobs that reached job_service, oldest first."""
    wanted = set(names)
    return [r for r in service.received() if r["name"] in wanted]


def rate(service: JobService, names, since: float, until: float) -> tuple[float, set]:
    """Triggers per second of these jobs between two instants, and which jobs fired then."""
    got = [r for r in arrivals(service, names) if since < r["received_at"] <= until]
    return len(got) / (until - since), {r["name"] for r in got}


def per_second(service: JobService, names, since: float) -> list[int]:
    """How many triggers of these jobs arrived in each whole second after `since`."""
    seconds = [int(r["received_at"] - since) for r in arrivals(service, names)]
    counted = collections.Counter(s for s in seconds if s >= 0)
    return [counted.get(s, 0) for s in range(max(counted, default=-1) + 1)]


def raft_leader(group: SchedulerGroup) -> int | None:
    """Which member's etcd is the raft leader now (`etcd_server_is_leader` on its metrics)."""
    for index, member in enumerate(group.members):
        if not member.alive():
            continue
        text = httpx.get(f"http://127.0.0.1:{member.ports['metrics_port']}/metrics", timeout=5).text
        if "\netcd_server_is_leader 1" in text:
            return index
    return None


def timed_post(url: str, body: dict, timeout: float = 60) -> tuple[httpx.Response, float]:
    """POST and measure how long the answer took."""
    started = time.time()
    answer = httpx.post(url, json=body, timeout=timeout)
    return answer, time.time() - started


# --- the same topology in Dapr's Helm chart, rendered offline (k8s/rendered/) ---------------


def rendered_objects(path: Path = RENDERED) -> list[dict]:
    """Every Kubernetes object of a rendered manifest file (PyYAML, all documents)."""
    with Path(path).open() as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def _find(objects: list[dict], kind: str, name: str) -> dict:
    for obj in objects:
        if obj.get("kind") == kind and obj["metadata"]["name"] == name:
            return obj
    raise LookupError(f"no {kind} named {name!r} in the rendered chart")


def _flag(args: list[str], flag: str) -> str | None:
    """The value of `--flag value` or `--flag=value` in a container's args."""
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(f"{flag}="):
            return arg.split("=", 1)[1]
    return None


def _anti_affinity(pod_spec: dict) -> str:
    anti = pod_spec.get("affinity", {}).get("podAntiAffinity", {})
    for rule, terms in anti.items():
        keys = {
            t.get("topologyKey") or t.get("podAffinityTerm", {}).get("topologyKey") for t in terms
        }
        return f"{rule.split('During')[0]} per {', '.join(sorted(k for k in keys if k))}"
    return "none"


def chart_topology(path: Path = RENDERED) -> dict:
    """The scheduler and placement of the rendered chart: replicas, etcd peers, volume, spread."""
    objects = rendered_objects(path or RENDERED)
    scheduler = _find(objects, "StatefulSet", "dapr-scheduler-server")
    placement = _find(objects, "StatefulSet", "dapr-placement-server")
    pod = scheduler["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "dapr-scheduler-server")
    args = container.get("args", [])
    claims = scheduler["spec"].get("volumeClaimTemplates", [])
    budget = _find(objects, "PodDisruptionBudget", "dapr-scheduler-server-disruption-budget")
    front = _find(objects, "Service", "dapr-scheduler-server-a")
    return {
        "scheduler replicas": scheduler["spec"]["replicas"],
        "scheduler --id": _flag(args, "--id"),
        "scheduler --etcd-initial-cluster": (_flag(args, "--etcd-initial-cluster") or "").split(
            ","
        ),
        "scheduler --etcd-data-dir": _flag(args, "--etcd-data-dir"),
        "volume claim": {
            c["metadata"]["name"]: c["spec"]["resources"]["requests"]["storage"] for c in claims
        },
        "scheduler anti-affinity": _anti_affinity(pod),
        "disruption budget maxUnavailable": budget["spec"].get("maxUnavailable"),
        "service in front": {
            "name": front["metadata"]["name"],
            "ports": {p["name"]: p["port"] for p in front["spec"]["ports"]},
        },
        "placement replicas": placement["spec"]["replicas"],
        "placement anti-affinity": _anti_affinity(placement["spec"]["template"]["spec"]),
    }


# --- sizing and backups of one scheduler's data directory ---------------------------------


def data_dir_sizes(data_dir: Path) -> dict[str, int]:
    """Each file under the data directory (relative path) and its size in bytes."""
    root = Path(data_dir)
    return {
        str(p.relative_to(root)): p.stat().st_size for p in sorted(root.rglob("*")) if p.is_file()
    }


def etcd_db(data_dir: Path) -> Path:
    """etcd's database file (bbolt) inside a scheduler's data directory."""
    return next(Path(data_dir).rglob("member/snap/db"))


def etcd_db_metrics(scheduler: Scheduler) -> dict[str, int]:
    """etcd's own figures of its database from the scheduler's metrics endpoint: the file size
    and the part of it in use (bytes)."""
    text = httpx.get(f"http://127.0.0.1:{scheduler.ports['metrics_port']}/metrics", timeout=5).text
    wanted = {
        "etcd_mvcc_db_total_size_in_bytes": "file",
        "etcd_mvcc_db_total_size_in_use_in_bytes": "in use",
    }
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in wanted:
            found[wanted[name]] = int(float(value))
    return found


def copy_data_dir(source: Path, target: Path) -> int:
    """Copy a (stopped) scheduler's whole data directory; return the bytes copied."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return sum(data_dir_sizes(target).values())


def mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 2**10:.0f} KiB"
