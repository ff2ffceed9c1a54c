"""What notebook 10 (to production) teaches that the fault tests do not assert: how a sidecar
finds an HA scheduler group with a member down, what jobs cost in etcd, and the scheduler
topology read from the rendered Helm chart.

(test_faults.py asserts the group itself: one member lost loses no job, two lost refuse a
schedule call and fire nothing, the quorum back fires again.)
"""

from __future__ import annotations

import contextlib

import httpx
import pytest

from workbook.experiments.faults import SchedulerGroup, schedule_many
from workbook.lessons import production
from workbook.runtime.apps import unique_name
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.sidecar import Sidecar
from workbook.runtime.waiting import wait_until

# A sidecar given a live member lists the group within ~2 s (measured on a busy machine: 2.1 s);
# one given only a dead member never does. This is how long the test gives either.
FIND_GROUP_S = 10


@pytest.fixture
def stack():
    with contextlib.ExitStack() as exits:
        yield exits


def probe(stack, tmp_path, address: str) -> Sidecar:
    sidecar = Sidecar(
        unique_name("probe"),
        scheduler_address=address,
        log_path=tmp_path / f"{unique_name('d')}.log",
    )
    stack.callback(sidecar.stop)
    return sidecar.launch()


def test_a_sidecar_finds_the_group_through_any_live_member_only(stack, tmp_path):
    group = SchedulerGroup(3, tmp_path / "group").start()
    stack.callback(group.stop)
    group.kill(0)
    dead, live = group.members[0].address, [m.address for m in group.members[1:]]

    # Launched side by side: the full list, one live member alone, the dead member alone.
    full, one, none = (probe(stack, tmp_path, a) for a in (group.address, live[1], dead))
    for sidecar in (full, one):
        wait_until(
            lambda s=sidecar: production.hosts_lines(s.log_path),
            timeout=FIND_GROUP_S,
            what="the sidecar to receive the group's addresses",
        )
        # From the member it reaches, daprd receives the addresses to use: members of the group,
        # at least one alive (the dead one may still be listed until its lease expires; right
        # after the kill a live member may also list only itself: both seen).
        received = set(production.hosts_lines(sidecar.log_path)[-1].split())
        assert received <= {dead, *live}, received
        assert received & set(live), received
        sidecar.wait_ready(timeout=20)
        job = f"{sidecar.http_url}/v1.0/jobs/{unique_name('probe')}"
        assert httpx.post(job, json={"dueTime": "1h"}, timeout=35).status_code == 204
        assert httpx.delete(job, timeout=35).status_code == 204

    # Given only the dead member, it finds nothing and never becomes healthy.
    assert production.hosts_lines(none.log_path) == []
    assert not none.healthy()


def test_etcd_holds_a_few_hundred_bytes_per_job(stack, tmp_path):
    scheduler = Scheduler.isolated(tmp_path)
    stack.callback(scheduler.stop)
    scheduler.start()
    sidecar = Sidecar(
        unique_name("sizing"), scheduler_address=scheduler.address, log_path=tmp_path / "d.log"
    )
    stack.callback(sidecar.stop)
    sidecar.start()
    empty = production.etcd_db_metrics(scheduler)
    names = [f"size-{i:04d}" for i in range(100)]
    body = {"schedule": "@every 1h", "data": production.DATA}
    assert schedule_many(sidecar.http_url, names, body) == [204] * 100
    full = production.etcd_db_metrics(scheduler)
    per_job = (full["in use"] - empty["in use"]) / 100
    print(f"\netcd in use: {empty['in use']} -> {full['in use']} bytes, {per_job:.0f} per job")
    assert 150 < per_job < 1500, per_job  # measured: 389 bytes per job of this body
    assert full["file"] >= full["in use"]

    scheduler.stop()
    sizes = production.data_dir_sizes(scheduler.data_dir)
    wal = [size for path, size in sizes.items() if path.endswith(".wal")]
    assert wal
    assert all(size == 64_000_000 for size in wal)  # preallocated, not grown
    assert "dapr-0.1" in production.etcd_db(scheduler.data_dir).parts  # the versioned layout


def test_the_rendered_chart_runs_the_same_group():
    if not production.RENDERED.exists():
        pytest.fail(f"{production.RENDERED} is missing: run `make k8s`")
    chart = production.chart_topology()
    assert chart["scheduler replicas"] == 3
    peers = chart["scheduler --etcd-initial-cluster"]
    assert [p.split("=", 1)[0] for p in peers] == [f"dapr-scheduler-server-{i}" for i in range(3)]
    assert chart["scheduler --id"] == "$(SCHEDULER_ID)"
    assert chart["volume claim"] == {"dapr-scheduler-data-dir": "16Gi"}
    assert chart["scheduler anti-affinity"] == "required per kubernetes.io/hostname"
    assert chart["placement replicas"] == 3
    assert chart["service in front"]["ports"]["api"] == 443
