"""Checkers of notebook 03 (schedules). Each schedules the learner's answer on job_service's
sidecar, measures the triggers that really arrive, and says what differs from the task."""

from __future__ import annotations

import itertools
import time

from workbook.lessons.checks.sidecar_answers import (
    DROID,
    post_job,
    require_accepted,
    require_body,
    said,
)
from workbook.lessons.exercises import NotYet, answered
from workbook.lessons.pace import pace_problem
from workbook.runtime.waiting import wait_until


def _triggers(wb, name: str, count: int, timeout: float) -> list[dict]:
    """The first `count` triggers of job `name`, or as many as came within `timeout`."""
    try:
        return wb.wait_for_trigger(name, count=count, timeout=timeout)[:count]
    except TimeoutError:
        return wb.received(name)


def _gone(wb, name: str, timeout: float) -> bool:
    try:
        wait_until(lambda: not wb.jobs.exists(name), timeout=timeout, what=f"{name} to end")
        return True
    except TimeoutError:
        wb.jobs.delete(name)
        return False


def fires_every_two_seconds_on_even_seconds(wb, cron) -> str:
    """3.1: a 6-field cron that fires every 2 s, on even seconds of the clock."""
    cron = answered(cron, "`cron`")
    name = wb.name("ex3-1")
    response = post_job(wb.sidecar_url, name, {"schedule": cron, "repeats": 2, "data": DROID})
    fields = len(str(cron).split())
    hint = (
        f"your cron has {fields} fields; Dapr's has 6, seconds first"
        if fields != 6
        else "read the scheduler's reason"
    )
    require_accepted(response, hint)
    got = _triggers(wb, name, 2, timeout=6)
    wb.jobs.delete(name)
    if len(got) < 2:
        raise NotYet(
            f"{len(got)} trigger(s) within 6 s of scheduling {cron!r}; every 2 s gives 2: "
            "is the seconds field (the first one) '*/2'?"
        )
    seconds = [t["received_at"] for t in got]
    marks = ", ".join(f":{int(s) % 60:02d}.{int(s * 100) % 100:02d}" for s in seconds)
    gap = seconds[1] - seconds[0]
    if not 1.6 <= gap <= 2.4:
        raise NotYet(f"triggers at {marks}, {gap:.2f} s apart; you asked for 2 s")
    if any(int(s) % 2 or s % 1 > 0.4 for s in seconds):
        raise NotYet(f"triggers at {marks}: not on even seconds of the clock")
    return f"{cron!r} fired at {marks} (even seconds, {gap:.2f} s apart)"


def first_after_two_then_every_second(wb, body) -> str:
    """3.2: first trigger 2 s after scheduling, then every 1 s, 3 triggers in all."""
    body = {"data": DROID, **require_body(body)}
    name = wb.name("ex3-2")
    sent = time.time()
    require_accepted(post_job(wb.sidecar_url, name, body))
    first = _triggers(wb, name, 1, timeout=4)
    if not first:
        wb.jobs.delete(name)
        raise NotYet(f"no trigger within 4 s of scheduling {body}; you asked for one after 2 s")
    if not 1.6 <= first[0]["received_at"] - sent <= 2.6:
        wb.jobs.delete(name)
        offset = first[0]["received_at"] - sent
        raise NotYet(
            f"the first trigger came {offset:.2f} s after scheduling; you asked for 2 s: "
            + (
                "`@every` alone first fires one period after scheduling; add a dueTime"
                if "dueTime" not in body
                else f"is your dueTime {body['dueTime']!r} two seconds?"
            )
        )
    got = _triggers(wb, name, 3, timeout=5)
    offsets = [round(t["received_at"] - sent, 2) for t in got]
    gone = _gone(wb, name, timeout=3)
    if len(got) < 3:
        raise NotYet(f"{len(got)} trigger(s) at {offsets} s; you asked for 3, 1 s apart")
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(offsets)]
    if problem := pace_problem(gaps, 1.0, tolerance=0.4):
        raise NotYet(f"triggers at {offsets} s; {problem}; you asked for 1 s between them")
    if not gone:
        raise NotYet(
            f"3 triggers at {offsets} s, but the job was still scheduled 3 s after the third: "
            "without `repeats` it never ends (the check deleted it)"
        )
    return f"triggers at {offsets} s after scheduling, then the job was deleted"


def ends_by_time_to_live(wb, body) -> str:
    """3.3: fires every 500 ms and is ended by its ttl after 2 s, with no repeats."""
    body = {"data": DROID, **require_body(body)}
    if "repeats" in body:
        raise NotYet(f"the body has repeats={body['repeats']!r}: end this job with `ttl` instead")
    name = wb.name("ex3-3")
    sent = time.time()
    response = post_job(wb.sidecar_url, name, body)
    require_accepted(
        response, "a ttl needs a `schedule`" if "must have a schedule" in response.text else ""
    )
    gone = _gone(wb, name, timeout=6)
    ended = time.time() - sent
    got = [round(t["received_at"] - sent, 2) for t in wb.received(name)]
    if not gone:
        raise NotYet(f"the job still existed 6 s after scheduling ({len(got)} triggers): no ttl?")
    # The triggers' own times say when the ttl ended it; `ended` (when this check saw the job
    # gone) only bounds it, and a busy machine adds its polling delay to it.
    if ended < 1.5 or not 3 <= len(got) <= 4 or max(got) > 2.6:
        raise NotYet(
            f"the job ended {ended:.1f} s after scheduling with {len(got)} triggers at {got} s; "
            "you asked for about 4 triggers, 500 ms apart, ended after 2 s"
        )
    return f"{len(got)} triggers at {got} s, then the ttl ended the job ({ended:.1f} s)"


WRONG = {
    "3.1": 'cron = "*/2 * * * *"  # crontab style: five fields',
    "3.2": 'body = {"schedule": "@every 1s", "repeats": 3, "data": {"droid": "R2-D2", '
    '"task": "Oil Change"}}',
    "3.3": 'body = {"dueTime": "500ms", "ttl": "2s", "data": {"droid": "R2-D2", '
    '"task": "Oil Change"}}',
}

__all__ = [
    "WRONG",
    "ends_by_time_to_live",
    "fires_every_two_seconds_on_even_seconds",
    "first_after_two_then_every_second",
    "said",
]
