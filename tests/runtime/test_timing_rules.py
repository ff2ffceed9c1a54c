"""The rules that judge a series of gaps against the machine's timing baseline
(timing_baseline.py): each rule fails on the series it exists for; a late delivery passes."""

from __future__ import annotations

import pytest
from timing_baseline import TimingBaseline

QUIET = TimingBaseline(lateness=[0.001, 0.002, 0.004], every_gaps=[0.5, 0.5])
BUSY = TimingBaseline(lateness=[0.2, 3.0, 6.4], every_gaps=[0.5, 0.9])


@pytest.mark.parametrize(
    "gaps",
    [
        [1.0, 1.0, 1.0],
        [0.97, 1.0, 2.31],  # one retry late under load (CI, 2026-12-01)
        [1.01, 2.39, 0.53],  # a late reminder retry, then one sooner
    ],
)
def test_a_late_delivery_under_load_passes(gaps):
    assert QUIET.pace_problem(gaps, 1.0) is None


@pytest.mark.parametrize(
    ("gaps", "interval", "says"),
    [
        ([2.0, 2.0, 2.0], 1.0, "the typical gap 2.00 s is not 1 s"),
        ([1.0, 1.0], 0.5, "the typical gap 1.00 s is not 0.5 s"),
        ([1.0, 0.1, 1.0], 1.0, "back to back"),
        ([1.0, 1.0, 30.0], 1.0, "held back (a gap over 3 s)"),
        ([], 1.0, "no gaps"),
    ],
)
def test_each_rule_fails_the_series_it_exists_for(gaps, interval, says):
    assert says in QUIET.pace_problem(gaps, interval)


def test_a_busy_baseline_allows_a_longer_hold_but_not_another_interval():
    assert BUSY.late_allowance() == 12.8
    assert BUSY.pace_problem([1.0, 1.0, 12.0], 1.0) is None
    assert "typical gap" in BUSY.pace_problem([2.0, 2.0, 2.0], 1.0)
