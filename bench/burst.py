"""3 and 4. A burst of one-shot jobs due at the same instant, from 100 to 10,000."""

from __future__ import annotations

import math
import time

from bench.cpu import limiting_side, process_rss_mb
from bench.stack import Stack
from bench.stats import dist
from bench.timing import (
    DUPLICATE_WINDOW,
    EARLY_TOLERANCE_MS,
    make_plan,
    match_arrivals,
    settle,
    wait_for_arrivals,
    wait_for_instant,
)


def burst(stack: Stack, size: int) -> dict:
    """`size` one-shot jobs due at the same instant: load, then watch them all arrive."""
    settled = settle(stack)
    stack.reset()
    start = time.time() + stack.lead_time(size)
    plan = make_plan("oneshot", size, "aligned", start, repeats=1, samples=0)
    due = plan.last_due
    meter = stack.meter()
    load = stack.schedule_all(plan.jobs)
    load_cpu = meter.stop()
    rss_loaded = {k: process_rss_mb(stack.pids[k]) for k in ("scheduler", "daprd")}
    wait_for_instant(due)
    meter = stack.meter()
    complete = wait_for_arrivals(stack, size, due + 60, f"{size} triggers of the burst")
    deliver_cpu = meter.stop()
    wait_for_instant(time.time() + DUPLICATE_WINDOW["burst"], early=0)
    arrivals = stack.arrivals()
    matched = match_arrivals(plan, arrivals)
    late = sorted(matched.pop("lateness_ms"))
    removed = stack.delete_all(plan.intended)
    step = max(len(late) // 100, 1)
    curve = [[round(x / 1000, 4), i + 1] for i, x in enumerate(late)][::step]
    if late:
        curve.append([round(late[-1] / 1000, 4), len(late)])
    per_job = {
        k: round(1000 * (load_cpu["cpu_s"][k] + deliver_cpu["cpu_s"][k]) / size, 3)
        for k in ("scheduler", "daprd", "app")
    }
    last_s = late[-1] / 1000 if late else math.nan
    return {
        "jobs": size,
        "complete": complete,
        **matched,
        "settle_s": settled,
        "scheduled_after_due": sum(t > due for t in load["finished"]),
        "schedule_s": round(load["wall_s"], 3),
        "schedule_per_s": round(size / load["wall_s"], 1),
        "schedule_call_ms": dist(x * 1000 for x in load["latencies"]),
        "schedule_errors": load["errors"],
        "first_arrival_s": round(late[0] / 1000, 4) if late else None,
        "first_arrival_ms": round(late[0], 2) if late else None,
        "all_delivered_s": round(last_s, 4),
        "deliver_per_s": round(len(late) / last_s, 1) if late else None,
        "lateness_ms": dist(late),
        "early": sum(x < -EARLY_TOLERANCE_MS for x in late),
        "ahead": sum(x < 0 for x in late),
        "delete_s": round(removed["wall_s"], 3),
        "delete_per_s": round(removed["n"] / max(removed["wall_s"], 1e-6), 1),
        "cpu_ms_per_job": per_job,
        "rss_mb_loaded": rss_loaded,
        "load_cpu": load_cpu,
        "load_limit": limiting_side(load_cpu),
        "deliver_cpu": deliver_cpu,
        "deliver_limit": limiting_side(deliver_cpu),
        "curve": curve,
    }
