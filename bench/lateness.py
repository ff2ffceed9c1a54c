"""1. Trigger lateness: one job at a time, and many jobs aligned on one instant or spread."""

from __future__ import annotations

import time

from bench.cpu import limiting_side
from bench.profiles import Profile
from bench.stack import Stack
from bench.stats import dist, histogram
from bench.timing import (
    DUPLICATE_WINDOW,
    EARLY_TOLERANCE_MS,
    make_plan,
    match_arrivals,
    settle,
    wait_for_arrivals,
    wait_for_instant,
)


def lateness_case(stack: Stack, kind: str, size: int, mode: str, prof: Profile) -> dict:
    settled = settle(stack)
    stack.reset()
    jobs = size if mode != "one-at-a-time" else prof.one_at_a_time
    start = time.time() + stack.lead_time(jobs)
    plan = make_plan(
        kind, size, mode, start, repeats=prof.every_repeats, samples=prof.one_at_a_time
    )
    load = stack.schedule_all(plan.jobs)
    # loads that finished after the first due time (then lateness may include loading)
    scheduled_late = sum(t > start for t in load["finished"])
    wait_for_instant(start)
    meter = stack.meter()
    complete = wait_for_arrivals(
        stack,
        plan.expected,
        plan.last_due + 30,
        f"{plan.expected} triggers ({kind}, {size}, {mode})",
    )
    cpu = meter.stop()
    wait_for_instant(time.time() + DUPLICATE_WINDOW["lateness"], early=0)
    matched = match_arrivals(plan, stack.arrivals())
    stack.delete_all(plan.intended)
    late = matched.pop("lateness_ms")
    return {
        "kind": kind,
        "concurrent_jobs": size,
        "mode": mode,
        "jobs": len(plan.jobs),
        "expected": plan.expected,
        "complete": complete,
        **matched,
        "settle_s": settled,
        "scheduled_after_due": scheduled_late,
        "early": sum(x < -EARLY_TOLERANCE_MS for x in late),
        "ahead": sum(x < 0 for x in late),
        "lateness_ms": dist(late),
        "histogram": histogram(late),
        "cpu": cpu,
        "limit": limiting_side(cpu),
    }


def lateness_cases(prof: Profile) -> list[tuple[str, int, str]]:
    cases = []
    for kind in ("oneshot", "every"):
        for size in prof.lateness_sizes:
            modes = ("one-at-a-time",) if size == 1 else ("aligned", "spread")
            cases += [(kind, size, mode) for mode in modes]
    return cases
