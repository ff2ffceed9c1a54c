"""Faults against the real runtime: a scheduler crash, a sidecar or app that goes away, three
app replicas, a three-scheduler HA group, a lost data directory.

Each test starts its own scheduler(s) on free loopback ports with a fresh data directory, and
prints what it measured (run with -s to see): jobs lost, duplicates, recovery time.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time

import httpx
import pytest

from jobs_client import DaprError
from workbook.experiments.faults import Replicas, SchedulerGroup, schedule_many
from workbook.runtime.apps import JobService, unique_name
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.waiting import wait_until

DATA = {"droid": "R2-D2", "task": "Oil Change"}
# After a SIGKILL the scheduler's leadership lease (20 s in go-etcd-cron) must expire before
# triggers flow again; this bound leaves room for that on a busy two-core machine.
LEASE_RECOVERY = 60


@pytest.fixture
def stack():
    """Everything a test starts goes on this stack and is stopped when the test ends."""
    with contextlib.ExitStack() as exits:
        yield exits


def start(stack: contextlib.ExitStack, thing):
    stack.callback(thing.stop)
    return thing.start()


def report(fault: str, **figures) -> None:
    shown = ", ".join(f"{k}={v}" for k, v in figures.items())
    print(f"\nFAULT {fault}: {shown}")


def first_arrivals(service, names: list[str]) -> list[float]:
    return [service.received(n)[0]["received_at"] for n in names]


def duplicates(counts: list[int]) -> int:
    return sum(c - 1 for c in counts if c > 1)


# Delivery is at least once: a trigger sent just before a fault, whose ack was lost with it,
# may come again. A rare duplicate is counted and reported, not asserted away; many would
# mean the fault replays triggers wholesale.
MAX_DUPLICATE_SHARE = 0.1
# A scheduler member lost mid-delivery: its in-flight triggers are delivered again by the next
# owner (measured: 5 of 30 twice in a loaded make test, 0 on a quiet machine). Still none lost
# and none more than twice.
HA_LOSS_DUPLICATE_SHARE = 0.25


def at_least_once(counts: list[int], max_share: float = MAX_DUPLICATE_SHARE) -> int:
    """Assert every job arrived (none lost), each at most twice and only a few twice; return
    the duplicates, which the test reports."""
    assert min(counts) >= 1, f"lost: {counts.count(0)} of {len(counts)} jobs never arrived"
    assert max(counts) <= 2, f"a trigger arrived {max(counts)} times: {counts}"
    allowed = max(1, int(max_share * len(counts)))
    assert duplicates(counts) <= allowed, f"{duplicates(counts)} duplicates: {counts}"
    return duplicates(counts)


def failed_attempts(sidecar_log: str, name: str) -> int:
    """How often daprd could not reach the app with job `name` (connection refused)."""
    return len(
        re.findall(rf"/job/{re.escape(name)}\\?\": dial tcp .*connection refused", sidecar_log)
    )


def test_scheduler_sigkill_loses_no_pending_job(stack, tmp_path):
    scheduler = start(stack, Scheduler.isolated(tmp_path))
    service = start(stack, JobService(scheduler, log_dir=tmp_path))
    pending = [unique_name("pending") for _ in range(20)]
    recurring = unique_name("recurring")

    scheduled_at = time.time()
    assert (
        schedule_many(service.sidecar.http_url, pending, {"dueTime": "4s", "data": DATA})
        == [204] * 20
    )
    service.jobs.schedule(recurring, schedule="@every 1s", repeats=6, data=DATA)
    service.wait_for_trigger(recurring, timeout=10)  # it runs before the crash

    scheduler.kill()  # SIGKILL: no clean shutdown, no lease revoked
    killed_at = time.time()
    assert killed_at < scheduled_at + 4, "the crash must come before the jobs fall due"
    scheduler.start()  # same data dir, same ports
    restarted_at = time.time()

    for name in pending:
        service.wait_for_trigger(name, timeout=LEASE_RECOVERY)
    arrivals = first_arrivals(service, pending)
    counts = [len(service.received(n)) for n in pending]
    dups = at_least_once(counts)
    assert min(arrivals) >= scheduled_at + 4 - 0.1  # never early

    triggers = service.wait_for_trigger(recurring, count=6, timeout=LEASE_RECOVERY)
    after_restart = [t["received_at"] for t in triggers if t["received_at"] > restarted_at]
    assert after_restart, "the recurring job resumed after the restart"
    wait_until(
        lambda: not service.jobs.exists(recurring),
        timeout=10,
        what="the recurring job to be deleted after its 6 repeats",
    )
    assert not any(service.jobs.exists(n) for n in pending)  # one-shots delete themselves
    report(
        "scheduler SIGKILL + restart",
        lost=0,
        duplicates=dups,
        recovery_s=round(min(arrivals) - restarted_at, 1),
        late_by_s=round(max(arrivals) - (scheduled_at + 4), 1),
        recurring_burst=len([t for t in after_restart if t - after_restart[0] < 1]),
    )


def test_graceful_scheduler_restart_recovers_at_once(stack, tmp_path):
    scheduler = start(stack, Scheduler.isolated(tmp_path))
    service = start(stack, JobService(scheduler, log_dir=tmp_path))
    names = [unique_name("graceful") for _ in range(10)]
    scheduled_at = time.time()
    assert (
        schedule_many(service.sidecar.http_url, names, {"dueTime": "3s", "data": DATA})
        == [204] * 10
    )
    scheduler.stop()  # SIGTERM: the scheduler gives its leadership lease back
    scheduler.start()
    for name in names:
        service.wait_for_trigger(name, timeout=20)
    arrivals = first_arrivals(service, names)
    late = max(arrivals) - (scheduled_at + 3)
    assert late < 5, f"a graceful restart should not hold triggers back ({late:.1f} s late)"
    dups = at_least_once([len(service.received(n)) for n in names])
    report(
        "scheduler graceful restart",
        lost=0,
        duplicates=dups,
        late_by_s=round(late, 2),
    )


def test_held_triggers_reach_a_restarted_sidecar(stack, tmp_path):
    scheduler = start(stack, Scheduler.isolated(tmp_path))
    service = start(stack, JobService(scheduler, log_dir=tmp_path / "service"))
    # A second app on the same scheduler: its trigger proves the jobs have fallen due.
    witness = start(stack, JobService(scheduler, log_dir=tmp_path / "witness"))
    names = [unique_name("held") for _ in range(5)]
    fence = unique_name("fence")

    due_at = time.time() + 2
    for name in names:
        service.jobs.schedule(name, due_time="2s", data=DATA)
    service.sidecar.stop()  # no sidecar of this app id is connected now
    witness.jobs.schedule(fence, due_time="3s", data=DATA)
    witness.wait_for_trigger(fence, timeout=20)
    assert time.time() > due_at
    assert service.received() == []  # due, but held

    restarting_at = time.time()
    service.sidecar.start()
    for name in names:
        service.wait_for_trigger(name, timeout=20)
    arrivals = first_arrivals(service, names)
    counts = [len(service.received(n)) for n in names]
    dups = at_least_once(counts)
    assert max(arrivals) - restarting_at < 10
    report(
        "daprd stopped while jobs fall due",
        lost=0,
        duplicates=dups,
        held_for_s=round(min(arrivals) - due_at, 1),
        delivered_after_daprd_start_s=round(max(arrivals) - restarting_at, 2),
    )


def test_app_down_retries_then_delivers_or_drops(stack, tmp_path):
    scheduler = start(stack, Scheduler.isolated(tmp_path))
    service = start(stack, JobService(scheduler, log_dir=tmp_path))
    back, gone, dropped = unique_name("back"), unique_name("gone"), unique_name("dropped")

    service.stop_app()  # the sidecar stays up; the app's port refuses connections
    stopped_at = time.time()
    service.jobs.schedule(
        back,
        due_time="1s",
        data=DATA,
        failure_policy={"constant": {"interval": "1s", "maxRetries": 10}},
    )
    service.jobs.schedule(
        gone,
        due_time="1s",
        data=DATA,
        failure_policy={"constant": {"interval": "1s", "maxRetries": 1}},
    )
    service.jobs.schedule(dropped, due_time="1s", data=DATA, failure_policy={"drop": {}})
    # `gone` gives up after 1 + 1 attempts; the scheduler then deletes it.
    wait_until(
        lambda: not service.jobs.exists(gone) and not service.jobs.exists(dropped),
        timeout=20,
        what="the jobs with few retries to be given up",
    )
    assert service.jobs.exists(back)  # still inside its retry window

    service.start_app()
    back_at = time.time()
    [delivered] = service.wait_for_trigger(back, timeout=20)
    log = service.sidecar.process.log_text()
    attempts = {n: failed_attempts(log, n) for n in (back, gone, dropped)}
    assert attempts[gone] == 2
    assert attempts[dropped] == 1
    assert 1 <= attempts[back] <= 11
    assert service.received(gone) == []
    assert service.received(dropped) == []  # lost
    assert not service.jobs.exists(back)  # delivered, so deleted
    report(
        "app down, sidecar up",
        lost="2 of 3 (retries exhausted / drop policy)",
        duplicates=0,
        failed_attempts=list(attempts.values()),
        delivered_after_app_back_s=round(delivered["received_at"] - back_at, 2),
        app_down_for_s=round(back_at - stopped_at, 1),
    )


def test_three_replicas_share_100_triggers(stack, tmp_path):
    scheduler = start(stack, Scheduler.isolated(tmp_path))
    replicas = start(stack, Replicas(scheduler, 3, log_dir=tmp_path))
    prefix = unique_name("hundred")
    names = [f"{prefix}-{i:03d}" for i in range(100)]

    scheduled_at = time.time()
    codes = schedule_many(
        replicas.services[0].sidecar.http_url, names, {"dueTime": "3s", "data": DATA}
    )
    assert codes == [204] * 100
    wait_until(
        lambda: len(replicas.delivered(prefix)) == 100,
        timeout=60,
        what="all 100 one-shot jobs to reach some replica",
    )
    delivered = replicas.delivered(prefix)
    spread = [len(got) for got in replicas.by_replica(prefix)]
    dups = sum(delivered.values()) - 100
    assert set(delivered) == set(names)  # none lost
    assert dups <= 5, f"{dups} duplicates in a run without faults"
    assert all(count >= 10 for count in spread), f"uneven spread {spread}"
    took = max(r["received_at"] for got in replicas.by_replica(prefix) for r in got)

    recurring = unique_name("every")
    replicas.jobs.schedule(recurring, schedule="@every 100ms", repeats=100, data=DATA)
    wait_until(
        lambda: replicas.delivered(recurring)[recurring] >= 100,
        timeout=60,
        what="100 triggers of one recurring job",
    )
    recurring_spread = [len(got) for got in replicas.by_replica(recurring)]
    assert sum(recurring_spread) == 100  # repeats=100: exactly 100, then deleted
    assert all(count >= 10 for count in recurring_spread)
    report(
        "3 replicas, 100 one-shot jobs",
        lost=0,
        duplicates=dups,
        spread=spread,
        all_in_s=round(took - scheduled_at, 2),
        recurring_spread=recurring_spread,
    )


def test_ha_scheduler_group_survives_one_loss_not_two(stack, tmp_path):
    group = start(stack, SchedulerGroup(3, tmp_path / "group"))
    service = start(stack, JobService(group, log_dir=tmp_path))
    service.sidecar.process.wait_for_log(
        r"received scheduler hosts addresses: \[\S+ \S+ \S+\]", timeout=20
    )

    pending = [unique_name("ha") for _ in range(30)]
    recurring = unique_name("ha-every")
    scheduled_at = time.time()
    assert (
        schedule_many(service.sidecar.http_url, pending, {"dueTime": "4s", "data": DATA})
        == [204] * 30
    )
    service.jobs.schedule(recurring, schedule="@every 1s", data=DATA)

    # One of three down: the two left keep quorum; no job is lost.
    group.kill(0)
    for name in pending:
        service.wait_for_trigger(name, timeout=LEASE_RECOVERY)
    arrivals = first_arrivals(service, pending)
    counts = [len(service.received(n)) for n in pending]
    dups = at_least_once(counts, max_share=HA_LOSS_DUPLICATE_SHARE)
    while_one_down = unique_name("one-down")
    # overwrite: scheduling while a member is down once answered 409 for this fresh name (an
    # earlier attempt inside Dapr had stored it); the point here is that it fires.
    service.jobs.schedule(while_one_down, due_time="1s", data=DATA, overwrite=True)
    service.wait_for_trigger(while_one_down, timeout=20)
    report(
        "HA: 1 of 3 schedulers killed",
        lost=0,
        duplicates=dups,
        late_by_s=round(max(arrivals) - (scheduled_at + 4), 1),
    )

    # Two of three down: no quorum. The survivor still answers /healthz, but it can neither
    # store nor fire jobs; daprd gives up on a schedule call after its 30 s deadline.
    group.kill(1)
    killed_at = time.time()
    assert group.healthy() == [False, False, True]
    no_quorum = unique_name("no-quorum")
    answer = httpx.post(
        f"{service.sidecar.http_url}/v1.0/jobs/{no_quorum}",
        json={"dueTime": "1s", "data": DATA},
        timeout=45,
    )
    waited = time.time() - killed_at
    assert answer.status_code in (500, 503, 504), answer.text
    assert answer.json()["errorCode"] == "DAPR_SCHEDULER_SCHEDULE_JOB"
    fired = [t for t in service.received(recurring) if t["received_at"] > killed_at + 2]
    assert fired == [], "nothing fires without quorum"

    group.restart(0)  # two of three again: quorum is back
    restarted_at = time.time()
    wait_until(
        lambda: any(t["received_at"] > restarted_at for t in service.received(recurring)),
        timeout=LEASE_RECOVERY,
        what="the recurring job to fire again",
    )
    resumed = min(
        t["received_at"] for t in service.received(recurring) if t["received_at"] > restarted_at
    )
    stored = service.jobs.exists(no_quorum)
    service.jobs.delete(recurring)
    service.jobs.delete(no_quorum)
    report(
        "HA: 2 of 3 schedulers killed (no quorum)",
        lost=0,
        schedule_answer=f"{answer.status_code} after {waited:.0f} s",
        survivor_healthz="200",
        recovery_after_quorum_s=round(resumed - restarted_at, 1),
        refused_job_stored_anyway=stored,
    )


def test_removing_the_data_dir_loses_jobs(stack, tmp_path):
    scheduler = start(stack, Scheduler.isolated(tmp_path))
    service = start(stack, JobService(scheduler, log_dir=tmp_path))
    keep, soon = unique_name("keep"), unique_name("soon")
    service.jobs.schedule(keep, schedule="@every 1h", data=DATA)
    service.jobs.schedule(soon, due_time="4s", data=DATA)

    # The backup: the whole --etcd-data-dir, copied while the scheduler is stopped.
    scheduler.stop()
    backup = tmp_path / "backup"
    shutil.copytree(scheduler.data_dir, backup)
    shutil.rmtree(scheduler.data_dir)
    scheduler.start()

    def not_found(name: str) -> bool:
        try:
            service.jobs.get(name)
        except DaprError as error:
            return "job not found" in error.message  # not a connection error
        return False

    wait_until(lambda: not_found(keep), timeout=30, what="the fresh scheduler to answer")
    fence = unique_name("fence")
    service.jobs.schedule(fence, due_time="5s", data=DATA)  # due after `soon` was
    service.wait_for_trigger(fence, timeout=20)
    assert service.received(soon) == [], "the wiped job never fired"

    # Restoring the copy brings the jobs back; `soon`, overdue by now, fires at once.
    scheduler.stop()
    shutil.rmtree(scheduler.data_dir)
    shutil.copytree(backup, scheduler.data_dir)
    restored_at = time.time()
    scheduler.start()
    wait_until(lambda: service.jobs.exists(keep), timeout=30, what="the restored job")
    [late] = service.wait_for_trigger(soon, timeout=30)
    service.jobs.delete(keep)
    report(
        "scheduler data dir removed",
        lost="2 of 2 (until the backup is restored)",
        duplicates=0,
        restored_overdue_job_after_s=round(late["received_at"] - restored_at, 1),
    )
