"""How big each part of the benchmark is (--smoke, --quick, the full run), and its goals."""

from __future__ import annotations

from dataclasses import dataclass

GOALS = {"lateness_p50_ms": 5.0, "lateness_p99_ms": 25.0, "burst_all_delivered_s": 30.0}


@dataclass(frozen=True)
class Profile:
    """How big each part of the benchmark is."""

    name: str
    repeats: int  # lateness repetitions, each on a fresh scheduler
    lateness_sizes: tuple[int, ...]
    every_repeats: int  # triggers per @every job
    one_at_a_time: int  # samples for "1 concurrent job"
    throughput_n: int  # calls per throughput configuration
    throughput_conc: tuple[int, ...]
    throughput_repeats: int
    scaling_sizes: tuple[int, ...]
    scaling_repeats: int
    compare_receivers: int  # jobs for the job_service vs bench receiver comparison (0: skip)


PROFILES = {
    "smoke": Profile(
        "smoke",
        repeats=1,
        lateness_sizes=(1, 20),
        every_repeats=2,
        one_at_a_time=5,
        throughput_n=40,
        throughput_conc=(4,),
        throughput_repeats=1,
        scaling_sizes=(50, 200),
        scaling_repeats=1,
        compare_receivers=0,
    ),
    "quick": Profile(
        "quick",
        repeats=1,
        lateness_sizes=(1, 100, 1000),
        every_repeats=3,
        one_at_a_time=20,
        throughput_n=300,
        throughput_conc=(1, 4, 16),
        throughput_repeats=1,
        scaling_sizes=(100, 1000, 3000),
        scaling_repeats=1,
        compare_receivers=1000,
    ),
    "full": Profile(
        "full",
        repeats=3,
        lateness_sizes=(1, 100, 1000),
        every_repeats=3,
        one_at_a_time=20,
        throughput_n=500,
        throughput_conc=(1, 4, 16, 64),
        throughput_repeats=2,
        scaling_sizes=(100, 300, 1000, 3000, 10000),
        scaling_repeats=2,
        compare_receivers=1000,
    ),
}
