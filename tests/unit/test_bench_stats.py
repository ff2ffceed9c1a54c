"""The benchmark's pure pieces: percentiles, distributions, spread over runs, the histogram,
which side limits a figure, matching arrivals to plans, and the sentences it writes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.cpu import NCPU, limiting_side
from bench.setting import flag_setting
from bench.stats import HIST_EDGES_MS, dist, histogram, percentile, spread
from bench.summary import shared_machine
from bench.timing import make_plan, match_arrivals
from jobs_client import rfc3339

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def test_percentile_interpolates_between_ranks():
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 90) == pytest.approx(3.7)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


@given(st.lists(finite, min_size=1, max_size=50), st.floats(min_value=0, max_value=100))
def test_percentile_stays_within_the_values_and_grows_with_q(values, q):
    values.sort()
    p = percentile(values, q)
    assert values[0] - 1e-6 <= p <= values[-1] + 1e-6
    assert percentile(values, min(q + 1, 100)) >= p - 1e-6


def test_dist_of_known_values():
    assert dist([5.0, 1.0, 3.0, 2.0, 4.0]) == {
        "n": 5,
        "min": 1.0,
        "p50": 3.0,
        "p90": 4.6,
        "p99": 4.96,
        "max": 5.0,
        "mean": 3.0,
    }
    assert dist([]) == {"n": 0}
    assert dist(x / 3 for x in range(4))["mean"] == 0.5  # any iterable; rounded to 2 places
    assert dist([1 / 3])["p50"] == 0.33


def test_spread_is_median_and_range_ignoring_missing_runs():
    assert spread([3.0, 1.0, 2.0, None, math.nan]) == {
        "median": 2.0,
        "min": 1.0,
        "max": 3.0,
        "runs": 3,
    }
    assert spread([None, math.nan]) == {"median": None, "min": None, "max": None, "runs": 0}


def test_histogram_bins_are_log_spaced_from_0_1_ms_to_100_s():
    assert HIST_EDGES_MS[0] == 0.1
    assert HIST_EDGES_MS[-1] == 100000.0
    assert len(HIST_EDGES_MS) == 61  # ten bins per decade
    counts = histogram([0.15, 1.0, 1.05, 50.0])
    assert len(counts) == 60
    assert sum(counts) == 4
    assert counts[1] == 1  # 0.15 ms: in [0.1259, 0.1585)
    assert counts[10] == 2  # 1.0 and 1.05 ms: in [1, 1.2589)
    assert counts[26] == 1  # 50 ms: in [39.8, 50.1)


def test_histogram_clamps_what_falls_outside_into_the_end_bins():
    counts = histogram([-3.0, 0.0, 0.01, 10**9])
    assert counts[0] == 3
    assert counts[-1] == 1
    assert sum(counts) == 4


def test_rfc3339_names_the_exact_microsecond():
    text, exact = rfc3339(1_700_000_000.1234567)
    assert text == "2023-11-14T22:13:20.123457Z"
    assert exact == pytest.approx(1_700_000_000.123457, abs=1e-6)


def cpu(**cores) -> dict:
    base = {"scheduler": 0.1, "daprd": 0.1, "app": 0.1, "bench": 0.1, "others": 0.0}
    base |= cores
    base.setdefault("machine", sum(base.values()))
    return {"cores": base}


def test_a_saturated_python_app_limits():
    side = limiting_side(cpu(app=0.95))
    assert side["side"] == "app"
    assert side["why"].startswith("app (Python, one core at a time) used 0.95 cores")


def test_a_saturated_client_limits_with_the_hint():
    side = limiting_side(cpu(bench=0.85), client_bound_hint=" (the client)")
    assert side == {
        "side": "client",
        "why": "bench (Python, one core at a time) used 0.85 cores (the client)",
    }


def test_a_full_machine_names_the_largest_user():
    side = limiting_side(cpu(scheduler=1.2, others=0.5, machine=NCPU * 0.95))
    assert side["side"] == "CPU (scheduler largest)"
    assert side["why"].startswith(f"all {NCPU} cores busy: scheduler 1.20")
    others = limiting_side(cpu(others=NCPU, machine=NCPU))
    assert others["side"] == "CPU (other users largest)"


def test_otherwise_the_serial_path_limits():
    side = limiting_side(cpu(app=0.79))
    assert side["side"] == "latency/serial path (no process saturated)"
    assert side["why"].startswith(f"machine at 1.09 of {NCPU} cores")


def test_make_plan_aligned_spread_and_every():
    aligned = make_plan("oneshot", 4, "aligned", 1000.0, repeats=1, samples=0)
    assert len(aligned.jobs) == 4
    assert aligned.expected == 4
    assert {tuple(v) for v in aligned.intended.values()} == {(1000.0,)}
    spread_plan = make_plan("oneshot", 4, "spread", 1000.0, repeats=1, samples=0)
    assert sorted(v[0] for v in spread_plan.intended.values()) == [1000.0, 1000.25, 1000.5, 1000.75]
    every = make_plan("every", 2, "aligned", 1000.0, repeats=3, samples=0)
    assert every.expected == 6
    assert every.last_due == 1002.0
    assert all(body["schedule"] == "@every 1s" and body["repeats"] == 3 for _, body in every.jobs)
    assert all(body["dueTime"] == "1970-01-01T00:16:40.000000Z" for _, body in every.jobs)


def test_match_arrivals_counts_lost_duplicates_and_strays():
    plan = make_plan("oneshot", 3, "aligned", 1000.0, repeats=1, samples=0)
    a, b, _c = plan.intended
    arrivals = [(a, 1000.002), (b, 1000.001), (b, 1000.5), ("someone-else", 1000.0)]
    matched = match_arrivals(plan, arrivals)
    assert matched["lateness_ms"] == pytest.approx([2.0, 1.0])
    assert (matched["lost"], matched["duplicates"], matched["strays"]) == (1, 1, 1)
    assert matched["delivered"] == 3


def test_the_shared_machine_sentence_follows_the_measured_figure():
    quiet = shared_machine({"median": 0.0, "min": 0.0, "max": 0.02, "runs": 9}, 2)
    assert quiet.startswith("Other programs used no measurable CPU")
    assert "0.02 of the 2 cores" in quiet
    busy = shared_machine({"median": 0.34, "min": 0.0, "max": 1.25, "runs": 10}, 2)
    assert busy.startswith("Other programs used a median of 0.34 of the 2 cores (range 0-1.25)")
    assert "only some phases" not in busy
    some = shared_machine({"median": 0.0, "min": 0.0, "max": 0.29, "runs": 10}, 2)
    assert "only some phases saw them" in some
    none = shared_machine({"median": None, "min": None, "max": None, "runs": 0}, 2)
    assert none.startswith("No CPU block")


def test_a_flag_setting_comes_from_the_command_line_or_the_binary(tmp_path):
    fake = tmp_path / "scheduler"
    fake.write_text(
        "#!/bin/sh\necho '      --workers uint32   Workers is the number (default 2048)'\n"
    )
    fake.chmod(0o755)
    assert flag_setting(["--port", "1", "--workers", "8"], fake, "workers") == (
        "8",
        "set on its command line",
    )
    assert flag_setting(["--workers=16"], fake, "workers")[0] == "16"
    assert flag_setting(["--port", "1"], fake, "workers") == (
        "2048",
        "the default `scheduler --help` states",
    )
    assert flag_setting([], fake, "log-level")[0] is None  # --help names no default for it
