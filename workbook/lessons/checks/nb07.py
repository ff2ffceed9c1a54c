"""Checkers of notebook 07 (durability and replicas): a crash done by the learner, and jobs
scheduled for three replicas through a sidecar the learner picks."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections import Counter

from workbook.lessons import leadership
from workbook.lessons.exercises import NotYet
from workbook.runtime.apps import unique_name
from workbook.runtime.scheduler import Scheduler
from workbook.runtime.waiting import wait_until

# How long the restarted scheduler must go without its leadership to count as "waiting for the
# old lease": a clean restart gets it within ~10 ms (measured), a crashed one after ~21 s.
LEASE_WAIT_SHOWN = 3.0


class CrashTarget:
    """A scheduler of its own (free ports, fresh data dir) for the learner to crash."""

    def __init__(self):
        self.scheduler: Scheduler | None = None
        self.renew()

    @property
    def pid(self) -> int:
        return self.scheduler.process.pid

    def renew(self) -> None:
        """Replace it with a fresh, running scheduler (after a check used it up)."""
        self.close()
        self.scheduler = Scheduler.isolated().start()
        # /healthz answers before the job engine holds its leadership key; only a crash after
        # that leaves a lease behind, so wait for it.
        wait_until(
            lambda: leadership.leadership_times(self.scheduler.log_path, after=0)[1],
            timeout=30,
            what="the scheduler to hold its leadership",
        )

    def close(self) -> None:
        if self.scheduler:
            self.scheduler.stop(timeout=5)
            shutil.rmtree(self.scheduler.data_dir.parent, ignore_errors=True)
            self.scheduler = None


def scheduler_to_crash() -> CrashTarget:
    target = CrashTarget()
    print(f"a scheduler to crash: pid {target.pid}, listening at {target.scheduler.address}")
    return target


def ended_like_a_crash(target: CrashTarget) -> str:
    """7.1: the learner ended `target.pid` as a crash would (SIGKILL), so the restarted
    scheduler has to wait for the old leadership lease."""
    scheduler = target.scheduler
    popen = scheduler.process.popen
    try:
        popen.wait(timeout=5)
    except subprocess.TimeoutExpired:
        raise NotYet(
            "the scheduler is still running 5 s later: end it with "
            "os.kill(victim.pid, crash_signal), choosing the signal a crash sends"
        ) from None
    ended = leadership.how_it_ended(popen.returncode)
    shut_down = leadership.logged_shutdown(scheduler.log_path)
    scheduler.kill()  # the process has ended already: this only does the bookkeeping
    try:
        if shut_down or popen.returncode != -9:
            said = "logged 'beginning shutdown' and " if shut_down else ""
            raise NotYet(
                f"the scheduler {said}{ended}: that is a clean stop, it could give its "
                "lease back. A crash gives the process no chance at all: use the one signal "
                "a process cannot catch (signal.SIGKILL)"
            )
        restarted_at = time.time()
        scheduler.start()
        attempt = wait_until(
            lambda: leadership.leadership_times(scheduler.log_path, restarted_at)[0],
            timeout=20,
            what="the restarted scheduler to try for leadership",
        )
        time.sleep(LEASE_WAIT_SHOWN)  # the wait IS what is checked: no leadership meanwhile
        _, fetched = leadership.leadership_times(scheduler.log_path, restarted_at)
        if fetched is not None:
            raise NotYet(
                f"the scheduler was {ended}, yet the restarted one got its leadership "
                f"{fetched - attempt:.2f} s after trying: was the lease given back?"
            )
        waited = time.time() - attempt
        return (
            f"the scheduler was {ended} and logged no shutdown; restarted on its data dir, it "
            f"has waited {waited:.1f} s for the old leadership lease (and keeps waiting)"
        )
    finally:
        target.renew()


def reach_the_replicas(schedule_spread, replicas, other, count: int = 12) -> str:
    """7.2: `schedule_spread(names)` schedules one-shot jobs for the replicated app, so each
    trigger reaches exactly one of its replicas. `other` is a job_service of another app ID."""
    names = [unique_name("spread") for _ in range(count)]
    started = time.time()
    schedule_spread(names)

    def at_replicas():
        return replicas.arrivals(names)

    def at_other():
        return [r for r in other.received() if r["name"] in set(names)]

    first = names[0]
    stored = replicas.jobs.exists(first) or other.jobs.exists(first)
    if not stored and not at_replicas() and not at_other():
        raise NotYet(
            f"no job named {first!r} is stored and none arrived: does schedule_spread POST "
            'each name to <sidecar>/v1.0/jobs/<name> with {"dueTime": "1s", "data": DATA}?'
        )
    with contextlib.suppress(TimeoutError):
        wait_until(
            lambda: len({n for _, n, _ in at_replicas()}) == count or len(at_other()) == count,
            timeout=15,
            what=f"the {count} triggers",
        )
    time.sleep(0.5)  # let a duplicate, if any, arrive before counting
    rows, elsewhere = at_replicas(), at_other()
    if elsewhere:
        raise NotYet(
            f"{len(elsewhere)} of the {count} triggers went to app '{other.app_id}', none to "
            f"the replicas of '{replicas.app_id}': a trigger goes only to the app whose sidecar "
            "scheduled the job. Use a replica's sidecar, e.g. replicas.services[2].sidecar.http_url"
        )
    got = Counter(n for _, n, _ in rows)
    if len(got) < count:
        raise NotYet(
            f"{len(got)} of the {count} jobs reached a replica within 15 s: is the dueTime "
            '"1s", and did every POST answer 204?'
        )
    if any(c > 1 for c in got.values()):
        twice = sorted(n for n, c in got.items() if c > 1)
        raise NotYet(f"{len(twice)} job(s) reached more than one replica: {twice[:3]}")
    per_replica = [sum(1 for r, _, _ in rows if r == i) for i in range(len(replicas.services))]
    last = max(t for _, _, t in rows) - started
    return (
        f"{count} triggers, each at exactly one replica of '{replicas.app_id}' "
        f"(per replica {per_replica}), the last {last:.1f} s after scheduling"
    )


WRONG = {
    # SIGTERM is a request to stop: the scheduler shuts down cleanly and gives its lease back.
    "7.1": (
        "import os\nimport signal\n\ncrash_signal = signal.SIGTERM\n"
        "os.kill(victim.pid, crash_signal)\n"
    ),
    # The lab's sidecar belongs to another app ID (on another scheduler).
    "7.2": (
        "def schedule_spread(names):\n"
        "    for name in names:\n"
        "        httpx.post(\n"
        '            f"{wb.sidecar_url}/v1.0/jobs/{name}",\n'
        '            json={"dueTime": "1s", "data": DATA},\n'
        "        ).raise_for_status()\n"
    ),
}
