"""How large the scheduler's embedded etcd grows with its jobs, read with etcdctl.

    python -m bench.storage            1,000 and 10,000 jobs (`make bench`; about a minute)
    python -m bench.storage --smoke    200 jobs, seconds (tests/runtime/test_scheduler_keys.py)

For each size: a fresh scheduler (Scheduler.isolated(), empty data directory) and a sidecar
with no app; N one-shot jobs due in an hour (they never fire during the run), each with the
same 60-byte JSON data, scheduled on BULK_CONCURRENCY threads; then every job deleted. Read
before, after scheduling and after deleting: etcd's database file (`etcdctl endpoint status`:
dbSize, and dbSizeInUse, the part holding live data), the job keys, and the data directory on
disk (the write-ahead log is preallocated in 64 MB files, so it is read as blocks in use).
Results: bench/storage.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.clients import timed_calls
from jobs_client import job_path
from workbook import config
from workbook.runtime.etcd_store import SchedulerStore
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar

BULK_CONCURRENCY = 16
DATA = {"droid": "R2-D2", "task": "oil change", "bay": 7, "note": "x" * 12}
SIZES = {"full": (1_000, 10_000), "smoke": (200,)}
OUT = config.ROOT / "bench" / "storage.json"


def disk_bytes(folder: Path) -> int:
    """Bytes the folder's files really occupy on disk (allocated blocks, not apparent size)."""
    return sum(p.stat().st_blocks * 512 for p in Path(folder).rglob("*") if p.is_file())


def snapshot_of(store: SchedulerStore, scheduler: Scheduler) -> dict:
    status = store.status()
    return {
        "db_size": status["db_size"],
        "db_size_in_use": status["db_size_in_use"],
        "revision": status["revision"],
        "job_keys": store.count("dapr/jobs/"),
        "data_dir_on_disk": disk_bytes(scheduler.data_dir),
    }


def measure(count: int, *, log=print) -> dict:
    """Schedule `count` jobs on a fresh scheduler, read the sizes, delete them, read again."""
    # On disk always (not config.scratch_dir(), which make test puts on a RAM disk): the figures
    # are what a scheduler's data directory takes on a disk.
    root = config.STATE_DIR / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="bench-storage-", dir=root))
    body = json.dumps({"dueTime": "1h", "data": DATA}).encode()
    names = [f"storage-{i:05d}" for i in range(count)]
    try:
        with (
            Scheduler.isolated(base) as scheduler,
            Sidecar(
                "bench-storage",
                scheduler_address=scheduler.address,
                log_path=base / "daprd.log",
            ) as sidecar,
            httpx.Client(
                base_url=f"{sidecar.http_url}/v1.0/jobs/",
                headers={"content-type": "application/json"},
                limits=httpx.Limits(max_connections=BULK_CONCURRENCY),
                timeout=60,
            ) as http,
        ):
            store = SchedulerStore(scheduler)
            empty = snapshot_of(store, scheduler)
            took, _, _, errors = timed_calls(
                lambda n: http.post(job_path(n), content=body).status_code == 204,
                names,
                BULK_CONCURRENCY,
            )
            if errors:
                raise RuntimeError(f"{errors} of {count} jobs were not scheduled")
            full = snapshot_of(store, scheduler)
            _, _, _, errors = timed_calls(
                lambda n: http.delete(job_path(n)).status_code == 204,
                names,
                BULK_CONCURRENCY,
            )
            if errors:
                raise RuntimeError(f"{errors} of {count} jobs were not deleted")
            deleted = snapshot_of(store, scheduler)
            version = store.status()["version"]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    grew = full["db_size"] - empty["db_size"]
    run = {
        "jobs": count,
        "schedule_seconds": round(took, 2),
        "etcd_version": version,
        "empty": empty,
        "scheduled": full,
        "deleted": deleted,
        "db_growth_bytes": grew,
        "db_bytes_per_1000_jobs": round(grew / count * 1000),
        "in_use_bytes_per_1000_jobs": round(
            (full["db_size_in_use"] - empty["db_size_in_use"]) / count * 1000
        ),
    }
    log(describe(run))
    return run


def describe(run: dict) -> str:
    mib = 1024 * 1024
    return (
        f"{run['jobs']:>6,} jobs: database {run['empty']['db_size'] / mib:.2f} -> "
        f"{run['scheduled']['db_size'] / mib:.2f} MiB ({run['db_bytes_per_1000_jobs'] / 1024:.0f} "
        f"KiB per 1,000 jobs; in use {run['in_use_bytes_per_1000_jobs'] / 1024:.0f} KiB per "
        f"1,000), after deleting them all {run['deleted']['db_size'] / mib:.2f} MiB "
        f"(in use {run['deleted']['db_size_in_use'] / mib:.2f} MiB); data directory on disk "
        f"{run['scheduled']['data_dir_on_disk'] / mib:.1f} MiB; "
        f"{run['jobs'] / run['schedule_seconds']:.0f} jobs/s scheduled"
    )


def run_storage(profile: str = "full", *, log=print) -> dict:
    started = time.time()
    runs = [measure(count, log=log) for count in SIZES[profile]]
    return {"profile": profile, "seconds": round(time.time() - started, 1), "runs": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.storage", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="200 jobs only (seconds)")
    parser.add_argument("--out", type=Path, default=None, help=f"JSON file (default {OUT})")
    args = parser.parse_args(argv)
    profile = "smoke" if args.smoke else "full"
    results = run_storage(profile)
    out = args.out or (OUT if profile == "full" else None)
    if out:
        Path(out).write_text(json.dumps(results, indent=2) + "\n")
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
