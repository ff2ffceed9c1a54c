"""Measure the Dapr Jobs runtime on this machine: trigger lateness, scheduling throughput,
a burst of jobs due at the same moment, and how the cost grows from 100 to 10,000 jobs.

    python -m bench            # the full run (`make bench`): about 6 minutes on 2 cores
    python -m bench --quick    # about a minute, smaller sizes, one repetition
    python -m bench --smoke    # seconds; what tests/test_bench_smoke.py runs

Everything runs against the real runtime on loopback: each repetition gets its own scheduler
(`Scheduler.isolated()`, fresh etcd), its own sidecar and a fast receiver app
(`workbook.experiments.bench_receiver`). Every job the benchmark makes is deleted before it stops.
While a phase runs, the CPU time of the scheduler, daprd, the app, the benchmark itself and
the rest of the machine is read from /proc, which is how each figure names the side that
limits it. Results: a table on stdout, JSON (and a Markdown copy) in bench/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path

from bench.burst import burst
from bench.lateness import lateness_case, lateness_cases
from bench.profiles import PROFILES
from bench.receivers import compare_receivers
from bench.report import render_text, write
from bench.setting import machine, settings_text, versions
from bench.stack import Stack
from bench.stats import HIST_EDGES_MS
from bench.summary import summarize
from bench.throughput import throughput
from bench.timing import EARLY_TOLERANCE_MS
from jobs_client import rfc3339
from workbook import config

# What notebook 09 and the smoke test use as `bench.<name>` (from bench import run as bench).
__all__ = ["EARLY_TOLERANCE_MS", "HIST_EDGES_MS", "main", "render_text", "rfc3339", "run_benchmark"]

BENCH_DIR = config.ROOT / "bench"


def run_benchmark(
    profile: str = "full",
    *,
    sections: Iterable[str] | None = None,
    server: str = "raw",
    profile_receiver: bool = False,
    log: Callable[[str], None] = print,
) -> dict:
    """Run the benchmark and return the results (what main() writes as JSON)."""
    prof = PROFILES[profile]
    wanted = set(sections or ("throughput", "lateness", "scaling", "receivers"))
    started = time.time()
    results: dict = {
        "meta": {
            "profile": asdict(prof),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "versions": versions(),
        },
        "lateness": {"runs": [], "cold_pool": []},
        "throughput": {"runs": []},
        "scaling": {"runs": []},
        "receivers": [],
        "checks": [],
    }
    reps = max(prof.repeats, prof.throughput_repeats, prof.scaling_repeats)
    for rep in range(reps):
        with_profile = profile_receiver and rep == 0
        stack = Stack(server=server, profile_receiver=with_profile)
        with stack:
            log(
                f"run {rep + 1}/{reps}: scheduler {stack.scheduler.address}, "
                f"sidecar {stack.sidecar.http_url}, receiver :{stack.app_port} ({server})"
            )
            if rep == 0:
                results["meta"]["settings"] = settings_text(
                    stack,
                    server=server,
                    wanted=wanted,
                    comparison="receivers" in wanted and bool(prof.compare_receivers),
                )
            # The first burst on a new sidecar also opens its connections to the app (daprd
            # keeps up to 64 idle): measured on its own, so the cases below all start warm.
            if "lateness" in wanted and rep < prof.repeats:
                cold = lateness_case(
                    stack, "oneshot", min(max(prof.lateness_sizes), 100), "aligned", prof
                )
                cold["mode"] = "aligned, cold"
                results["lateness"]["cold_pool"].append(cold)
            if "throughput" in wanted and rep < prof.throughput_repeats:
                rows = throughput(stack, prof)
                results["throughput"]["runs"].append(rows)
                log(f"  throughput: {len(rows)} configurations")
            if "lateness" in wanted and rep < prof.repeats:
                cases = []
                for kind, size, mode in lateness_cases(prof):
                    case = lateness_case(stack, kind, size, mode, prof)
                    cases.append(case)
                    lat = case["lateness_ms"]
                    log(
                        f"  lateness {kind:7} {size:>5} {mode:13} p50 {lat.get('p50')} ms "
                        f"p99 {lat.get('p99')} ms lost {case['lost']}"
                    )
                results["lateness"]["runs"].append(cases)
            if "scaling" in wanted and rep < prof.scaling_repeats:
                points = []
                for size in prof.scaling_sizes:
                    point = burst(stack, size)
                    points.append(point)
                    log(
                        f"  burst {size:>6}: loaded in {point['schedule_s']} s, all delivered "
                        f"{point['all_delivered_s']} s after due, lost {point['lost']}"
                    )
                results["scaling"]["runs"].append(points)
            if "receivers" in wanted and rep == 0 and prof.compare_receivers:
                results["receivers"] = compare_receivers(stack, prof.compare_receivers)
        results["checks"].append(stack.last_stop)
    results["meta"]["duration_s"] = round(time.time() - started, 1)
    results["meta"]["load_average_after"] = list(os.getloadavg())
    summarize(results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        action="store_const",
        dest="profile",
        const="quick",
        help="about a minute: smaller sizes, one repetition",
    )
    size.add_argument(
        "--smoke",
        action="store_const",
        dest="profile",
        const="smoke",
        help="seconds: the smallest run that still checks everything",
    )
    parser.add_argument(
        "--only", help="comma-separated sections: throughput, lateness, scaling, receivers"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="JSON file (default bench/results.json for "
        "the full run, bench/results-<profile>.json "
        "otherwise)",
    )
    parser.add_argument(
        "--receiver",
        choices=("raw", "uvicorn"),
        default="raw",
        help="the bench receiver's server (default raw asyncio)",
    )
    parser.add_argument(
        "--profile-receiver",
        action="store_true",
        help="run the receiver under cProfile (first run) and report its "
        "heaviest functions; slows the receiver down",
    )
    args = parser.parse_args(argv)
    profile = args.profile or "full"
    out = args.out or BENCH_DIR / (
        "results.json" if profile == "full" else f"results-{profile}.json"
    )
    sections = args.only.split(",") if args.only else None
    results = run_benchmark(
        profile, sections=sections, server=args.receiver, profile_receiver=args.profile_receiver
    )
    print(render_text(results))
    if "receiver_profile" in results:
        print("\nReceiver profile (own time):")
        for row in results["receiver_profile"]:
            print(
                f"  {row['share']:6.1%}  {row['own_s']:7.3f} s  {row['calls']:>8}  "
                f"{row['function']}"
            )
    write(results, out)
    print(f"\nwrote {out} and {out.with_suffix('.md')} in {results['meta']['duration_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
