"""Plans of jobs and their intended fire times, the waits around a measurement, and matching
what arrived with what was intended."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

from bench.cpu import CpuMeter
from bench.stack import Stack
from jobs_client import rfc3339
from workbook.runtime.apps import unique_name
from workbook.runtime.waiting import wait_until

DUPLICATE_WINDOW = {"lateness": 0.3, "burst": 1.0}


EARLY_TOLERANCE_MS = 0.5


@dataclass
class Plan:
    """Jobs to schedule and the instants at which each one should fire."""

    kind: str  # "oneshot" or "every"
    size: int
    mode: str  # "one-at-a-time", "aligned" or "spread"
    jobs: list[tuple[str, dict]] = field(default_factory=list)
    intended: dict[str, list[float]] = field(default_factory=dict)

    @property
    def expected(self) -> int:
        return sum(len(v) for v in self.intended.values())

    @property
    def last_due(self) -> float:
        return max(max(v) for v in self.intended.values())


def make_plan(
    kind: str,
    size: int,
    mode: str,
    start: float,
    *,
    repeats: int,
    samples: int,
    period: float = 1.0,
) -> Plan:
    """`size` jobs firing from `start` on: all at once (aligned), evenly over one period
    (spread), or `samples` triggers that never overlap (one-at-a-time)."""
    plan = Plan(kind, size, mode)
    prefix = unique_name(f"lat-{kind}-{size}")
    if mode == "one-at-a-time":
        count, gap = (
            (samples, 0.1)
            if kind == "oneshot"
            else (max(samples // repeats, 1), period / max(samples // repeats, 1))
        )
        offsets = [i * gap for i in range(count)]
    elif mode == "aligned":
        offsets = [0.0] * size
    else:
        offsets = [period * i / size for i in range(size)]
    for i, offset in enumerate(offsets):
        due, exact = rfc3339(start + offset)
        name = f"{prefix}-{i}"
        body = {"dueTime": due, "data": {"i": i}}
        fires = [exact]
        if kind == "every":
            body |= {"schedule": f"@every {period:g}s", "repeats": repeats}
            fires = [exact + k * period for k in range(repeats)]
        plan.jobs.append((name, body))
        plan.intended[name] = fires
    return plan


def wait_for_instant(moment: float, early: float = 0.05) -> None:
    """Return shortly before `moment` (epoch): start watching just before jobs fall due."""
    wait_until(
        lambda: time.time() >= moment - early,
        timeout=max(moment - time.time(), 0) + 5,
        interval=0.005,
        what=f"the instant {moment:.3f}",
    )


def settle(stack: Stack, *, quiet_cores: float = 0.1, timeout: float = 30) -> float:
    """Wait until the scheduler and daprd are idle again, and return how long that took.

    Work goes on after the calls return (deleting thousands of jobs keeps the scheduler
    busy for seconds), and it would otherwise be charged to the next measurement.
    """
    started = time.monotonic()
    pids = {k: stack.pids[k] for k in ("scheduler", "daprd")}

    def idle() -> bool:
        meter = CpuMeter(pids).start()
        wait_for_instant(time.time() + 0.25, early=0)  # a 0.25 s sampling window
        cores = meter.stop()["cores"]
        return cores["scheduler"] + cores["daprd"] < quiet_cores

    try:
        wait_until(idle, timeout=timeout, interval=0, what="the scheduler and daprd to idle")
    except TimeoutError:
        return math.inf
    return round(time.monotonic() - started, 2)


def wait_for_arrivals(stack: Stack, expected: int, deadline: float, what: str) -> bool:
    """Poll the receiver's cheap counter until `expected` triggers are in, or the deadline."""
    try:
        wait_until(
            lambda: stack.count() >= expected,
            timeout=max(deadline - time.time(), 0.1),
            interval=0.05,
            what=what,
        )
        return True
    except TimeoutError:
        return False


def match_arrivals(plan: Plan, arrivals: list[tuple[str, float]]) -> dict:
    """Pair each job's arrivals, in order, with its intended fire times."""
    got: dict[str, list[float]] = defaultdict(list)
    strays = 0
    for name, arrived in arrivals:
        if name in plan.intended:
            got[name].append(arrived)
        else:
            strays += 1
    lateness_ms, lost, duplicates = [], 0, 0
    for name, fires in plan.intended.items():
        times = sorted(got.get(name, []))
        lateness_ms += [(a - f) * 1000 for a, f in zip(times, fires, strict=False)]
        lost += max(len(fires) - len(times), 0)
        duplicates += max(len(times) - len(fires), 0)
    return {
        "lateness_ms": lateness_ms,
        "lost": lost,
        "duplicates": duplicates,
        "strays": strays,
        "delivered": len(arrivals) - strays,
    }
