"""What the scheduler holds, read with the real etcd client (etcdctl, `make extras`) from its
embedded etcd: the keys of a job, an actor reminder, a workflow timer and a trigger counter,
with namespace and app ID in the key; how the database grows (a 200-job smoke of
bench/storage.py); backup and restore of the data directory, and where that stops working."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx

from bench import storage
from workbook.experiments.droid_actor.harness import write_actor_store
from workbook.experiments.patrol_workflow.harness import PatrolWorkflow
from workbook.runtime.apps import unique_name
from workbook.runtime.etcd_store import SchedulerStore, extras_binary, parse_key
from workbook.runtime.processes import free_port
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_until

MARKER = "dapr-scheduler-existing-cluster"  # the scheduler's "this data is mine" file


class NamespacedSidecar(Sidecar):
    """daprd in another namespace: self-hosted daprd takes it from NAMESPACE."""

    def __init__(self, app_id: str, *, namespace: str, **options):
        self.namespace = namespace
        super().__init__(app_id, **options)

    def env(self) -> dict[str, str]:
        return {**super().env(), "NAMESPACE": self.namespace}


def test_job_and_reminder_keys_side_by_side(plane, droid):
    store = SchedulerStore(plane.scheduler)
    actor = unique_name("r2d2")
    jobs = f"{droid.sidecar.http_url}/v1.0/jobs"
    assert httpx.post(f"{jobs}/oil-change", json={"dueTime": "1h"}).status_code == 204
    reminder = droid.reminder_url(actor, "oil")
    assert httpx.post(reminder, json={"dueTime": "1h", "period": "1h"}).status_code == 204
    try:
        keys = store.keys()
        assert f"dapr/jobs/app||default||{droid.app_id}||oil-change" in keys
        assert f"dapr/jobs/actorreminder||default||Droid||{actor}||oil" in keys
        assert "dapr/leadership/dapr-scheduler-server-0" in keys
        job = parse_key(f"dapr/jobs/app||default||{droid.app_id}||oil-change")
        assert (job.kind, job.namespace, job.owner, job.name) == (
            "app",
            "default",
            droid.app_id,
            "oil-change",
        )
        values = dict(store.entries("dapr/jobs/"))
        # values are protobuf: the reminder's period is kept as the scheduler's own schedule
        assert b"@every 1h0m0s" in values[f"dapr/jobs/actorreminder||default||Droid||{actor}||oil"]
    finally:
        httpx.delete(f"{jobs}/oil-change", timeout=5)
        httpx.delete(reminder, timeout=5)
    assert not [k for k in store.keys("dapr/jobs/") if droid.app_id in k or actor in k]


def test_namespace_is_part_of_the_key_and_of_the_scope(plane, tmp_path):
    store = SchedulerStore(plane.scheduler)
    app_id, name = unique_name("fleet-app"), "refuel"
    with (
        NamespacedSidecar(
            app_id,
            namespace="fleet",
            scheduler_address=plane.scheduler_address,
            log_path=tmp_path / "fleet.log",
        ) as fleet,
        Sidecar(
            app_id, scheduler_address=plane.scheduler_address, log_path=tmp_path / "d.log"
        ) as default,
    ):
        assert (
            httpx.post(f"{fleet.http_url}/v1.0/jobs/{name}", json={"dueTime": "1h"}).status_code
            == 204
        )
        try:
            assert store.keys(f"dapr/jobs/app||fleet||{app_id}||") == [
                f"dapr/jobs/app||fleet||{app_id}||{name}"
            ]
            assert httpx.get(f"{fleet.http_url}/v1.0/jobs/{name}", timeout=10).status_code == 200
            # the same app ID in namespace "default" does not see it (a missing job is a 500)
            assert httpx.get(f"{default.http_url}/v1.0/jobs/{name}", timeout=10).status_code == 500
        finally:
            httpx.delete(f"{fleet.http_url}/v1.0/jobs/{name}", timeout=10)


def test_a_recurring_job_gets_a_counter_key_once_it_fired(scheduler, job_service, job_name):
    store = SchedulerStore(scheduler)
    name = job_name("counted")
    job_service.jobs.schedule(name, schedule="@every 1h", due_time="0s", data={"n": 1})
    job_service.wait_for_trigger(name)
    counter = f"dapr/counters/app||default||{job_service.app_id}||{name}"
    wait_until(lambda: counter in store.keys("dapr/counters/"), timeout=10, what=counter)
    job_service.jobs.delete(name)
    wait_until(
        lambda: counter not in store.keys("dapr/counters/"),
        timeout=10,
        what="the counter to go with its job",
    )


def test_database_growth_smoke():
    run = storage.measure(200, log=lambda _: None)
    assert run["etcd_version"] == "3.5.30"  # the etcd embedded in scheduler 1.18.3
    assert run["empty"]["job_keys"] == 0
    assert run["scheduled"]["job_keys"] == 200
    assert run["deleted"]["job_keys"] == 0
    assert run["db_growth_bytes"] > 0
    # a job with 60 bytes of data takes a few hundred bytes of live data (about 0.2-0.3 KB)
    assert 100_000 <= run["in_use_bytes_per_1000_jobs"] <= 2_000_000, run
    # deleting every job does not shrink the file: etcd keeps the history (compaction by
    # revision count, 1,000,000 by default) and bbolt never gives pages back without a defrag
    assert run["deleted"]["db_size"] >= run["scheduled"]["db_size"]


def test_backup_and_restore_of_the_data_directory(tmp_path):
    first = Scheduler.isolated(tmp_path / "first")
    backup, snapshot = tmp_path / "backup", tmp_path / "snapshot.db"
    with first:
        with Sidecar(
            "restored", scheduler_address=first.address, log_path=tmp_path / "a.log"
        ) as sc:
            assert (
                httpx.post(f"{sc.http_url}/v1.0/jobs/keep", json={"dueTime": "1h"}).status_code
                == 204
            )
        SchedulerStore(first).snapshot(snapshot)  # online, while it runs
        assert snapshot.stat().st_size > 0
    shutil.copytree(first.data_dir, backup)  # offline copy of a stopped scheduler
    assert sorted(p.name for p in backup.iterdir()) == [MARKER, "default-dapr-scheduler-server-0"]

    def keys_of(target: Scheduler) -> list[str]:
        with target:
            return SchedulerStore(target).keys("dapr/jobs/")

    job_key = "dapr/jobs/app||default||restored||keep"
    # 1. the copy restored under the same scheduler ID, on other ports: the job is back
    moved = Scheduler.isolated(tmp_path / "moved")
    shutil.copytree(backup, moved.data_dir)
    assert keys_of(moved) == [job_key]
    # 2. under another scheduler ID it is not found: the data folder is named after the ID
    other = Scheduler(
        data_dir=tmp_path / "other" / "data",
        log_path=tmp_path / "other" / "scheduler.log",
        scheduler_id="dapr-scheduler-server-1",
        **{port: free_port() for port in first.ports},
    )
    shutil.copytree(backup, other.data_dir)
    assert keys_of(other) == []
    # 3. an etcd snapshot restored with etcdctl alone is wiped at start (no marker file) ...
    for with_marker in (False, True):
        target = Scheduler.isolated(tmp_path / f"snap-{with_marker}")
        peer = f"http://127.0.0.1:{target.ports['etcd_peer_port']}"
        member = target.data_dir / f"default-{target.id}" / "dapr-0.1"
        restore = [
            str(extras_binary("etcdctl")),
            "snapshot",
            "restore",
            str(snapshot),
            f"--name={target.id}",
            f"--initial-cluster={target.id}={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--data-dir={member}",
        ]
        subprocess.run(restore, check=True, capture_output=True, timeout=60)
        if with_marker:  # ... and kept when the scheduler's marker file is put beside it
            (target.data_dir / MARKER).touch()
        assert keys_of(target) == ([job_key] if with_marker else [])


def test_a_workflow_timer_is_a_reminder_of_the_workflow_actor(plane, tmp_path):
    """The workflow engine (built with durabletask-go v0.12.1) works: a durable timer is an
    actor reminder of the app's internal workflow actor, gone once the workflow completed."""
    store = SchedulerStore(plane.scheduler)
    resources = write_actor_store(tmp_path / "resources")
    with PatrolWorkflow(plane, resources_path=resources, log_dir=tmp_path) as patrol:
        started = httpx.post(patrol.start_url("patrol-1"), json={"droid": "BB-8", "seconds": 3})
        assert started.status_code == 202
        assert started.json() == {"instanceID": "patrol-1"}
        timer = (
            f"dapr/jobs/actorreminder||default||dapr.internal.default.{patrol.app_id}.workflow"
            "||patrol-1||timer-1"
        )
        wait_until(lambda: timer in store.keys("dapr/jobs/"), timeout=20, what=timer)
        assert patrol.status("patrol-1")["runtimeStatus"] == "RUNNING"
        done = patrol.wait_for_status("patrol-1", "COMPLETED")
        assert json.loads(done["properties"]["dapr.workflow.output"]) == {
            "patrolled": "BB-8",
            "after_seconds": 3.0,
        }
        assert timer not in store.keys("dapr/jobs/")
