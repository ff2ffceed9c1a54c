"""Checkers of notebook 08 (jobs vs the cron binding): a cron component written by the
learner, and the clean-up job scheduled from every replica's start-up."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from itertools import pairwise

import httpx

from workbook.lessons.exercises import NotYet, answered
from workbook.lessons.pace import pace_problem
from workbook.runtime.apps import unique_name
from workbook.runtime.waiting import wait_until

TICK = "tick-tock"  # the component (and so the route) Your turn 8.1 asks for


def _binding_posts(replica, since: float) -> list[dict]:
    return [r for r in replica.received("binding") if r["received_at"] > since]


def cron_component_ticks(component_yaml, resources, replicas) -> str:
    """8.1: `component_yaml` is a cron binding named tick-tock firing every 2 s; written into
    the replicas' resources folder, it must reach POST /tick-tock on every replica."""
    text = answered(component_yaml, "`component_yaml`")
    path = resources / f"{TICK}.yaml"
    written = time.time()
    path.write_text(str(text))
    try:
        with contextlib.suppress(TimeoutError):
            wait_until(
                lambda: all(
                    len([r for r in _binding_posts(rep, written) if r["name"] == TICK]) >= 2
                    for rep in replicas
                ),
                timeout=8,
                what="2 events at /tick-tock on each replica",
            )
        per_replica, routes = {}, Counter()
        for rep in replicas:
            posts = _binding_posts(rep, written)
            per_replica[rep.replica] = [r["received_at"] for r in posts if r["name"] == TICK]
            routes.update(r["name"] for r in posts if r["name"] != TICK)
    finally:
        path.unlink(missing_ok=True)
    others = sorted(n for n in routes if not n.startswith("todo-cleanup"))
    if not any(per_replica.values()):
        if others:
            raise NotYet(
                f"no POST /{TICK} within 8 s, but the replicas got POST /{others[0]}: a cron "
                f"binding calls the route named like the component, so metadata.name must be "
                f"{TICK!r}"
            )
        raise NotYet(
            f"no POST /{TICK} on any replica within 8 s of writing the file: is it a "
            "Component of spec.type bindings.cron, version v1, with a metadata item "
            '`schedule` = "@every 2s"? (the sidecars\' logs say why a component failed)'
        )
    missing = [name for name, times in per_replica.items() if not times]
    if missing:
        raise NotYet(f"POST /{TICK} reached only some replicas; none at {missing}")
    gaps = [b - a for times in per_replica.values() for a, b in pairwise(times)]
    if gaps and (problem := pace_problem(gaps, 2.0, tolerance=0.5)):
        raise NotYet(f"events at /{TICK}: {problem}; you were asked for every 2 s")
    counts = {name: len(times) for name, times in per_replica.items()}
    return (
        f"POST /{TICK} reached every replica on its own timer (events per replica: {counts}), "
        f"{min(gaps):.2f}-{max(gaps):.2f} s apart"
        if gaps
        else f"POST /{TICK} reached every replica ({counts})"
    )


def cleanup_scheduled_once(schedule_cleanup, replicas) -> str:
    """8.2: `schedule_cleanup(sidecar_url, name)`, called at every replica's start-up, schedules
    the job once (a taken name is not an error) and it fires 3 times, each at one replica."""
    name = unique_name("ex8-2-cleanup")
    answers = []
    for rep in replicas:
        try:
            answers.append(schedule_cleanup(rep.sidecar.http_url, name))
        except httpx.HTTPStatusError as error:
            body = error.response.text[:160]
            replicas[0].jobs.delete(name)
            raise NotYet(
                f"replica {rep.replica}'s start-up call raised: {error.response.status_code} "
                f"{body}. Dapr 1.18 answers 409 when the name is taken (older course code "
                "expects 400): treat 409 as 'another replica scheduled it'"
            ) from None
    if not replicas[0].jobs.exists(name) and not any(rep.received("job", name) for rep in replicas):
        raise NotYet(
            f"no job {name!r} is stored after both start-up calls: does schedule_cleanup POST "
            "to <sidecar_url>/v1.0/jobs/<name>?"
        )
    try:
        wait_until(
            lambda: sum(len(rep.received("job", name)) for rep in replicas) >= 3,
            timeout=10,
            what="3 triggers",
        )
        time.sleep(0.3)  # a fourth trigger, if any, would come 2 s later: checked below
    except TimeoutError:
        pass
    triggers = sorted(
        (t for rep in replicas for t in rep.received("job", name)), key=lambda t: t["received_at"]
    )
    still_there = replicas[0].jobs.exists(name)
    replicas[0].jobs.delete(name)
    times = [t["received_at"] for t in triggers]
    if len(times) < 3:
        raise NotYet(
            f"{len(times)} trigger(s) in 10 s; @every 2s with repeats 3 gives 3: is the body "
            '{"schedule": "@every 2s", "repeats": 3, "data": CLEANUP_DATA}?'
        )
    gaps = [b - a for a, b in pairwise(times[:3])]
    if problem := pace_problem(gaps, 2.0, tolerance=0.5):
        raise NotYet(f"the triggers: {problem}; the task asks for every 2 s")
    if still_there:
        raise NotYet("the job is still stored after 3 triggers: did you give repeats: 3?")
    where = Counter(t["replica"] for t in triggers)
    return (
        f"one job for two start-ups; it fired 3 times, {gaps[0]:.2f} and {gaps[1]:.2f} s apart, "
        f"each trigger at one replica ({dict(where)}), then the scheduler deleted it"
    )


WRONG = {
    # The route is the component's name: "tick" is called at POST /tick, not /tick-tock.
    "8.1": (
        'component_yaml = """\\\n'
        "apiVersion: dapr.io/v1alpha1\n"
        "kind: Component\n"
        "metadata:\n"
        "  name: tick\n"
        "spec:\n"
        "  type: bindings.cron\n"
        "  version: v1\n"
        "  metadata:\n"
        "  - name: schedule\n"
        '    value: "@every 2s"\n'
        '"""\n'
    ),
    # The course lesson's start-up code: 400 means "already scheduled", anything else raises.
    "8.2": (
        "def schedule_cleanup(sidecar_url, name):\n"
        "    body = {'schedule': '@every 2s', 'repeats': 3, 'data': CLEANUP_DATA}\n"
        "    answer = httpx.post(f'{sidecar_url}/v1.0/jobs/{name}', json=body)\n"
        "    if answer.status_code == 400:\n"
        "        return 'already scheduled'\n"
        "    answer.raise_for_status()\n"
    ),
}
