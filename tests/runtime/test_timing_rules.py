"""What the machine's timing baseline (timing_baseline.py) gives the pacing rule
(workbook/lessons/pace.py, tested in tests/unit/test_pace.py): its tolerance, and a late
allowance that grows with the worst lateness it measured, never another interval."""

from __future__ import annotations

from timing_baseline import TimingBaseline

QUIET = TimingBaseline(lateness=[0.001, 0.002, 0.004], every_gaps=[0.5, 0.5])
BUSY = TimingBaseline(lateness=[0.2, 3.0, 6.4], every_gaps=[0.5, 0.9])


def test_a_quiet_baseline_keeps_the_floor_and_the_two_second_allowance():
    assert (QUIET.gap_tolerance(1.0), QUIET.late_allowance()) == (0.25, 2.0)
    assert QUIET.pace_problem([0.97, 1.0, 2.31], 1.0) is None
    assert "held back (a gap over 3 s)" in QUIET.pace_problem([1.0, 1.0, 30.0], 1.0)


def test_a_busy_baseline_allows_a_longer_hold_but_not_another_interval():
    assert (BUSY.gap_tolerance(1.0), BUSY.late_allowance()) == (0.45, 12.8)
    assert BUSY.pace_problem([1.0, 1.0, 12.0], 1.0) is None
    assert "the typical gap 2.00 s is not 1 s ± 0.45" in BUSY.pace_problem([2.0, 2.0, 2.0], 1.0)
