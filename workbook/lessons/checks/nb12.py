"""Checkers of notebook 12 (inside the scheduler): the etcd key of a job, read back with
etcdctl, and an actor reminder that fires a set number of times."""

from __future__ import annotations

import itertools

import httpx

from workbook.lessons.exercises import NotYet, answered
from workbook.lessons.pace import pace_problem
from workbook.runtime.apps import unique_name
from workbook.runtime.etcd_store import SchedulerStore, parse_key
from workbook.runtime.waiting import WaitTimeout, wait_until

# How long 12.2 waits for the reminder to be done: 3 fires 1 s apart end ~3.2 s after creation.
REMINDER_WAIT_S = 6.0

WRONG = {
    # the key as a path of app ID and name, as a file system or a REST URL would have it
    "12.1": 'key = f"dapr/jobs/{wb.service.app_id}/{name}"',
    # a period alone: the reminder repeats for ever
    "12.2": 'reminder = {"dueTime": "1s", "period": "1s"}',
}


def job_key(store: SchedulerStore, app_id: str, name: str, key) -> str:
    """12.1: `key` is the etcd key the scheduler keeps for job `name` of app `app_id`."""
    key = answered(key, "key")
    if not isinstance(key, str):
        raise NotYet(f"key should be a string (an etcd key), not {type(key).__name__}")
    keys = store.keys("dapr/jobs/")
    if key not in keys:
        of_app = [k for k in keys if f"||{app_id}||" in k]
        raise NotYet(
            f"the scheduler holds no key {key!r}; the keys of app {app_id} are {of_app}: "
            'the parts are joined by "||" after the table "dapr/jobs/"'
        )
    parsed = parse_key(key)
    if (parsed.kind, parsed.owner, parsed.name) != ("app", app_id, name):
        raise NotYet(f"{key!r} is a key, but of {parsed.kind} {parsed.owner} {parsed.name!r}")
    return (
        f"{key} is the key of job {name!r}: table dapr/jobs/, kind app, namespace "
        f"{parsed.namespace}, app ID {app_id}, then the job's name"
    )


def fires_three_times(droid, actor_id: str, reminder) -> str:
    """12.2: the reminder body makes actor Droid/<actor_id> get exactly 3 reminders, about 1 s
    apart, after which the scheduler removes it."""
    reminder = answered(reminder, "reminder")
    if not isinstance(reminder, dict):
        raise NotYet(f"reminder should be a dict (the JSON body), not {type(reminder).__name__}")
    name = unique_name("thrice")
    url = droid.reminder_url(actor_id, name)
    created = httpx.post(url, json=reminder, timeout=10)
    if created.status_code != 204:
        raise NotYet(f"the sidecar answered {created.status_code}: {created.text[:200]}")
    try:
        try:
            wait_until(
                lambda: httpx.get(url, timeout=5).status_code == 404,
                timeout=REMINDER_WAIT_S,
                what="the reminder to be done",
            )
        except WaitTimeout:
            fired = len(_fires(droid, actor_id, name))
            raise NotYet(
                f"after {REMINDER_WAIT_S:g} s the reminder is still there and fired {fired} "
                "times: a period alone repeats for ever; give the number of repetitions in the "
                'period ("R<n>/<ISO 8601 duration>")'
            ) from None
        fires = _fires(droid, actor_id, name)
    finally:
        httpx.delete(url, timeout=5)
    if len(fires) != 3:
        raise NotYet(f"the reminder fired {len(fires)} times; the task asks for 3")
    gaps = [round(b["at"] - a["at"], 2) for a, b in itertools.pairwise(fires)]
    if problem := pace_problem(gaps, 1.0, tolerance=0.5):
        raise NotYet(f"it fired 3 times, but {problem}; the task asks for 1 s")
    return f"the reminder fired 3 times, {gaps} s apart, then the scheduler removed it"


def _fires(droid, actor_id: str, name: str) -> list[dict]:
    return [r for r in droid.received("reminder", name) if r["id"] == actor_id]
