"""The timing baseline of this machine, measured once per session on the session scheduler.

Timing tests compare the spacing of deliveries (retries, @every fires, cron binding ticks)
with what was asked. A gap between two deliveries is the interval plus the difference of
their two latenesses, so its error is bounded by how far latenesses spread on this machine
right now. The baseline measures that spread, and each timing test derives its tolerance:

    tolerance(interval) = min(max(FLOOR_S, SAFETY * spread), CAP_SHARE * interval)
                          (for interval 0, back to back: min(max(...), CAP_S))

- spread = max - min lateness of BASELINE_JOBS one-shot jobs plus BASELINE_FIRES fires of an
  @every job, all on absolute due times (microseconds), all on the session scheduler;
- SAFETY = 4: the tests run for minutes after the baseline, while load on the shared two
  cores changes; the widest spread seen in a few seconds is widened four times;
- FLOOR_S = 0.25 s: the fixed window these tests had, never tightened by a quiet baseline;
- CAP_SHARE = 0.45: never looser than 45 % of the interval asked, so a test still fails when
  daprd uses another interval (a 1 s retry where 0.5 s was asked, 2 s where 1 s was), and
  CAP_S = 0.45 s where no interval was asked (back-to-back retries).

A series of gaps is judged by `timing.pace_problem(gaps, interval)`: the rules of
workbook/lessons/pace.py (the typical gap within tolerance(interval) of the interval, nothing
back to back, nothing held back), with the late allowance LATE_ALLOWANCE_S or twice the worst
lateness of the baseline if that is more.
The baseline is printed once (`pytest -s`, and in the terminal summary).
"""

from __future__ import annotations

from dataclasses import dataclass

from workbook.lessons.pace import LATE_ALLOWANCE_S, pace_problem

BASELINE_JOBS = 10
BASELINE_FIRES = 5
EVERY_S = 0.5
DATA = {"droid": "R2-D2", "task": "timing baseline"}
SAFETY = 4.0
FLOOR_S = 0.25
CAP_SHARE = 0.45
CAP_S = 0.45


@dataclass(frozen=True)
class TimingBaseline:
    """Trigger lateness on this machine now (seconds), and the tolerances it allows."""

    lateness: list[float]
    every_gaps: list[float]

    @property
    def spread(self) -> float:
        return max(self.lateness) - min(self.lateness)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.lateness)
        return ordered[min(round(q * (len(ordered) - 1)), len(ordered) - 1)]

    def gap_tolerance(self, interval: float) -> float:
        """How far a measured gap may be from `interval` seconds (the formula above)."""
        cap = CAP_SHARE * interval if interval > 0 else CAP_S
        return round(min(max(FLOOR_S, SAFETY * self.spread), cap), 3)

    def late_allowance(self) -> float:
        """How much longer than its interval one gap may be (a delivery delayed by load)."""
        return round(max(LATE_ALLOWANCE_S, 2 * max(self.lateness)), 3)

    def pace_problem(self, gaps: list[float], interval: float) -> str | None:
        """What is wrong with these gaps for `interval` seconds, or None: the rules of
        workbook/lessons/pace.py with this baseline's tolerance and late allowance."""
        return pace_problem(
            gaps,
            interval,
            tolerance=self.gap_tolerance(interval),
            late_allowance=self.late_allowance(),
        )

    def describe(self) -> str:
        ms = {q: round(1000 * self.quantile(q), 1) for q in (0.5, 0.99, 1.0)}
        worst_gap = max(abs(g - EVERY_S) for g in self.every_gaps)
        return (
            f"timing baseline: {len(self.lateness)} triggers, lateness p50 {ms[0.5]} ms, "
            f"p99 {ms[0.99]} ms, max {ms[1.0]} ms, spread {1000 * self.spread:.1f} ms, "
            f"@every {EVERY_S:g}s gaps off by at most {1000 * worst_gap:.1f} ms; "
            f"tolerance for 1 s gaps {self.gap_tolerance(1.0):g} s, "
            f"0.5 s {self.gap_tolerance(0.5):g} s, back to back {self.gap_tolerance(0):g} s"
        )
