"""The numbers: percentiles, distributions, spread over runs, a log histogram."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of already sorted values, interpolated linearly."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def dist(values: Iterable[float]) -> dict:
    """n, min, p50, p90, p99, max and mean of values (in the values' unit, 2 decimals)."""
    v = sorted(values)
    if not v:
        return {"n": 0}
    out = {
        "n": len(v),
        "min": v[0],
        "p50": percentile(v, 50),
        "p90": percentile(v, 90),
        "p99": percentile(v, 99),
        "max": v[-1],
        "mean": statistics.fmean(v),
    }
    return {k: (round(x, 2) if isinstance(x, float) else x) for k, x in out.items()}


def spread(values: list[float]) -> dict:
    """Median and range of one figure over repeated runs."""
    v = [x for x in values if x is not None and not math.isnan(x)]
    if not v:
        return {"median": None, "min": None, "max": None, "runs": 0}
    return {
        "median": round(statistics.median(v), 2),
        "min": round(min(v), 2),
        "max": round(max(v), 2),
        "runs": len(v),
    }


HIST_EDGES_MS = [round(10 ** (e / 10), 4) for e in range(-10, 51)]  # 0.1 ms .. 100 s, log


def histogram(values_ms: list[float]) -> list[int]:
    counts = [0] * (len(HIST_EDGES_MS) - 1)
    for value in values_ms:
        x = min(max(value, HIST_EDGES_MS[0]), HIST_EDGES_MS[-1] * 0.999)
        i = math.floor((math.log10(x) + 1) * 10)
        counts[min(max(i, 0), len(counts) - 1)] += 1
    return counts
