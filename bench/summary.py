"""Summaries over the repeated runs (median and range of each figure) and the goals."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict

from bench.cpu import NCPU
from bench.profiles import GOALS
from bench.stats import HIST_EDGES_MS, spread


def _limits(items: list[dict], key: str = "limit") -> str:
    sides = sorted({item[key]["side"] for item in items})
    return "; ".join(sides)


def _cores(items: list[dict], key: str = "cpu") -> dict:
    names = items[0][key]["cores"].keys()
    return {n: round(statistics.median(i[key]["cores"][n] for i in items), 2) for n in names}


def summarize(results: dict) -> None:
    """Add per-figure summaries over the repeated runs, and the goals, to `results`."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for run in [results["lateness"]["cold_pool"], *results["lateness"]["runs"]]:
        for case in run:
            groups[(case["kind"], case["concurrent_jobs"], case["mode"])].append(case)
    lateness = []
    for (kind, size, mode), cases in groups.items():
        row = {
            "kind": kind,
            "concurrent_jobs": size,
            "mode": mode,
            "samples": sum(c["lateness_ms"].get("n", 0) for c in cases),
            "expected": sum(c["expected"] for c in cases),
            "lost": sum(c["lost"] for c in cases),
            "duplicates": sum(c["duplicates"] for c in cases),
            "early": sum(c["early"] for c in cases),
            "ahead": sum(c["ahead"] for c in cases),
            "scheduled_after_due": sum(c["scheduled_after_due"] for c in cases),
            "histogram": [sum(col) for col in zip(*(c["histogram"] for c in cases), strict=True)],
            "cores": _cores(cases),
            "limit": _limits(cases),
        }
        for q in ("p50", "p90", "p99", "max"):
            row[q] = spread([c["lateness_ms"].get(q, math.nan) for c in cases])
        lateness.append(row)
    results["lateness"]["summary"] = lateness
    results["lateness"]["histogram_edges_ms"] = HIST_EDGES_MS

    tgroups: dict[tuple, list[dict]] = defaultdict(list)
    for run in results["throughput"]["runs"]:
        for row in run:
            tgroups[(row["op"], row["client"], row["transport"], row["concurrency"])].append(row)
    results["throughput"]["summary"] = [
        {
            "op": op,
            "client": client,
            "transport": transport,
            "concurrency": conc,
            "calls": sum(r["n"] for r in rows),
            "errors": sum(r["errors"] for r in rows),
            "per_s": spread([r["per_s"] for r in rows]),
            "p50_ms": spread([r["p50_ms"] for r in rows]),
            "p99_ms": spread([r["p99_ms"] for r in rows]),
            "cores": _cores(rows),
            "limit": _limits(rows),
        }
        for (op, client, transport, conc), rows in tgroups.items()
    ]

    sgroups: dict[int, list[dict]] = defaultdict(list)
    for run in results["scaling"]["runs"]:
        for point in run:
            sgroups[point["jobs"]].append(point)
    scaling = []
    for size, points in sorted(sgroups.items()):
        scaling.append(
            {
                "jobs": size,
                "runs": len(points),
                "lost": sum(p["lost"] for p in points),
                "duplicates": sum(p["duplicates"] for p in points),
                "early": sum(p["early"] for p in points),
                "ahead": sum(p["ahead"] for p in points),
                "scheduled_after_due": sum(p["scheduled_after_due"] for p in points),
                **{
                    k: spread([p[k] for p in points])
                    for k in (
                        "schedule_s",
                        "schedule_per_s",
                        "first_arrival_ms",
                        "all_delivered_s",
                        "deliver_per_s",
                        "delete_s",
                        "delete_per_s",
                    )
                },
                "lateness_p50_ms": spread([p["lateness_ms"].get("p50") for p in points]),
                "lateness_p99_ms": spread([p["lateness_ms"].get("p99") for p in points]),
                "cpu_ms_per_job": {
                    k: round(statistics.median(p["cpu_ms_per_job"][k] for p in points), 3)
                    for k in ("scheduler", "daprd", "app")
                },
                "rss_mb_loaded": {
                    k: max(p["rss_mb_loaded"][k] for p in points) for k in ("scheduler", "daprd")
                },
                "load_cores": _cores(points, "load_cpu"),
                "load_limit": _limits(points, "load_limit"),
                "deliver_cores": _cores(points, "deliver_cpu"),
                "deliver_limit": _limits(points, "deliver_limit"),
            }
        )
    results["scaling"]["summary"] = scaling
    results["burst"] = scaling[-1] if scaling else {}

    profiles = [c.pop("receiver_profile") for c in results["checks"] if "receiver_profile" in c]
    if profiles:
        results["receiver_profile"] = profiles[0]
    results["goals"] = goals(results)
    others = [c["cpu"]["cores"]["others"] for run in results["lateness"]["runs"] for c in run]
    others += [
        p[k]["cores"]["others"]
        for run in results["scaling"]["runs"]
        for p in run
        for k in ("load_cpu", "deliver_cpu")
    ]
    results["meta"]["others_cores"] = spread(others)
    results["meta"]["shared_machine"] = shared_machine(results["meta"]["others_cores"], NCPU)


# Below this many cores (the 10 ms /proc tick over a window of about a second), the other
# programs' share is indistinguishable from rounding.
QUIET_OTHERS_CORES = 0.05


def shared_machine(others: dict, cores: int) -> str:
    """One sentence on the other programs' CPU during the run, from the measured figure."""
    if not others.get("runs"):
        return "No CPU block of this run measured the other programs on the machine."
    median, low, high = others["median"], others["min"], others["max"]
    if high < QUIET_OTHERS_CORES:
        return (
            f"Other programs used no measurable CPU while the benchmark measured (at most "
            f"{high:g} of the {cores} cores)."
        )
    quiet = median < QUIET_OTHERS_CORES
    return (
        f"Other programs used a median of {median:g} of the {cores} cores (range {low:g}-{high:g})"
        " while the benchmark measured"
        + ("; only some phases saw them" if quiet else "")
        + "; the 'others' figure in every cpu block is their share."
    )


def goals(results: dict) -> list[dict]:
    found = []
    for row in results["lateness"]["summary"]:
        if row["concurrent_jobs"] != 100:
            continue
        for q, limit in (("p50", GOALS["lateness_p50_ms"]), ("p99", GOALS["lateness_p99_ms"])):
            value = row[q]["median"]
            found.append(
                {
                    "goal": f"lateness {q} <= {limit:g} ms, 100 {row['kind']} jobs ({row['mode']})",
                    "value": value,
                    "unit": "ms",
                    "met": value is not None and value <= limit,
                }
            )
    burst = results.get("burst") or {}
    if burst:
        found.append(
            {
                "goal": f"burst of {burst['jobs']}: 0 lost",
                "value": burst["lost"],
                "unit": "jobs",
                "met": burst["lost"] == 0 and burst["duplicates"] == 0,
            }
        )
        worst = burst["all_delivered_s"]["max"]
        found.append(
            {
                "goal": f"burst of {burst['jobs']}: all delivered within "
                f"{GOALS['burst_all_delivered_s']:g} s of the due time",
                "value": worst,
                "unit": "s",
                "met": worst is not None and worst <= GOALS["burst_all_delivered_s"],
            }
        )
    return found
