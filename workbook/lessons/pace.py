"""Is a series of deliveries paced as asked? One rule for the notebooks, their checks and tests.

A gap between two deliveries is the interval asked plus the difference of their lateness. On a
quiet machine every gap is within a few milliseconds of the interval; on a busy one, now and
then one delivery comes late, and the one after it may come sooner (seen on two shared cores:
retry gaps of 0.97, 1.00 and 2.31 s for a 1 s policy; reminder retries 1.01, 2.39, 0.53 s).
So a series is judged on three things:

- the typical gap (the low median: the middle one, or the lower of the two middle ones) is
  within `tolerance` of the interval: Dapr used the interval asked, not another one;
- no gap is under a quarter of the interval: no two deliveries came back to back;
- no gap is longer than the interval plus `late_allowance`: a delivery delayed, never held.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

LATE_ALLOWANCE_S = 2.0


def pace_problem(
    gaps: Sequence[float],
    interval: float,
    *,
    tolerance: float,
    late_allowance: float = LATE_ALLOWANCE_S,
) -> str | None:
    """What is wrong with these gaps (seconds) for `interval` seconds, in one line; or None."""
    if not gaps:
        return "no gaps to judge"
    shown = ", ".join(f"{gap:.2f}" for gap in gaps)
    typical = statistics.median_low(gaps)
    if abs(typical - interval) > tolerance:
        return (
            f"gaps {shown} s: the typical gap {typical:.2f} s is not {interval:g} s ± {tolerance:g}"
        )
    if min(gaps) < interval / 4:
        return f"gaps {shown} s: two deliveries came back to back (under {interval / 4:g} s)"
    longest = interval + late_allowance
    if max(gaps) > longest:
        return f"gaps {shown} s: a delivery was held back (a gap over {longest:g} s)"
    return None


def paced(gaps: Sequence[float], interval: float, *, tolerance: float = 0.25) -> bool:
    """True when the gaps keep `interval` seconds by the rules above; else an AssertionError
    that says which rule they break (for the notebooks' `assert paced(...)` cells)."""
    problem = pace_problem(gaps, interval, tolerance=tolerance)
    if problem is not None:
        raise AssertionError(problem)
    return True
