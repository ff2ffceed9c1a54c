"""The pacing rule of the notebooks and their checks (workbook/lessons/pace.py)."""

from __future__ import annotations

import pytest

from workbook.lessons.pace import paced


def test_one_late_delivery_keeps_the_pace():
    assert paced([0.97, 1.0, 2.31], 1.0)


@pytest.mark.parametrize(
    ("gaps", "interval", "says"),
    [
        ([0.5, 0.5, 0.5], 1.0, "the typical gap 0.50 s is not 1 s ± 0.25"),
        ([0.5, 0.1, 0.5], 0.5, "back to back (under 0.125 s)"),
        ([0.5, 0.5, 9.0], 0.5, "held back (a gap over 2.5 s)"),
    ],
)
def test_paced_says_which_rule_the_gaps_break(gaps, interval, says):
    with pytest.raises(AssertionError, match=r"gaps .* s: ") as raised:
        paced(gaps, interval)
    assert says in str(raised.value)
